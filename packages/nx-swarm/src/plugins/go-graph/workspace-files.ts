/**
 * The file-system edge of the Go graph, in one place: reads go.mod, go.work and the import blocks of
 * .go files. Import scans are memoised per file by a stat fingerprint (size, mtime, ctime, inode; see
 * scan-memo.ts) in a memo that is kept in Nx's workspace-data folder: Nx starts a fresh plugin worker
 * for every graph computation, so a daemon that recomputes the graph after one edit reads one file
 * again, not ten thousand. go.mod and go.work parses are memoised in memory (a few hundred files).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileData, ProjectConfiguration, ProjectFileMap } from '@nx/devkit';
import { parseGoMod, parseGoWork, type GoMod } from './go-mod';
import { scanGoImports, type GoFileImports } from './imports';
import { isModuleGoFile, isTestFile, type ScannedGoFile } from './dependencies';
import type { GoModule, GoWorkFile } from './resolver';
import {
  applyScanMemoDelta,
  decodeScanMemo,
  encodeScanMemo,
  encodeScanMemoDelta,
  isRacy,
  SCAN_MEMO_FORMAT,
  ScanMemo,
  statKeyOf,
  type ScanMemoHeader,
} from './scan-memo';

const memo = new Map<string, { key: string; value: unknown }>();

/** `compute()` once per (file, key): the key is a content hash or a stat fingerprint. */
function remember<T>(file: string, key: string, compute: () => T): T {
  const hit = memo.get(file);
  if (hit && hit.key === key) return hit.value as T;
  const value = compute();
  memo.set(file, { key, value });
  return value;
}

/** statKeyOf() of a file or folder, undefined when it is gone. */
export function statKey(abs: string): string | undefined {
  try {
    // No exception for a missing file: findGoWorks asks about a go.work in every folder above every module.
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    return st ? statKeyOf(st) : undefined;
  } catch {
    return undefined; // ENOTDIR, EACCES: as good as gone
  }
}

function readText(abs: string): string {
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch {
    return '';
  }
}

const join = (dir: string, name: string) => (dir === '.' ? name : `${dir}/${name}`);

/** Parsed go.mod of a module folder, by stat fingerprint (createNodes has no file hashes). */
export function readGoModAt(workspaceRoot: string, root: string, hash?: string) {
  const abs = path.join(workspaceRoot, root, 'go.mod');
  const key = hash ?? statKey(abs) ?? 'missing';
  return remember(`mod:${abs}`, key, () => parseGoMod(readText(abs)));
}

/**
 * What another process (the Go facts server) read of a go.mod under this stat key: taken as this
 * process's own read, so createDependencies does not read and parse it again while the stat is the same.
 */
export function seedGoMod(workspaceRoot: string, root: string, key: string, goMod: GoMod): void {
  memo.set(`mod:${path.join(workspaceRoot, root, 'go.mod')}`, { key, value: goMod });
}

/** Every go.work in the folders above (and at) the given module roots, up to the workspace root. */
export function findGoWorks(workspaceRoot: string, roots: string[]): GoWorkFile[] {
  const dirs = new Set<string>();
  for (const root of roots) {
    let dir = root;
    for (;;) {
      dirs.add(dir);
      if (dir === '.') break;
      const parent = path.posix.dirname(dir);
      dir = parent === dir ? '.' : parent;
    }
  }
  const works: GoWorkFile[] = [];
  for (const dir of [...dirs].sort()) {
    const abs = path.join(workspaceRoot, dir, 'go.work');
    const key = statKey(abs);
    if (!key) continue;
    works.push({ dir, work: remember(`work:${abs}`, key, () => parseGoWork(readText(abs))) });
  }
  return works;
}

/** The Go modules among Nx's projects (a project whose root holds a go.mod), with their files. */
export function goModulesFromProjects(
  workspaceRoot: string,
  projects: Record<string, ProjectConfiguration>,
  projectFileMap: ProjectFileMap,
  /** The files to scan (Nx's filesToProcess); default: all of projectFileMap. */
  toProcess: ProjectFileMap = projectFileMap,
): { modules: GoModule[]; filesByRoot: Map<string, FileData[]> } {
  const modules: GoModule[] = [];
  const filesByRoot = new Map<string, FileData[]>();
  for (const [key, config] of Object.entries(projects)) {
    const root = (config.root ?? key).replace(/\/$/, '') || '.';
    const name = config.name ?? key;
    const files = projectFileMap[name] ?? [];
    const goModFile = files.find((f) => f.file === join(root, 'go.mod'));
    if (!goModFile) continue;
    // By stat, like createNodes: one parsed object per go.mod version (the resolver cache keys on it).
    modules.push({ root, project: name, goMod: readGoModAt(workspaceRoot, root) });
    filesByRoot.set(root, toProcess[name] ?? []);
  }
  return { modules, filesByRoot };
}

/** A .go file found by walking a module folder: its stat fingerprint, and whether it is racy (scan-memo.ts). */
export interface GoFileStat {
  file: string;
  stat: string;
  racy: boolean;
}

function statFile(workspaceRoot: string, file: string): GoFileStat | undefined {
  try {
    const st = fs.statSync(path.join(workspaceRoot, file));
    return { file, stat: statKeyOf(st), racy: isRacy(st, Date.now()) };
  } catch {
    return undefined;
  }
}

// --- the persisted scan memo -------------------------------------------------------------------------

const MEMO_FILE = 'nx-swarm-go-imports.json';
let header: ScanMemoHeader | undefined;

/** Format, plugin version, and a hash of the scanner's code (a changed scanner never reuses old scans). */
function memoHeader(): ScanMemoHeader {
  if (header) return header;
  let plugin = 'nx-swarm@unknown';
  let scanner = 'unknown';
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { name?: string; version?: string };
    plugin = `${pkg.name}@${pkg.version}`;
  } catch {
    /* an unknown version still invalidates on the scanner hash */
  }
  try {
    scanner = createHash('sha256')
      .update(fs.readFileSync(path.join(__dirname, `imports${path.extname(__filename)}`)))
      .digest('hex')
      .slice(0, 16);
  } catch {
    /* 'unknown': matches only a memo written by this same build */
  }
  return (header = { format: SCAN_MEMO_FORMAT, plugin, scanner });
}

/**
 * Nx's workspace-data folder of this workspace (what `nx reset` clears): Nx's own function when this
 * Nx has it (it honours NX_WORKSPACE_DATA_DIRECTORY), else the same rule by hand.
 */
export function workspaceDataDir(workspaceRoot: string): string {
  try {
    const nx = require('nx/src/utils/cache-directory') as { workspaceDataDirectoryForWorkspace?: (root: string) => string };
    if (typeof nx.workspaceDataDirectoryForWorkspace === 'function') return nx.workspaceDataDirectoryForWorkspace(workspaceRoot);
  } catch {
    /* another Nx layout: the fallback below */
  }
  const env = process.env.NX_WORKSPACE_DATA_DIRECTORY ?? process.env.NX_PROJECT_GRAPH_CACHE_DIRECTORY;
  return env ? path.resolve(workspaceRoot, env) : path.join(workspaceRoot, '.nx', 'workspace-data');
}

export const scanMemoPath = (workspaceRoot: string) => path.join(workspaceDataDir(workspaceRoot), MEMO_FILE);
const deltaPath = (memoPath: string) => memoPath.replace(/\.json$/, '.delta.json');

/** A delta grows with every edit since its base; past this many files, the base is written again. */
const MAX_DELTA_FILES = 500;

const memos = new Map<string, ScanMemo>();

/**
 * A process that has not loaded the per-file memo yet (a fresh isolated plugin worker, one per graph
 * computation) reads up to this many .go files directly instead: after an edit only the changed
 * module's files are read (its summary no longer matches), a few dozen small files, where loading the
 * memo means parsing an entry for every .go file of the workspace (1.6 MB on the 10,000-file bench
 * tree: about 25 ms and the garbage of it, per computation). Past it (a cold start, a branch switch)
 * the memo is loaded and answers as before. What such a read finds is not added to the per-file memo
 * (it would have to be loaded to be written); the module summaries are kept as always, and a memo
 * entry whose file changed since simply misses later.
 */
export const DIRECT_READ_LIMIT = 500;

/** What this process read directly (no memo) in the current computation, by workspace and file. */
const directReads = new Map<string, Map<string, { stat: string; racy: boolean; facts: GoFileImports }>>();
function directReadsOf(workspaceRoot: string) {
  let m = directReads.get(workspaceRoot);
  if (!m) directReads.set(workspaceRoot, (m = new Map()));
  return m;
}
/** Reads and scans one file without the memo, and remembers it for createDependencies of this computation. */
function readDirect(workspaceRoot: string, f: GoFileStat): GoFileImports {
  const facts = scanGoImports(readText(path.join(workspaceRoot, f.file)));
  directReadsOf(workspaceRoot).set(f.file, { stat: f.stat, racy: f.racy, facts });
  return facts;
}

/** The workspace's scan memo: read from disk on first use (a bad or old file counts as none). */
function scanMemoFor(workspaceRoot: string): ScanMemo {
  let memo = memos.get(workspaceRoot);
  if (memo) return memo;
  if (process.env.NX_CACHE_PROJECT_GRAPH !== 'false') {
    const file = scanMemoPath(workspaceRoot);
    try {
      memo = decodeScanMemo(fs.readFileSync(file, 'utf8'), memoHeader());
    } catch {
      memo = undefined;
    }
    if (memo) {
      try {
        applyScanMemoDelta(memo, fs.readFileSync(deltaPath(file), 'utf8'), memoHeader());
      } catch {
        /* no delta: the base alone */
      }
    }
  }
  memo ??= new ScanMemo();
  memos.set(workspaceRoot, memo);
  return memo;
}

/**
 * Writes the memo when a scan changed it: the changes since the base as a small delta file while
 * there are few, else a new base (and no delta). Each file is written to a temporary name and renamed
 * over the old one, so a reader sees a whole file or the previous one, never a torn one.
 */
export function saveScanMemo(workspaceRoot: string): void {
  const memo = memos.get(workspaceRoot);
  if (!memo?.dirty) return;
  const file = scanMemoPath(workspaceRoot);
  const writeAtomically = (target: string, text: string) => {
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, target);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (memo.baseId && memo.changed.size <= MAX_DELTA_FILES && fs.existsSync(file)) {
      writeAtomically(deltaPath(file), encodeScanMemoDelta(memoHeader(), memo));
    } else {
      const id = randomBytes(8).toString('hex');
      writeAtomically(file, encodeScanMemo(memoHeader(), memo, id));
      fs.rmSync(deltaPath(file), { force: true }); // it belongs to the old base (and would be ignored)
      memo.baseId = id;
      memo.changed.clear();
    }
    memo.dirty = false;
  } catch {
    // A read-only or full disk costs the next computation a full scan, nothing else.
  }
}

// --- scanning ------------------------------------------------------------------------------------------

/** One ScannedGoFile object per (facts, root): dependencies.ts remembers resolutions per object. */
const scannedObjects = new WeakMap<GoFileImports, Map<string, ScannedGoFile>>();
function scanned(file: string, root: string, facts: GoFileImports): ScannedGoFile {
  let byRoot = scannedObjects.get(facts);
  if (!byRoot) scannedObjects.set(facts, (byRoot = new Map()));
  let out = byRoot.get(`${root}\0${file}`);
  if (!out) byRoot.set(`${root}\0${file}`, (out = { file, root, imports: facts.imports }));
  return out;
}

function readFacts(workspaceRoot: string, memo: ScanMemo, f: GoFileStat): GoFileImports {
  const hit = memo.lookup(f.file, f.stat);
  if (hit) return hit;
  const facts = scanGoImports(readText(path.join(workspaceRoot, f.file)));
  memo.set(f.file, f.stat, f.racy, facts);
  return facts;
}

/**
 * The imports of every Go file of the given modules (as walkModuleGoFiles found them), read only
 * when a file's stat changed. `complete`: these are all the workspace's module files, so memo entries
 * of other files (deleted ones) are dropped. Saves the memo when anything changed.
 */
export function scanStatFiles(workspaceRoot: string, filesByRoot: Map<string, GoFileStat[]>, complete = true): ScannedGoFile[] {
  const memo = scanMemoFor(workspaceRoot);
  const out: ScannedGoFile[] = [];
  const seen = new Set<string>();
  lastWalk.set(workspaceRoot, filesByRoot);
  for (const [root, files] of filesByRoot) {
    for (const f of files) {
      if (!isModuleGoFile(f.file, root)) continue;
      seen.add(f.file);
      out.push(scanned(f.file, root, readFacts(workspaceRoot, memo, f)));
    }
  }
  if (complete) memo.retainOnly(seen);
  saveScanMemo(workspaceRoot);
  return out;
}

// --- per-module summaries ------------------------------------------------------------------------------

/*
 * What createNodes needs of a module is less than what its files say: the import paths of its
 * non-test files, for the build-dependency closure, and those only its `_test.go` files add, for the
 * test and vet targets' inputs. Kept per module under a fingerprint of its files' stats (a second
 * small file beside the scan memo), so a computation after an edit resolves the edited module again
 * and takes every other module's import lists as they were, without loading the per-file memo for
 * them.
 */
const MODULES_FILE = 'nx-swarm-go-modules.json';
interface ModuleSummary {
  /** sha1 over the module's .go files and their stat fingerprints, in path order. */
  fingerprint: string;
  /** Import paths of the module's non-test files, sorted, unique. */
  imports: string[];
  /** Import paths that only its `_test.go` files have, sorted, unique. */
  testImports: string[];
}

/** What moduleImports() answers per module. */
export interface ModuleImports {
  /** Import paths of the non-test files (what its binaries compile in). */
  build: string[];
  /** Import paths only the `_test.go` files add (what `go test` and `go vet` compile in besides). */
  test: string[];
}
const summaries = new Map<string, { byRoot: Map<string, ModuleSummary>; dirty: boolean }>();

export const moduleSummaryPath = (workspaceRoot: string) => path.join(workspaceDataDir(workspaceRoot), MODULES_FILE);

function summariesFor(workspaceRoot: string): { byRoot: Map<string, ModuleSummary>; dirty: boolean } {
  let s = summaries.get(workspaceRoot);
  if (s) return s;
  s = { byRoot: new Map(), dirty: false };
  if (process.env.NX_CACHE_PROJECT_GRAPH !== 'false') {
    try {
      const raw = JSON.parse(fs.readFileSync(moduleSummaryPath(workspaceRoot), 'utf8')) as Record<string, unknown>;
      const h = memoHeader();
      if (raw.format === h.format && raw.plugin === h.plugin && raw.scanner === h.scanner && raw.modules && typeof raw.modules === 'object') {
        for (const [root, m] of Object.entries(raw.modules as Record<string, unknown>)) {
          // [fingerprint, imports, testImports]; anything else (an older plugin's flat list) is read again.
          const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((y: unknown) => typeof y === 'string');
          const ok = Array.isArray(m) && m.length === 3 && typeof m[0] === 'string' && strings(m[1]) && strings(m[2]);
          if (ok) s.byRoot.set(root, { fingerprint: m[0] as string, imports: m[1] as string[], testImports: m[2] as string[] });
        }
      }
    } catch {
      /* none yet, or unreadable: every module is resolved from its files */
    }
  }
  summaries.set(workspaceRoot, s);
  return s;
}

function saveSummaries(workspaceRoot: string): void {
  const s = summaries.get(workspaceRoot);
  if (!s?.dirty) return;
  const file = moduleSummaryPath(workspaceRoot);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const modules = Object.fromEntries([...s.byRoot].map(([root, m]) => [root, [m.fingerprint, m.imports, m.testImports]]));
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify({ ...memoHeader(), modules }));
    fs.renameSync(tmp, file);
    s.dirty = false;
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/** A module walk's files (sorted), racy flag and fingerprint; once per walk (module-walker.ts hands out the same walk again while a module is unchanged). */
const fingerprints = new WeakMap<GoFileStat[], { root: string; files: GoFileStat[]; racy: boolean; fingerprint: string }>();
function fingerprintOf(root: string, walked: GoFileStat[]) {
  const known = fingerprints.get(walked);
  if (known && known.root === root) return known;
  const files = walked.filter((f) => isModuleGoFile(f.file, root)).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  // One update per module, not per file (10,000 calls into the hash on the bench tree); the same bytes, so the same digest.
  let text = '';
  for (const f of files) text += `${f.file}\0${f.stat}\n`;
  const value = { root, files, racy: files.some((f) => f.racy), fingerprint: createHash('sha1').update(text).digest('hex') };
  fingerprints.set(walked, value);
  return value;
}

/** moduleImports()' import paths of the non-test files only (the build closure's input). */
export function moduleBuildImports(
  workspaceRoot: string,
  filesByRoot: Map<string, GoFileStat[]>,
  directReadLimit = DIRECT_READ_LIMIT,
): Map<string, string[]> {
  return new Map([...moduleImports(workspaceRoot, filesByRoot, directReadLimit)].map(([root, m]) => [root, m.build]));
}

/**
 * For each module (as walkModuleGoFiles found its files): the import paths of its non-test Go files,
 * what buildDependencyClosure needs, and those its test files add. A module whose files' stats are
 * all as they were (and none was racy when it was summarised) is answered from its summary; the
 * others from their files, through the scan memo (or read directly when they are few and this
 * process has no memo loaded: DIRECT_READ_LIMIT), and their summary is written again. Also leaves
 * the walk's stats for createDependencies.
 */
export function moduleImports(
  workspaceRoot: string,
  filesByRoot: Map<string, GoFileStat[]>,
  directReadLimit = DIRECT_READ_LIMIT,
): Map<string, ModuleImports> {
  const store = summariesFor(workspaceRoot);
  const out = new Map<string, ModuleImports>();
  const walks = new Map<string, GoFileStat[]>();
  lastWalk.set(workspaceRoot, walks);
  directReads.delete(workspaceRoot); // a new computation
  const changed: { root: string; files: GoFileStat[]; racy: boolean; fingerprint: string }[] = [];
  for (const [root, walked] of filesByRoot) {
    const walk = fingerprintOf(root, walked);
    walks.set(root, walk.files);
    const known = store.byRoot.get(root);
    if (known && known.fingerprint === walk.fingerprint && !walk.racy) out.set(root, { build: known.imports, test: known.testImports });
    else changed.push(walk);
  }
  const toRead = changed.reduce((n, m) => n + m.files.length, 0);
  const memo = toRead === 0 ? undefined : memos.has(workspaceRoot) || toRead > directReadLimit ? scanMemoFor(workspaceRoot) : undefined;
  for (const { root, files, racy, fingerprint } of changed) {
    const paths = new Set<string>();
    const testPaths = new Set<string>();
    for (const f of files) {
      const facts = memo ? readFacts(workspaceRoot, memo, f) : readDirect(workspaceRoot, f);
      const into = isTestFile(f.file) ? testPaths : paths;
      for (const imp of facts.imports) into.add(imp.path);
    }
    const imports = [...paths].sort();
    const testImports = [...testPaths].filter((p) => !paths.has(p)).sort();
    out.set(root, { build: imports, test: testImports });
    if (racy) {
      if (store.byRoot.delete(root)) store.dirty = true;
    } else {
      store.byRoot.set(root, { fingerprint, imports, testImports });
      store.dirty = true;
    }
  }
  for (const root of [...store.byRoot.keys()]) {
    if (!filesByRoot.has(root)) {
      store.byRoot.delete(root);
      store.dirty = true;
    }
  }
  if (memo) {
    const walkedFiles = new Set<string>();
    for (const files of walks.values()) for (const f of files) walkedFiles.add(f.file);
    memo.retainOnly(walkedFiles);
    saveScanMemo(workspaceRoot);
  }
  saveSummaries(workspaceRoot);
  return out;
}

/**
 * The stats of createNodes' last walk. Nx runs createNodes before createDependencies in every graph
 * computation, so createDependencies takes a file's stat from there instead of asking again (the cold
 * computation would stat 10,000 files twice); a file the walk did not see is stat'ed. One walk serves
 * one createDependencies call only: should a computation ever skip createNodes, the next one stats.
 */
const lastWalk = new Map<string, Map<string, GoFileStat[]>>();

/** A walk's files by path, made when createDependencies first asks (an unchanged module's walk is the same array in the daemon). */
const fileIndexes = new WeakMap<GoFileStat[], Map<string, GoFileStat>>();
function walkedStat(walked: Map<string, GoFileStat[]> | undefined, root: string, file: string): GoFileStat | undefined {
  const files = walked?.get(root);
  if (!files) return undefined;
  let index = fileIndexes.get(files);
  if (!index) fileIndexes.set(files, (index = new Map(files.map((f) => [f.file, f]))));
  return index.get(file);
}

/** Nx content hash → facts, for files this process read itself in createDependencies (never persisted). */
const byHash = new Map<string, { hash: string; facts: GoFileImports }>();

/**
 * The imports of the given files from Nx's file map (createDependencies): a file whose Nx hash is the
 * one this process read it under is not even stat'ed; otherwise the shared stat memo answers, with
 * the stat from createNodes' walk of this computation (so the cold createDependencies after createNodes
 * reads and stats nothing again), and only a changed file is read.
 */
export function scanModuleFiles(workspaceRoot: string, filesByRoot: Map<string, FileData[]>, directReadLimit = DIRECT_READ_LIMIT): ScannedGoFile[] {
  // Few files asked about (after an edit: the changed ones) and no memo in this process: read them
  // directly, as createNodes did (see DIRECT_READ_LIMIT), taking what it read in this computation.
  let asked = 0;
  for (const files of filesByRoot.values()) asked += files.length;
  const direct = !memos.has(workspaceRoot) && asked <= directReadLimit ? (directReads.get(workspaceRoot) ?? new Map()) : undefined;
  directReads.delete(workspaceRoot);
  const memo = direct ? undefined : scanMemoFor(workspaceRoot);
  const out: ScannedGoFile[] = [];
  const walked = lastWalk.get(workspaceRoot);
  lastWalk.delete(workspaceRoot);
  for (const [root, files] of filesByRoot) {
    for (const f of files) {
      if (!isModuleGoFile(f.file, root)) continue;
      const key = `${workspaceRoot}\0${f.file}`;
      const known = byHash.get(key);
      if (known && known.hash === f.hash) {
        out.push(scanned(f.file, root, known.facts));
        continue;
      }
      const st = walkedStat(walked, root, f.file) ?? statFile(workspaceRoot, f.file);
      if (!st) continue; // deleted since Nx listed it
      const read = direct?.get(f.file);
      const hit = memo ? memo.lookup(f.file, st.stat) : read && !read.racy && read.stat === st.stat ? read.facts : undefined;
      if (hit) {
        out.push(scanned(f.file, root, hit));
        continue;
      }
      const facts = scanGoImports(readText(path.join(workspaceRoot, f.file)));
      memo?.set(f.file, st.stat, st.racy, facts);
      byHash.set(key, { hash: f.hash, facts });
      out.push(scanned(f.file, root, facts));
    }
  }
  saveScanMemo(workspaceRoot);
  return out;
}

/**
 * The .go files of one module folder from the file system (not those of nested modules, nor under
 * vendor/, testdata/, or folders Go ignores), with their stat fingerprints for the scan memo.
 * `onDir` sees each folder walked (relative path, its absolute path) just before it is read.
 */
export function walkModuleGoFiles(
  workspaceRoot: string,
  root: string,
  nestedRoots: Set<string>,
  onDir?: (rel: string, abs: string) => void,
): GoFileStat[] {
  const out: GoFileStat[] = [];
  const now = Date.now();
  const base = workspaceRoot.endsWith(path.sep) ? workspaceRoot : workspaceRoot + path.sep;
  // String joins, not path.join: 10,000 files are walked on every graph computation.
  const abs = (rel: string) => (rel === '.' ? workspaceRoot : base + (path.sep === '/' ? rel : rel.split('/').join(path.sep)));
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      onDir?.(rel, abs(rel));
      entries = fs.readdirSync(abs(rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = rel === '.' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name === 'vendor' || e.name === 'testdata' || e.name === 'node_modules' || e.name.startsWith('.') || e.name.startsWith('_')) continue;
        if (nestedRoots.has(child)) continue;
        walk(child);
      } else if (e.name.endsWith('.go')) {
        const st = fs.statSync(abs(child), { throwIfNoEntry: false }); // undefined: deleted while walking
        if (st) out.push({ file: child, stat: statKeyOf(st), racy: isRacy(st, now) });
      }
    }
  };
  walk(root);
  return out;
}

/** For tests: forget what was read (in memory; the file in workspace-data stays). */
export function clearGoFileMemo(): void {
  memo.clear();
  summaries.clear();
  memos.clear();
  directReads.clear();
  byHash.clear();
  lastWalk.clear();
}
