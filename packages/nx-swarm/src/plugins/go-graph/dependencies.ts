/**
 * Go import edges for the Nx project graph: from each Go file's imports to the workspace project
 * that provides the package (see resolver.ts). Pure: the caller hands in the scanned files.
 *
 * Conservative on purpose: files behind build tags or GOOS/GOARCH suffixes count (an extra edge costs
 * a rebuild; a missing one ships stale code). `_test.go` files count too, so `nx affected` runs the
 * tests of a service whose tests alone import a library; their edges say so (`testOnly`).
 */
import type { GoImport } from './imports';
import type { GoResolver } from './resolver';

export interface ScannedGoFile {
  /** Workspace-relative path. */
  file: string;
  /** Root of the Go module project the file belongs to. */
  root: string;
  imports: GoImport[];
}

export interface GoEdge {
  source: string;
  target: string;
  sourceFile: string;
}

/** Go ignores folders named vendor or testdata and those starting with `.` or `_` inside a module. */
export function isModuleGoFile(file: string, root: string): boolean {
  if (!file.endsWith('.go')) return false;
  const rel = root === '.' ? file : file.slice(root.length + 1);
  // Segment by segment without splitting: every graph computation asks this of every .go file.
  for (let start = 0; ;) {
    const c = rel.charCodeAt(start);
    if (c === 46 /* . */ || c === 95 /* _ */) return false;
    const slash = rel.indexOf('/', start);
    if (slash < 0) return true;
    if (rel.startsWith('vendor/', start) || rel.startsWith('testdata/', start)) return false;
    start = slash + 1;
  }
}

export const isTestFile = (file: string): boolean => file.endsWith('_test.go');

/** One edge per (file, target project); none to the file's own project. */
export function goImportEdges(files: ScannedGoFile[], resolver: GoResolver): GoEdge[] {
  const edges: GoEdge[] = [];
  for (const f of files) {
    const targets = fileTargets(f, resolver);
    if (!targets.length) continue;
    const source = resolver.projectAt(f.root);
    if (!source) continue;
    for (const target of targets) edges.push({ source, target, sourceFile: f.file });
  }
  return edges;
}

const resolvedByResolver = new WeakMap<GoResolver, WeakMap<ScannedGoFile, string[]>>();

/** The projects a file's imports resolve to, remembered per (resolver, scanned file) object. */
function fileTargets(f: ScannedGoFile, resolver: GoResolver): string[] {
  let cache = resolvedByResolver.get(resolver);
  if (!cache) resolvedByResolver.set(resolver, (cache = new WeakMap()));
  const hit = cache.get(f);
  if (hit) return hit;
  const targets = new Set<string>();
  for (const imp of f.imports) {
    const target = resolver.resolve(f.root, imp.path);
    if (target && target.root !== f.root) targets.add(target.project);
  }
  const out = [...targets].sort();
  cache.set(f, out);
  return out;
}

/**
 * For each module, the workspace modules its binaries compile in: the closure over imports in
 * non-test files (a `_test.go` import is in no binary, so it is in no build's inputs). Project names.
 */
export function buildDependencyClosure(files: ScannedGoFile[], resolver: GoResolver): Map<string, string[]> {
  const importsByRoot = new Map<string, Set<string>>();
  for (const f of files) {
    if (isTestFile(f.file)) continue;
    let paths = importsByRoot.get(f.root);
    if (!paths) importsByRoot.set(f.root, (paths = new Set()));
    for (const imp of f.imports) paths.add(imp.path);
  }
  return closureOfModuleImports(importsByRoot, resolver);
}

/**
 * The same closure from what it needs of each module: the import paths of its non-test files
 * (moduleBuildImports() in workspace-files.ts keeps that per module, so an unchanged module is not
 * resolved file by file again).
 */
export function closureOfModuleImports(importsByRoot: Map<string, Iterable<string>>, resolver: GoResolver): Map<string, string[]> {
  const direct = new Map<string, Set<string>>();
  for (const [root, paths] of importsByRoot) {
    const source = resolver.projectAt(root);
    if (!source) continue;
    const targets = directTargets(root, paths, resolver);
    if (!targets.size) continue;
    const known = direct.get(source);
    // targets is directTargets' kept set: merged into a new one, never added to.
    direct.set(source, known ? new Set([...known, ...targets]) : targets);
  }
  // The daemon recomputes after every edit, and most edits change no import: the same direct edges
  // (the same resolver: no go.mod or go.work changed) give the same closure as last time.
  const last = lastClosure?.resolver === resolver ? lastClosure : undefined;
  const changed = last ? changedSources(last.direct, direct) : undefined;
  if (last && changed!.size === 0) return last.closure;
  const closure = new Map<string, string[]>();
  for (const source of direct.keys()) {
    // A module that reached no changed module before reaches the same ones now: its closure is kept.
    const before = last?.closure.get(source);
    if (before && !changed!.has(source) && !before.some((p) => changed!.has(p))) {
      closure.set(source, before);
      continue;
    }
    const seen = new Set<string>();
    const stack = [...direct.get(source)!];
    while (stack.length) {
      const p = stack.pop()!;
      if (p === source || seen.has(p)) continue;
      seen.add(p);
      for (const q of direct.get(p) ?? []) stack.push(q);
    }
    closure.set(source, [...seen].sort());
  }
  lastClosure = { resolver, direct, closure };
  return closure;
}

/** The last closure closureOfModuleImports computed, from what (read-only for its callers). */
let lastClosure: { resolver: GoResolver; direct: Map<string, Set<string>>; closure: Map<string, string[]> } | undefined;

/** The sources whose direct targets differ between two edge maps (gained, lost or other targets). */
function changedSources(a: Map<string, Set<string>>, b: Map<string, Set<string>>): Set<string> {
  const changed = new Set<string>();
  for (const [source, targets] of b) {
    const before = a.get(source);
    if (before === targets) continue; // directTargets' kept set: an unchanged module
    if (!before || before.size !== targets.size || [...targets].some((t) => !before.has(t))) changed.add(source);
  }
  for (const source of a.keys()) if (!b.has(source)) changed.add(source);
  return changed;
}

/**
 * For each module, the workspace modules `go test ./...` and `go vet ./...` compile in besides its
 * own files: what its files import, test files included, and what those modules' binaries compile
 * in (buildClosure: a dependency's own `_test.go` files are not compiled by this module's tests).
 * Project names, the module itself left out.
 */
export function testDependencyClosure(
  importsByRoot: Map<string, { build: Iterable<string>; test: Iterable<string> }>,
  buildClosure: Map<string, string[]>,
  resolver: GoResolver,
): Map<string, string[]> {
  const before = lastTestClosure?.resolver === resolver ? lastTestClosure.bySource : undefined;
  const bySource = new Map<string, TestClosureEntry>();
  const out = new Map<string, string[]>();
  for (const [root, lists] of importsByRoot) {
    const source = resolver.projectAt(root);
    if (!source) continue;
    // Its direct targets (the same set objects while its imports are unchanged) and their build
    // closures (the same arrays while unchanged, closureOfModuleImports): the same answer as before.
    const build = directTargets(root, lists.build, resolver);
    const test = directTargets(root, lists.test, resolver);
    const targets = [...build, ...test];
    const closures = targets.map((t) => buildClosure.get(t));
    const known = before?.get(source);
    let deps: string[];
    if (
      known &&
      known.build === build &&
      known.test === test &&
      known.closures.length === closures.length &&
      known.closures.every((c, i) => c === closures[i])
    ) {
      deps = known.deps;
    } else {
      const set = new Set<string>();
      for (const [i, target] of targets.entries()) {
        set.add(target);
        for (const d of closures[i] ?? []) set.add(d);
      }
      set.delete(source);
      deps = [...set].sort();
    }
    bySource.set(source, { build, test, closures, deps });
    out.set(source, deps);
  }
  lastTestClosure = { resolver, bySource };
  return out;
}

interface TestClosureEntry {
  build: Set<string>;
  test: Set<string>;
  closures: (string[] | undefined)[];
  /** Read-only for the callers: the next computation may hand out the same array. */
  deps: string[];
}

/** What the last testDependencyClosure computed per module, from what: an edit that changes no import costs no closure. */
let lastTestClosure: { resolver: GoResolver; bySource: Map<string, TestClosureEntry> } | undefined;

/**
 * The workspace modules (project names) a module's import list resolves to, itself left out. Kept
 * per list object and resolver: in the daemon's process an unchanged module's lists are the same
 * arrays from one computation to the next (its summary), and the resolver is the same while no
 * go.mod or go.work changed, so only the edited module is resolved again.
 */
const resolvedLists = new WeakMap<GoResolver, WeakMap<object, { root: string; targets: Set<string> }>>();
function directTargets(root: string, paths: Iterable<string>, resolver: GoResolver): Set<string> {
  let byList = resolvedLists.get(resolver);
  if (!byList) resolvedLists.set(resolver, (byList = new WeakMap()));
  const known = byList.get(paths as object);
  if (known && known.root === root) return known.targets;
  const targets = new Set<string>();
  for (const p of paths) {
    const target = resolver.resolve(root, p);
    if (target && target.root !== root) targets.add(target.project);
  }
  byList.set(paths as object, { root, targets });
  return targets;
}
