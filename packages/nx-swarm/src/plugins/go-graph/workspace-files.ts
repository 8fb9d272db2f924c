/**
 * The file-system edge of the Go graph, in one place: reads go.mod, go.work and the import blocks of
 * .go files, memoised by content hash (Nx's file map, in createDependencies) or by size and mtime
 * (createNodes walks the module folders), so that a daemon that
 * recomputes the graph after one edit reads one file again, not ten thousand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileData, ProjectConfiguration, ProjectFileMap } from '@nx/devkit';
import { parseGoMod, parseGoWork } from './go-mod';
import { scanGoImports } from './imports';
import { isModuleGoFile, type ScannedGoFile } from './dependencies';
import type { GoModule, GoWorkFile } from './resolver';

const memo = new Map<string, { key: string; value: unknown }>();

/** `compute()` once per (file, key): the key is a content hash or a stat fingerprint. */
function remember<T>(file: string, key: string, compute: () => T): T {
  const hit = memo.get(file);
  if (hit && hit.key === key) return hit.value as T;
  const value = compute();
  memo.set(file, { key, value });
  return value;
}

function statKey(abs: string): string | undefined {
  try {
    const st = fs.statSync(abs);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
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

/** The imports of every Go file of the given modules, read only when a file's hash changed. */
export function scanModuleFiles(workspaceRoot: string, filesByRoot: Map<string, FileData[]>): ScannedGoFile[] {
  const out: ScannedGoFile[] = [];
  for (const [root, files] of filesByRoot) {
    for (const f of files) {
      const key = `go:${workspaceRoot}\0${f.file}`;
      const hit = memo.get(key) as { key: string; value: ScannedGoFile | null } | undefined;
      if (hit && hit.key === `${f.hash}\0${root}`) {
        if (hit.value) out.push(hit.value);
        continue;
      }
      const value = isModuleGoFile(f.file, root)
        ? { file: f.file, root, imports: scanGoImports(readText(path.join(workspaceRoot, f.file))).imports }
        : null;
      memo.set(key, { key: `${f.hash}\0${root}`, value });
      if (value) out.push(value);
    }
  }
  return out;
}

/**
 * The .go files of one module folder from the file system (not those of nested modules, nor under
 * vendor/, testdata/, or folders Go ignores), with a size+mtime key for the scan memo.
 */
export function walkModuleGoFiles(workspaceRoot: string, root: string, nestedRoots: Set<string>): FileData[] {
  const out: FileData[] = [];
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(workspaceRoot, rel), { withFileTypes: true });
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
        const key = statKey(path.join(workspaceRoot, child));
        if (key) out.push({ file: child, hash: key });
      }
    }
  };
  walk(root);
  return out;
}

/** For tests: forget what was read. */
export function clearGoFileMemo(): void {
  memo.clear();
}
