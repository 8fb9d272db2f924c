import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeForward, sharedControlDir } from './ssh-transport';

describe('sharedControlDir: where kept ssh control sockets live', () => {
  let base: string;
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'nxs-xdg-'));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));
  const uid = process.getuid!();

  it('is a 0700 folder of this user under XDG_RUNTIME_DIR', () => {
    const dir = sharedControlDir({ XDG_RUNTIME_DIR: base })!;
    expect(dir).toBe(path.join(base, `nx-swarm-ssh-${uid}`));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(sharedControlDir({ XDG_RUNTIME_DIR: base })).toBe(dir); // again: the same, still checked
  });

  it.each<[string, (dir: string) => void]>([
    ['others can open it', (dir) => fs.mkdirSync(dir, { mode: 0o755 })],
    ['it is a symlink', (dir) => fs.symlinkSync(base, dir)],
    ['it is a file', (dir) => fs.writeFileSync(dir, '')],
  ])('is refused (no kept connection) when %s', (_name, make) => {
    const dir = path.join(base, `nx-swarm-ssh-${uid}`);
    make(dir);
    if (fs.lstatSync(dir).isDirectory()) fs.chmodSync(dir, 0o755);
    expect(sharedControlDir({ XDG_RUNTIME_DIR: base })).toBeUndefined();
  });
});

describe('probeForward: is the kept master forward to the remote engine usable', () => {
  let dir: string;
  let server: net.Server | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxs-fwd-'));
  });
  const open = new Set<net.Socket>();
  afterEach(async () => {
    for (const s of open) s.destroy();
    open.clear();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const serve = (onConnection: (socket: net.Socket) => void) =>
    new Promise<string>((resolve) => {
      const socketPath = path.join(dir, 'cm-1.sock');
      server = net
        .createServer((s) => {
          open.add(s);
          s.on('error', () => undefined);
          onConnection(s);
        })
        .listen(socketPath, () => resolve(socketPath));
    });

  it.each<[string, (socket: net.Socket) => void, boolean, boolean]>([
    [
      'an engine answers /_ping',
      (s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK')),
      true,
      false,
    ],
    ['a chunked OK', (s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n')), true, false],
    ['the master takes the connection and the remote refuses the channel (ssh closes it)', (s) => s.end(), false, true],
    ['something else answers', (s) => s.once('data', () => s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')), false, true],
  ])('%s', async (_what, behave, usable, refused) => {
    const socketPath = await serve(behave);
    expect(await probeForward(socketPath)).toBe(usable ? socketPath : undefined);
    expect(fs.existsSync(socketPath)).toBe(usable); // an unusable forward is removed
    expect(fs.existsSync(`${socketPath}.refused`)).toBe(refused);
  });

  it('no forward yet, or one whose master is gone (nobody listens): undefined, not remembered as refused', async () => {
    const socketPath = path.join(dir, 'cm-1.sock');
    expect(await probeForward(socketPath)).toBeUndefined();
    const stale = await serve(() => undefined);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    fs.writeFileSync(stale, ''); // the socket file of a master that exited (a plain file: connect fails)
    expect(await probeForward(stale)).toBeUndefined();
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(`${stale}.refused`)).toBe(false);
  });
});
