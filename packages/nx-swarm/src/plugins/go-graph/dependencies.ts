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
  const dirs = rel.split('/').slice(0, -1);
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (base.startsWith('.') || base.startsWith('_')) return false;
  return !dirs.some((d) => d === 'vendor' || d === 'testdata' || d.startsWith('.') || d.startsWith('_'));
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

/**
 * For each module, the workspace modules its binaries compile in: the closure over imports in
 * non-test files (a `_test.go` import is in no binary, so it is in no build's inputs). Project names.
 */
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

export function buildDependencyClosure(files: ScannedGoFile[], resolver: GoResolver): Map<string, string[]> {
  const direct = new Map<string, Set<string>>();
  for (const f of files) {
    if (isTestFile(f.file)) continue;
    const targets = fileTargets(f, resolver);
    if (!targets.length) continue;
    const source = resolver.projectAt(f.root);
    if (!source) continue;
    if (!direct.has(source)) direct.set(source, new Set());
    for (const t of targets) direct.get(source)!.add(t);
  }
  const closure = new Map<string, string[]>();
  for (const source of direct.keys()) {
    const seen = new Set<string>();
    const stack = [...direct.get(source)!];
    while (stack.length) {
      const p = stack.pop()!;
      if (p === source || seen.has(p)) continue;
      seen.add(p);
      stack.push(...(direct.get(p) ?? []));
    }
    closure.set(source, [...seen].sort());
  }
  return closure;
}
