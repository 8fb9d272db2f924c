import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sharedControlDir } from './ssh-transport';

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
