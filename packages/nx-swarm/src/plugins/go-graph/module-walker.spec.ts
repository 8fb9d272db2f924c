/*
 * The module walker on a real folder with real watches (inotify through fs.watch), no daemon: each
 * walk() stands for one graph computation in a long-lived process. Date.now() is moved past the racy
 * window so that files written by the test are "old" (a racy module is walked again on purpose).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RACY_WINDOW_MS, statKeyOf } from './scan-memo';
import { statKey } from './workspace-files';
import { maxEventsBetween, ModuleWalker, watchDirWithFs, type ModuleWalkerSeams, type WatchDir } from './module-walker';

const ROOTS = ['svc', 'libs/common', 'libs/other'];
let root: string;
let walker: ModuleWalker | undefined;
const write = (file: string, text = 'package x\n') => {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
};
const append = (file: string) => fs.appendFileSync(path.join(root, file), '// edited\n');
const realNow = Date.now.bind(Date);

function seams(overrides: Partial<ModuleWalkerSeams> = {}): ModuleWalkerSeams {
  return {
    watchDir: watchDirWithFs,
    statDir: statKey,
    checkFolderStats: true,
    barrierDir: path.join(root, '.nx/workspace-data'),
    barrierTimeoutMs: 3000,
    maxEventsBetween: 1000,
    ...overrides,
  };
}

function make(watching = true, overrides: Partial<ModuleWalkerSeams> = {}): ModuleWalker {
  walker = new ModuleWalker(root, watching, seams(overrides));
  return walker;
}

const files = (byRoot: Map<string, { file: string }[]>, r: string) => (byRoot.get(r) ?? []).map((f) => f.file).sort();

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-walker-'));
  write('svc/main.go');
  write('svc/store/db.go');
  write('svc/vendor/x/x.go');
  write('libs/common/greet/greet.go');
  write('libs/other/other.go');
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + RACY_WINDOW_MS + 1000);
});
afterEach(() => {
  walker?.close();
  walker = undefined;
  jest.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('ModuleWalker in a long-lived process (watching)', () => {
  // One walker through a sequence of edits; each row: what the user does, which modules are walked again.
  const steps: [string, () => void, string[]][] = [
    ['nothing changed', () => undefined, []],
    ['a file edited in place', () => append('libs/common/greet/greet.go'), ['libs/common']],
    ['a file added in a new folder', () => write('svc/api/handler.go'), ['svc']],
    ['a file in that new folder edited', () => append('svc/api/handler.go'), ['svc']],
    ['a file renamed', () => fs.renameSync(path.join(root, 'libs/other/other.go'), path.join(root, 'libs/other/renamed.go')), ['libs/other']],
    ['a folder removed', () => fs.rmSync(path.join(root, 'svc/api'), { recursive: true }), ['svc']],
    [
      'a folder removed and made again under the same name',
      () => (fs.rmSync(path.join(root, 'svc/store'), { recursive: true }), write('svc/store/db.go')),
      ['svc'],
    ],
    ['a file in that folder edited in place (the new folder is watched)', () => append('svc/store/db.go'), ['svc']],
    ['a file under vendor/ (never walked)', () => append('svc/vendor/x/x.go'), []],
    ['two modules edited', () => (append('svc/main.go'), append('libs/other/renamed.go')), ['svc', 'libs/other']],
    ['nothing changed again', () => undefined, []],
  ];

  // Both ways: with the folder stats (not Linux) and on events alone (Linux: inotify loses none but on overflow).
  it.each([true, false])('walks only the modules with changes, and returns what is on disk (folder stats checked: %s)', async (checkFolderStats) => {
    const w = make(true, { checkFolderStats });
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(ROOTS);
    expect(w.isWatching).toBe(true);
    for (const [what, act, walked] of steps) {
      act();
      const byRoot = await w.walk(ROOTS);
      expect({ what, walked: w.lastWalked }).toEqual({ what, walked });
      // Always the same answer as a fresh walk.
      const fresh = await new ModuleWalker(root, false, seams()).walk(ROOTS);
      for (const r of ROOTS) expect({ what, r, files: files(byRoot, r) }).toEqual({ what, r, files: files(fresh, r) });
      for (const r of ROOTS) {
        expect(byRoot.get(r)!.map((f) => f.stat)).toEqual(fresh.get(r)!.map((f) => f.stat));
      }
    }
  });

  it('walks everything again when the set of modules changes (a nested module appears)', async () => {
    const w = make();
    await w.walk(ROOTS);
    write('svc/store/go.mod', 'module example.com/store\n');
    const byRoot = await w.walk([...ROOTS, 'svc/store']);
    expect(w.lastWalked).toEqual([...ROOTS, 'svc/store']);
    expect(files(byRoot, 'svc')).toEqual(['svc/main.go']);
    expect(files(byRoot, 'svc/store')).toEqual(['svc/store/db.go']);
    append('svc/store/db.go');
    await w.walk([...ROOTS, 'svc/store']);
    expect(w.lastWalked).toEqual(['svc/store']);
  });

  it('a module with a racy file (written within the racy window of the walk) is walked again next time', async () => {
    const w = make();
    await w.walk(ROOTS);
    (Date.now as jest.Mock).mockImplementation(() => realNow());
    append('libs/other/other.go');
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(['libs/other']);
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(['libs/other']);
  });

  it("a folder's changed stat makes its module walked even when its event was lost", async () => {
    // Events of libs/other are dropped, as a full inotify queue would.
    const deaf: WatchDir = (abs, onEvent, onError) => watchDirWithFs(abs, abs.endsWith('libs/other') ? () => undefined : onEvent, onError);
    const w = make(true, { watchDir: deaf });
    await w.walk(ROOTS);
    write('libs/other/new.go');
    const byRoot = await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(['libs/other']);
    expect(files(byRoot, 'libs/other')).toEqual(['libs/other/new.go', 'libs/other/other.go']);
  });

  it('on events alone (Linux), a computation with nothing changed stats no folder', async () => {
    const statDir = jest.fn(statKey);
    const w = make(true, { statDir, checkFolderStats: false });
    await w.walk(ROOTS);
    expect(statDir).toHaveBeenCalled(); // the first walk: each folder's key for its watch
    statDir.mockClear();
    await w.walk(ROOTS);
    expect({ walked: w.lastWalked, kept: [...w.lastKept] }).toEqual({ walked: [], kept: ROOTS });
    expect(statDir).not.toHaveBeenCalled();
    append('svc/store/db.go');
    await w.walk(ROOTS);
    expect({ walked: w.lastWalked, kept: [...w.lastKept] }).toEqual({ walked: ['svc'], kept: ['libs/common', 'libs/other'] });
  });

  it('two walks at once each wait for their own barrier, and both see an edit made before them', async () => {
    const w = make();
    await w.walk(ROOTS);
    append('libs/common/greet/greet.go');
    const [a, b] = await Promise.all([w.walk(ROOTS), w.walk(ROOTS)]);
    expect(w.isWatching).toBe(true);
    const stat = fs.statSync(path.join(root, 'libs/common/greet/greet.go'));
    for (const byRoot of [a, b]) expect(byRoot.get('libs/common')!.map((f) => f.stat)).toEqual([statKeyOf(stat)]);
  });

  it('more events between two computations than the queue may hold: one full walk, then watching again', async () => {
    const w = make(true, { maxEventsBetween: 5 });
    await w.walk(ROOTS);
    for (let i = 0; i < 10; i++) write(`svc/f${i}.go`);
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(ROOTS);
    append('libs/common/greet/greet.go');
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(['libs/common']);
    expect(w.isWatching).toBe(true);
  });
});

describe('ModuleWalker falls back to walking everything', () => {
  it('outside the daemon: no watches, every walk reads every module', async () => {
    const watchDir = jest.fn(watchDirWithFs);
    const w = make(false, { watchDir });
    await w.walk(ROOTS);
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(ROOTS);
    expect(watchDir).not.toHaveBeenCalled();
    expect(w.isWatching).toBe(false);
  });

  it('when the barrier event never comes (a file system without events): after its timeout, for good', async () => {
    const silentBarrier: WatchDir = (abs, onEvent, onError) =>
      abs.endsWith('workspace-data') ? { close: () => undefined } : watchDirWithFs(abs, onEvent, onError);
    const w = make(true, { watchDir: silentBarrier, barrierTimeoutMs: 50 });
    await w.walk(ROOTS);
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(ROOTS);
    expect(w.isWatching).toBe(false);
    append('svc/main.go');
    const byRoot = await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(ROOTS);
    expect(files(byRoot, 'svc')).toEqual(['svc/main.go', 'svc/store/db.go']);
  });

  it('when a watch cannot be set up (ENOSPC: the inotify watch limit)', async () => {
    let n = 0;
    const limited: WatchDir = (abs, onEvent, onError) => {
      if (++n > 3) throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
      return watchDirWithFs(abs, onEvent, onError);
    };
    const w = make(true, { watchDir: limited });
    const first = await w.walk(ROOTS);
    expect(w.isWatching).toBe(false);
    expect(files(first, 'svc')).toEqual(['svc/main.go', 'svc/store/db.go']);
    append('libs/other/other.go');
    await w.walk(ROOTS);
    expect(w.lastWalked).toEqual(ROOTS);
  });
});

describe('maxEventsBetween: the event count past which an inotify queue may have overflowed', () => {
  const rows: [string, () => string, number][] = [
    ['the default queue (16384)', () => '16384\n', 4096],
    ['a larger queue: still 4096', () => '1048576\n', 4096],
    ['a small queue: half of it', () => '1000\n', 500],
    [
      'unreadable (not Linux)',
      () => {
        throw new Error('ENOENT');
      },
      4096,
    ],
    ['garbage', () => 'x', 4096],
    ['zero', () => '0', 4096],
  ];
  it.each(rows)('%s', (_what, read, expected) => expect(maxEventsBetween(read)).toBe(expected));
});
