/*
 * The Go facts server: the pure parts in tables, the server itself over a real Unix socket in a
 * temporary folder, with an injected computation (no Nx, no daemon).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  askFactsServer,
  FACTS_PROTOCOL,
  factsServerArgs,
  factsSocketPath,
  mayStartServer,
  parseRequest,
  parseResponse,
  runFactsServer,
  spawnedByDaemon,
  startFactsServer,
  type FactsServerSeams,
  type StartSeams,
  type ModuleFolderFacts,
} from './facts-server';

const folder = (name: string, buildDeps?: string[]): ModuleFolderFacts => ({
  projectJson: { hasProjectJson: false, projectName: name },
  isService: false,
  facts: { path: `example.com/${name}`, diagnostics: [], ...(buildDeps ? { buildDeps, testDeps: buildDeps } : {}) },
});

describe('factsSocketPath', () => {
  it.each([
    ['a short workspace-data path: the socket is in it', '/ws/.nx/workspace-data', 'linux', '/ws/.nx/workspace-data/nx-swarm-go.sock'],
    [
      'too long for a Unix socket: a short name in the temp folder',
      `/${'x'.repeat(90)}/.nx/workspace-data`,
      'linux',
      /^\/tmp\/nx-swarm-go-[0-9a-f]{16}\.sock$/,
    ],
    ['Windows: a named pipe', 'C:\\ws\\.nx\\workspace-data', 'win32', /^\\\\\.\\pipe\\nx-swarm-go-[0-9a-f]{16}$/],
  ] as const)('%s', (_what, dataDir, platform, expected) => {
    const p = factsSocketPath(dataDir, '/ws', platform, '/tmp');
    if (typeof expected === 'string') expect(p).toBe(expected);
    else expect(p).toMatch(expected);
  });

  it('gives two workspaces two names', () => {
    const long = `/${'x'.repeat(90)}/.nx/workspace-data`;
    expect(factsSocketPath(long, '/ws/a', 'linux', '/tmp')).not.toBe(factsSocketPath(long, '/ws/b', 'linux', '/tmp'));
  });
});

describe('the messages', () => {
  it.each([
    [
      'a request',
      JSON.stringify({ protocol: FACTS_PROTOCOL, version: 'v', roots: ['a', 'b'] }),
      { protocol: FACTS_PROTOCOL, version: 'v', roots: ['a', 'b'] },
    ],
    ['another protocol', JSON.stringify({ protocol: FACTS_PROTOCOL + 1, version: 'v', roots: [] }), undefined],
    ['roots that are not strings', JSON.stringify({ protocol: FACTS_PROTOCOL, version: 'v', roots: [1] }), undefined],
    ['no version', JSON.stringify({ protocol: FACTS_PROTOCOL, roots: [] }), undefined],
    ['not JSON', 'hello', undefined],
  ])('parseRequest: %s', (_what, line, expected) => expect(parseRequest(line)).toEqual(expected));

  const ok = { ok: true, modules: { a: folder('a', ['b']), b: folder('b') } };
  it.each([
    ['every root answered', ok, ['a', 'b'], ok.modules],
    ['a root missing: nothing is taken', ok, ['a', 'b', 'c'], undefined],
    ['not ok', { ok: false, reason: 'boom' }, ['a'], undefined],
    ['a module without facts', { ok: true, modules: { a: { ...folder('a'), facts: undefined } } }, ['a'], undefined],
    ['build deps that are not names', { ok: true, modules: { a: { ...folder('a'), facts: { diagnostics: [], buildDeps: [1] } } } }, ['a'], undefined],
    ['no project name', { ok: true, modules: { a: { ...folder('a'), projectJson: { hasProjectJson: false } } } }, ['a'], undefined],
  ])('parseResponse: %s', (_what, response, roots, expected) => expect(parseResponse(JSON.stringify(response), roots)).toEqual(expected));

  it('parseResponse: not JSON', () => expect(parseResponse('{"ok":tr', ['a'])).toBeUndefined());
});

describe('mayStartServer: at most one start a minute per workspace', () => {
  it.each([
    ['never started', undefined, 1_000_000, true],
    ['started 10 s ago (it may be starting, or unable to listen here)', 990_000, 1_000_000, false],
    ['started a minute ago', 940_000, 1_000_000, true],
    ['a marker from the future (a clock set back)', 2_000_000, 1_000_000, true],
  ] as const)('%s', (_what, last, now, expected) => expect(mayStartServer(last, now)).toBe(expected));
});

describe('factsServerArgs', () => {
  const many = Array.from({ length: 2000 }, (_, i) => `libs/module-${i}`);
  it.each([
    ['the roots to warm up with', ['a', 'b/c'], ['/p/main.js', '/ws', '4242', 'v1', '["a","b/c"]']],
    ['no roots', [], ['/p/main.js', '/ws', '4242', 'v1', '[]']],
    ['roots too long for a command line: left out (the server warms up on its first question)', many, ['/p/main.js', '/ws', '4242', 'v1']],
  ] as const)('%s', (_what, roots, expected) => expect(factsServerArgs('/p/main.js', '/ws', 4242, 'v1', [...roots])).toEqual(expected));
});

describe('startFactsServer: at most once a minute, never throws', () => {
  const req = { dataDir: '/ws/.nx/workspace-data', workspaceRoot: '/ws', daemonPid: 4242, version: 'v1', roots: ['a'], mainPath: '/p/main.js' };
  const run = (lastStarted: number | undefined, fail?: 'spawn' | 'marker') => {
    const calls: string[] = [];
    const seams: StartSeams = {
      now: () => 1_000_000,
      lastStarted: () => lastStarted,
      markStarted: () => {
        if (fail === 'marker') throw new Error('EROFS');
        calls.push('marked');
      },
      spawn: (_exec, args, env) => {
        if (fail === 'spawn') throw new Error('EAGAIN');
        calls.push(`spawned ${args.join(' ')} watch=${env.NX_SWARM_GO_WATCH}`);
        return 777;
      },
    };
    return { pid: startFactsServer(req, seams), calls };
  };
  it.each([
    ['never started: marks, then spawns with watching on', undefined, undefined, 777, ['marked', 'spawned /p/main.js /ws 4242 v1 ["a"] watch=true']],
    ['started 10 s ago: nothing', 990_000, undefined, undefined, []],
    ['started two minutes ago: again', 880_000, undefined, 777, ['marked', 'spawned /p/main.js /ws 4242 v1 ["a"] watch=true']],
    ['the marker cannot be written (read-only workspace-data): no start', undefined, 'marker', undefined, []],
    ['spawn throws: undefined, no exception', undefined, 'spawn', undefined, ['marked']],
  ] as const)('%s', (_what, last, fail, pid, calls) => expect(run(last, fail)).toEqual({ pid, calls }));
});

describe('spawnedByDaemon: only a worker whose parent is the daemon named in server-process.json', () => {
  const daemonFile =
    (pid: number): (() => string) =>
    () =>
      `{"processId":${pid},"nxVersion":"23.2.1"}`;
  const rows: [string, () => string, number, number | undefined][] = [
    ['the daemon is the parent', daemonFile(4242), 4242, 4242],
    ['another parent (a CLI spawned the worker)', daemonFile(4242), 777, undefined],
    [
      'no daemon (no file)',
      () => {
        throw new Error('ENOENT');
      },
      4242,
      undefined,
    ],
    ['a broken file', () => '{', 4242, undefined],
    ['init as parent (the daemon is gone)', daemonFile(1), 1, undefined],
  ];
  it.each(rows)('%s', (_what, read, ppid, expected) => expect(spawnedByDaemon('/ws/.nx/workspace-data', ppid, read)).toBe(expected));
});

describe('runFactsServer over a real socket', () => {
  let dir: string;
  let socketPath: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-facts-'));
    socketPath = path.join(dir, 'nx-swarm-go.sock');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function start(overrides: Partial<FactsServerSeams> = {}) {
    const asked: string[][] = [];
    let alive = true;
    const seams: FactsServerSeams = {
      socketPath,
      version: 'build-1',
      compute: async (roots) => (asked.push(roots), Object.fromEntries(roots.map((r) => [r, folder(r, [`dep-of-${r}`])]))),
      daemonAlive: () => alive,
      checkEveryMs: 20,
      idleMs: 60_000,
      ...overrides,
    };
    const stopped = runFactsServer(seams);
    return { asked, stopped, kill: () => (alive = false) };
  }
  const ask = (roots: string[], version = 'build-1') => askFactsServer(socketPath, { protocol: FACTS_PROTOCOL, version, roots }, 2000);
  const listening = async () => {
    for (let i = 0; i < 100 && !fs.existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('no server: the worker is told there is none (and starts one)', async () => {
    expect(await ask(['a'])).toEqual({ absent: true });
  });

  it('answers with the computation, computes the warm-up before the first question, stops when the daemon is gone', async () => {
    const s = start({ warmUp: ['a', 'b'] });
    await listening();
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(await ask(['a', 'b'])).toEqual({ modules: { a: folder('a', ['dep-of-a']), b: folder('b', ['dep-of-b']) }, absent: false });
    expect(s.asked).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    s.kill();
    expect(await s.stopped).toBe('the daemon is gone');
    expect(fs.existsSync(socketPath)).toBe(false);
    expect(await ask(['a'])).toEqual({ absent: true });
  });

  it('while it warms up, a worker is told no at once (it computes by itself); afterwards it answers', async () => {
    let release: () => void = () => undefined;
    const computed: string[][] = [];
    const s = start({
      warmUp: ['a'],
      compute: async (roots) => {
        computed.push(roots);
        if (computed.length === 1) await new Promise<void>((r) => (release = r));
        return Object.fromEntries(roots.map((r) => [r, folder(r)]));
      },
    });
    await listening();
    const t0 = Date.now();
    expect(await ask(['a'])).toEqual({ modules: undefined, absent: false });
    expect(Date.now() - t0).toBeLessThan(1000); // told at once, not after the 2 s timeout
    release();
    for (let i = 0; i < 50 && (await ask(['a'])).modules === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await ask(['a'])).modules).toEqual({ a: folder('a') });
    expect(computed[0]).toEqual(['a']); // the warm-up; the question told no was not queued behind it
    s.kill();
    await s.stopped;
  });

  it('a worker of another build: no answer, the server stops, and the worker starts a new one', async () => {
    const s = start();
    await listening();
    expect(await ask(['a'], 'build-2')).toEqual({ absent: true });
    expect(await s.stopped).toBe('a worker of another plugin build asked');
    expect(s.asked).toEqual([]);
  });

  it('a failing computation: the worker computes by itself, the server stays', async () => {
    const s = start({
      compute: async () => {
        throw new Error('boom');
      },
    });
    await listening();
    expect(await ask(['a'])).toEqual({ modules: undefined, absent: false });
    s.kill();
    await s.stopped;
  });

  it('stops when its socket is removed (nx reset), and when idle', async () => {
    const a = start();
    await listening();
    fs.rmSync(socketPath);
    expect(await a.stopped).toBe('its socket was removed (nx reset)');
    const b = start({ idleMs: 50 });
    expect(await b.stopped).toBe('idle');
  });

  it('a second server leaves the running one be', async () => {
    const a = start();
    await listening();
    expect(
      await runFactsServer({ socketPath, version: 'build-1', compute: async () => ({}), daemonAlive: () => true, checkEveryMs: 20, idleMs: 1000 }),
    ).toBe('another server is running');
    expect((await ask(['x'])).modules).toEqual({ x: folder('x', ['dep-of-x']) });
    a.kill();
    await a.stopped;
  });

  it('a stale socket file (a server that was killed) is replaced', async () => {
    fs.writeFileSync(socketPath, '');
    const s = start();
    await new Promise((r) => setTimeout(r, 100));
    expect((await ask(['a'])).modules).toEqual({ a: folder('a', ['dep-of-a']) });
    s.kill();
    await s.stopped;
  });

  it('a server that does not answer in time: the worker goes on by itself', async () => {
    let release: (v: Record<string, ModuleFolderFacts>) => void = () => undefined;
    const s = start({ compute: () => new Promise((r) => (release = r)) });
    await listening();
    expect(await askFactsServer(socketPath, { protocol: FACTS_PROTOCOL, version: 'build-1', roots: ['a'] }, 100)).toEqual({ absent: false });
    release({});
    s.kill();
    await s.stopped;
  });
});
