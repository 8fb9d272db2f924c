/*
 * The persisted scan memo on a real folder, no daemon: each clearGoFileMemo() stands for the fresh
 * plugin worker Nx starts for every graph computation; Date.now() is moved past the racy window
 * where a test needs the files "old" (a file written a moment ago is read again on purpose).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RACY_WINDOW_MS } from './scan-memo';
import {
  clearGoFileMemo,
  moduleBuildImports,
  moduleImports,
  moduleSummaryPath,
  scanMemoPath,
  scanModuleFiles,
  scanStatFiles,
  walkModuleGoFiles,
  workspaceDataDir,
} from './workspace-files';

let root: string;
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
};
const go = (...imports: string[]) => `package x\n\nimport (\n${imports.map((i) => `\t"${i}"\n`).join('')})\n`;

/** One graph computation the way createNodes does it: walk the modules, scan by stat. */
function computation(roots = ['svc', 'libs/common']) {
  const byRoot = new Map(roots.map((r) => [r, walkModuleGoFiles(root, r, new Set(roots.filter((x) => x.startsWith(`${r}/`))))]));
  return Object.fromEntries(scanStatFiles(root, byRoot).map((f) => [f.file, f.imports.map((i) => i.path)]));
}

/** The .go files the last computation read (not answered from the memo). */
let reads: string[] = [];
/** The per-file memo files read since the last reset. */
let memoReads: string[] = [];
let now: jest.SpyInstance;
const realNow = Date.now.bind(Date);
const later = () => now.mockImplementation(() => realNow() + RACY_WINDOW_MS + 1000);

beforeEach(() => {
  clearGoFileMemo();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-memo-'));
  write('svc/go.mod', 'module example.com/svc\n');
  write('svc/main.go', go('fmt', 'example.com/common/greet'));
  write('svc/store/db.go', go('database/sql'));
  write('svc/vendor/x/x.go', go('never/read'));
  write('libs/common/go.mod', 'module example.com/common\n');
  write('libs/common/greet/greet.go', go('fmt'));
  // The module object itself: `import * as fs` gives read-only bindings (that read through to it).
  const nodeFs = jest.requireActual<typeof fs>('node:fs');
  const readFileSync = nodeFs.readFileSync;
  jest.spyOn(nodeFs, 'readFileSync').mockImplementation(((p: fs.PathOrFileDescriptor, o?: unknown) => {
    if (typeof p === 'string' && p.endsWith('.go')) reads.push(path.relative(root, p));
    if (typeof p === 'string' && p.includes('nx-swarm-go-imports')) memoReads.push(p);
    return (readFileSync as (p: fs.PathOrFileDescriptor, o?: unknown) => string | Buffer)(p, o);
  }) as typeof fs.readFileSync);
  now = jest.spyOn(Date, 'now');
  reads = [];
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

/** From now on (until the mocks are restored): the .go files stat'ed. */
function countGoStats(): string[] {
  const statCalls: string[] = [];
  const nodeFs = jest.requireActual<typeof fs>('node:fs');
  const statSync = nodeFs.statSync;
  jest.spyOn(nodeFs, 'statSync').mockImplementation(((p: string, o?: unknown) => {
    if (String(p).endsWith('.go')) statCalls.push(String(p));
    return (statSync as (p: string, o?: unknown) => fs.Stats)(p, o);
  }) as typeof fs.statSync);
  return statCalls;
}

/** fn with NX_CACHE_PROJECT_GRAPH=false (Nx's switch for its own workspace-data caches). */
function withoutGraphCache(fn: () => void) {
  process.env.NX_CACHE_PROJECT_GRAPH = 'false';
  try {
    fn();
  } finally {
    delete process.env.NX_CACHE_PROJECT_GRAPH;
  }
}

/** A fresh worker: what it scans, and which files it had to read. */
function freshWorker(roots?: string[]) {
  clearGoFileMemo();
  reads = [];
  const scanned = computation(roots);
  return { scanned, reads: [...reads].sort() };
}

describe('the scan memo in workspace-data', () => {
  it("lives in Nx's workspace-data folder (NX_WORKSPACE_DATA_DIRECTORY honoured)", () => {
    expect(workspaceDataDir(root)).toBe(path.join(root, '.nx/workspace-data'));
    const saved = process.env.NX_WORKSPACE_DATA_DIRECTORY;
    process.env.NX_WORKSPACE_DATA_DIRECTORY = 'elsewhere/data';
    try {
      expect(workspaceDataDir(root)).toBe(path.join(root, 'elsewhere/data'));
    } finally {
      if (saved === undefined) delete process.env.NX_WORKSPACE_DATA_DIRECTORY;
      else process.env.NX_WORKSPACE_DATA_DIRECTORY = saved;
    }
  });

  it.each<[string, () => void, string[], Record<string, string[]> | undefined]>([
    ['nothing changed: nothing is read', () => undefined, [], undefined],
    ['an edit (other size)', () => write('svc/main.go', go('fmt')), ['svc/main.go'], { 'svc/main.go': ['fmt'] }],
    [
      'an edit of the same size with the mtime put back (ctime moves)',
      () => {
        const abs = path.join(root, 'svc/store/db.go');
        const st = fs.statSync(abs);
        write('svc/store/db.go', go('database/xyz'));
        fs.utimesSync(abs, st.atime, st.mtime);
      },
      ['svc/store/db.go'],
      { 'svc/store/db.go': ['database/xyz'] },
    ],
    [
      'a file replaced by a rename',
      () => {
        write('svc/main.go.tmp', go('os'));
        fs.renameSync(path.join(root, 'svc/main.go.tmp'), path.join(root, 'svc/main.go'));
      },
      ['svc/main.go'],
      { 'svc/main.go': ['os'] },
    ],
    [
      'a new file',
      () => write('libs/common/greet/more.go', go('strings')),
      ['libs/common/greet/more.go'],
      { 'libs/common/greet/more.go': ['strings'] },
    ],
  ])('%s', (_what, change, expectedReads, changed) => {
    later();
    freshWorker(); // writes the memo
    expect(fs.existsSync(scanMemoPath(root))).toBe(true);
    change();
    const next = freshWorker();
    expect(next.reads).toEqual(expectedReads);
    clearGoFileMemo();
    fs.rmSync(scanMemoPath(root)); // the truth: a scan from nothing
    expect(next.scanned).toEqual(freshWorker().scanned);
    if (changed) expect(next.scanned).toMatchObject(changed);
  });

  it('drops deleted files from the graph and from the memo', () => {
    later();
    freshWorker();
    fs.rmSync(path.join(root, 'svc/store/db.go'));
    const next = freshWorker();
    expect(Object.keys(next.scanned).sort()).toEqual(['libs/common/greet/greet.go', 'svc/main.go']);
    const delta = JSON.parse(fs.readFileSync(scanMemoPath(root).replace(/\.json$/, '.delta.json'), 'utf8'));
    expect(delta.dropped).toEqual(['svc/store/db.go']);
    expect(Object.keys(freshWorker().scanned)).not.toContain('svc/store/db.go');
  });

  it('reads a racy file (changed just before it was read) again, even with an unchanged stat', () => {
    freshWorker(); // every file was written a moment ago: racy
    expect(freshWorker().reads).toEqual(['libs/common/greet/greet.go', 'svc/main.go', 'svc/store/db.go']);
    later();
    freshWorker(); // read again, no longer racy
    expect(freshWorker().reads).toEqual([]);
  });

  it.each<[string, () => void]>([
    ['garbage', () => fs.writeFileSync(scanMemoPath(root), '{"format":')],
    [
      'another format version',
      () => fs.writeFileSync(scanMemoPath(root), fs.readFileSync(scanMemoPath(root), 'utf8').replace('"format":1', '"format":0')),
    ],
    ['a folder in its place', () => (fs.rmSync(scanMemoPath(root)), fs.mkdirSync(scanMemoPath(root)))],
  ])('ignores a memo file that is %s: a full scan, no error', (_what, spoil) => {
    later();
    const first = freshWorker();
    spoil();
    const next = freshWorker();
    expect(next.reads).toEqual(['libs/common/greet/greet.go', 'svc/main.go', 'svc/store/db.go']);
    expect(next.scanned).toEqual(first.scanned);
  });

  it('writes an edit as a small delta beside the base, and workers after it read it', () => {
    later();
    freshWorker();
    const base = fs.readFileSync(scanMemoPath(root), 'utf8');
    write('svc/main.go', go('os'));
    expect(freshWorker().reads).toEqual(['svc/main.go']);
    expect(fs.readFileSync(scanMemoPath(root), 'utf8')).toBe(base); // the base is not rewritten
    const delta = scanMemoPath(root).replace(/\.json$/, '.delta.json');
    expect(fs.statSync(delta).size).toBeLessThan(base.length);
    write('svc/store/db.go', go('database/xyz'));
    expect(freshWorker()).toEqual({
      scanned: expect.objectContaining({ 'svc/main.go': ['os'], 'svc/store/db.go': ['database/xyz'] }),
      reads: ['svc/store/db.go'],
    });
    expect(freshWorker().reads).toEqual([]); // both edits known from base + delta
    fs.writeFileSync(scanMemoPath(root), base.replace(/"id":"[0-9a-f]+"/, '"id":"other"')); // a delta of another base
    expect(freshWorker().reads).toEqual(['svc/main.go', 'svc/store/db.go']);
  });

  it('writes atomically: no temporary file is left behind', () => {
    later();
    freshWorker();
    write('svc/main.go', go('os'));
    freshWorker();
    const names = fs.readdirSync(path.dirname(scanMemoPath(root)));
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('does not read the memo with NX_CACHE_PROJECT_GRAPH=false', () => {
    later();
    freshWorker();
    withoutGraphCache(() => expect(freshWorker().reads).toHaveLength(3));
  });

  it("createDependencies' scan (Nx hashes) reuses what createNodes read in the same worker", () => {
    later();
    clearGoFileMemo();
    computation();
    reads = [];
    const files = ['svc/main.go', 'svc/store/db.go'].map((file) => ({ file, hash: `h-${file}` }));
    const statCalls = countGoStats();
    const scanned = scanModuleFiles(root, new Map([['svc', files]]));
    expect(reads).toEqual([]);
    expect(statCalls).toEqual([]); // the walk's stats serve this computation
    expect(scanned.map((f) => f.file)).toEqual(['svc/main.go', 'svc/store/db.go']);
    write('svc/main.go', go('os')); // a later computation without a walk (never with Nx today): stat, read again
    expect(scanModuleFiles(root, new Map([['svc', files]])).map((f) => f.imports.map((i) => i.path))).toEqual([['os'], ['database/sql']]);
    expect(reads).toEqual(['svc/main.go']);
  });
});

describe('per-module summaries (what createNodes needs: the import paths of each module, non-test and test-only)', () => {
  const roots = ['svc', 'libs/common'];
  /** A fresh worker's createNodes: the walk, then the summaries; which .go files it read, and whether it loaded the per-file memo. */
  function summarise(directReadLimit?: number) {
    clearGoFileMemo();
    reads = [];
    memoReads = [];
    const byRoot = new Map(roots.map((r) => [r, walkModuleGoFiles(root, r, new Set(roots.filter((x) => x.startsWith(`${r}/`))))]));
    const imports = Object.fromEntries(moduleImports(root, byRoot, directReadLimit));
    return { imports, reads: [...reads].sort(), loadedFileMemo: memoReads.length > 0 };
  }
  /** The truth: the same from nothing (no memo files). */
  function fromNothing() {
    fs.rmSync(path.dirname(scanMemoPath(root)), { recursive: true, force: true });
    return summarise().imports;
  }

  beforeEach(() => write('svc/main_test.go', go('testing', 'example.com/only/in/tests')));

  it('lists the import paths of non-test files per module, and those only its test files add, sorted', () => {
    later();
    expect(summarise().imports).toEqual({
      svc: { build: ['database/sql', 'example.com/common/greet', 'fmt'], test: ['example.com/only/in/tests', 'testing'] },
      'libs/common': { build: ['fmt'], test: [] },
    });
    clearGoFileMemo();
    const byRoot = new Map(roots.map((r) => [r, walkModuleGoFiles(root, r, new Set())]));
    expect(Object.fromEntries(moduleBuildImports(root, byRoot))).toEqual({
      svc: ['database/sql', 'example.com/common/greet', 'fmt'],
      'libs/common': ['fmt'],
    });
  });

  it('a test file importing what a non-test file imports adds nothing to the test-only list', () => {
    later();
    write('svc/main_test.go', go('fmt', 'testing'));
    expect(summarise().imports.svc).toEqual({ build: ['database/sql', 'example.com/common/greet', 'fmt'], test: ['testing'] });
  });

  const svcFiles = ['svc/main.go', 'svc/main_test.go', 'svc/store/db.go'];
  // [what, the change, the files read with the per-file memo]
  it.each<[string, () => void, string[]]>([
    ['nothing changed: no .go file and not the per-file memo is read', () => undefined, []],
    ['an edit in one module: that file only', () => write('svc/store/db.go', go('os')), ['svc/store/db.go']],
    ['a new file', () => write('libs/common/greet/more.go', go('strings')), ['libs/common/greet/more.go']],
    ['a deleted file', () => fs.rmSync(path.join(root, 'svc/store/db.go')), []],
    [
      'an edit of a test file (its imports are test and vet inputs only, and the module is summarised again)',
      () => write('svc/main_test.go', go('os')),
      ['svc/main_test.go'],
    ],
  ])('%s', (_what, change, readsWithMemo) => {
    later();
    summarise(0); // writes both memo files
    expect(fs.existsSync(moduleSummaryPath(root))).toBe(true);
    change();
    // More files to read than the limit (here: any): the per-file memo is loaded and answers.
    const viaMemo = summarise(0);
    expect(viaMemo.reads).toEqual(readsWithMemo);
    expect(viaMemo.loadedFileMemo).toBe(readsWithMemo.length > 0 || _what.startsWith('a deleted'));
    expect(viaMemo.imports).toEqual(fromNothing());
  });

  it.each<[string, () => void, string[]]>([
    ['an edit in one module', () => write('svc/store/db.go', go('os')), svcFiles],
    ['a new file', () => write('libs/common/greet/more.go', go('strings')), ['libs/common/greet/greet.go', 'libs/common/greet/more.go']],
    ['a deleted file', () => fs.rmSync(path.join(root, 'svc/store/db.go')), ['svc/main.go', 'svc/main_test.go']],
  ])(
    "few files to read in a process without the memo (%s): the changed module's files are read, the per-file memo is not loaded",
    (_what, change, expectedReads) => {
      later();
      summarise();
      change();
      const next = summarise();
      expect(next.reads).toEqual(expectedReads);
      expect(next.loadedFileMemo).toBe(false);
      expect(next.imports).toEqual(fromNothing());
    },
  );

  it('few files to read, then createDependencies in the same worker: answered from those reads, still without the memo', () => {
    later();
    summarise();
    write('svc/store/db.go', go('os'));
    now.mockImplementation(() => realNow() + RACY_WINDOW_MS + 5000); // the edit is old by now: no racy re-read
    summarise();
    reads = [];
    memoReads = [];
    const files = ['svc/store/db.go', 'svc/main.go'].map((file) => ({ file, hash: `h2-${file}` }));
    const scanned = scanModuleFiles(root, new Map([['svc', files]]));
    expect(scanned.map((f) => [f.file, f.imports.map((i) => i.path)])).toEqual([
      ['svc/store/db.go', ['os']],
      ['svc/main.go', ['fmt', 'example.com/common/greet']],
    ]);
    expect(reads).toEqual([]);
    expect(memoReads).toEqual([]);
    // Many files asked about (a cold start): the memo is loaded.
    clearGoFileMemo();
    scanModuleFiles(root, new Map([['svc', files]]), 0);
    expect(memoReads.length).toBeGreaterThan(0);
  });

  it('does not keep the summary of a module with a racy file: it is summarised again until its files are old', () => {
    summarise(); // every file was written a moment ago
    const again = summarise();
    expect(again.reads).toEqual(['libs/common/greet/greet.go', 'svc/main.go', 'svc/main_test.go', 'svc/store/db.go']);
    later();
    summarise();
    expect(summarise()).toMatchObject({ reads: [], loadedFileMemo: false });
  });

  it.each<[string, () => void]>([
    ['garbage', () => fs.writeFileSync(moduleSummaryPath(root), '{"format":')],
    [
      'of another plugin version',
      () =>
        fs.writeFileSync(
          moduleSummaryPath(root),
          fs.readFileSync(moduleSummaryPath(root), 'utf8').replace(/"plugin":"[^"]*"/, '"plugin":"nx-swarm@0.0.0-other"'),
        ),
    ],
    [
      'of the format before test imports (a flat list per module)',
      () => {
        const raw = JSON.parse(fs.readFileSync(moduleSummaryPath(root), 'utf8'));
        for (const [r, m] of Object.entries(raw.modules as Record<string, [string, string[], string[]]>)) raw.modules[r] = [m[0], ...m[1]];
        fs.writeFileSync(moduleSummaryPath(root), JSON.stringify(raw));
      },
    ],
    [
      'with a broken entry',
      () => fs.writeFileSync(moduleSummaryPath(root), fs.readFileSync(moduleSummaryPath(root), 'utf8').replace(/"svc":\[/, '"svc":[7,')),
    ],
  ])('ignores a summary file that is %s (the per-file memo answers)', (_what, spoil) => {
    later();
    const first = summarise(0);
    spoil();
    const next = summarise(0);
    expect(next.imports).toEqual(first.imports);
    expect(next.reads).toEqual([]); // the files are unchanged: the per-file memo still knows them
  });

  it('drops the summary of a module that is gone', () => {
    later();
    summarise();
    clearGoFileMemo();
    const byRoot = new Map([['svc', walkModuleGoFiles(root, 'svc', new Set())]]);
    moduleBuildImports(root, byRoot);
    expect(Object.keys(JSON.parse(fs.readFileSync(moduleSummaryPath(root), 'utf8')).modules)).toEqual(['svc']);
  });

  it('does not read the summaries with NX_CACHE_PROJECT_GRAPH=false', () => {
    later();
    summarise();
    withoutGraphCache(() => expect(summarise().reads).toHaveLength(4));
  });

  it("leaves the walk's stats for createDependencies in the same worker", () => {
    later();
    summarise(0);
    clearGoFileMemo();
    const byRoot = new Map(roots.map((r) => [r, walkModuleGoFiles(root, r, new Set())]));
    moduleBuildImports(root, byRoot);
    const statCalls = countGoStats();
    reads = [];
    const files = ['svc/main.go', 'svc/store/db.go'].map((file) => ({ file, hash: `h-${file}` }));
    expect(scanModuleFiles(root, new Map([['svc', files]]), 0).map((f) => f.file)).toEqual(['svc/main.go', 'svc/store/db.go']);
    expect(statCalls).toEqual([]);
    expect(reads).toEqual([]);
  });
});
