/**
 * The file-system edge of the Go graph, in one place: reads go.mod, go.work and the import blocks of
 * .go files, memoised by content hash (Nx's file map) or by size and mtime, so that a daemon that
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

// An internal Nx API (nx/src/utils/workspace-context, Nx 20–23): the file index Nx keeps anyway (in
// the daemon when one runs). Without it createNodes has no file list and falls back to ^production.
type WorkspaceContextApi = {
  getAllFileDataInContext: (root: string) => Promise<FileData[]>;
  hashWithWorkspaceContext: (root: string, globs: string[], exclude?: string[]) => Promise<string>;
};
function workspaceContextApi(): WorkspaceContextApi {
  return require('nx/src/utils/workspace-context') as WorkspaceContextApi;
}

/** One hash over every .go file of the workspace (native, a few ms): unchanged means nothing to rescan. */
export async function goFilesHash(workspaceRoot: string): Promise<string> {
  return workspaceContextApi().hashWithWorkspaceContext(workspaceRoot, ['**/*.go']);
}

let ownerCache: { signature: string; owner: Map<string, string | null> } | undefined;

/**
 * Every Go file of the given modules with its content hash, from Nx's workspace context. Each file
 * belongs to the deepest module folder above it, as in Nx's project file map.
 */
export async function goFilesFromWorkspaceContext(workspaceRoot: string, moduleRoots: string[]): Promise<Map<string, FileData[]>> {
  const all = await workspaceContextApi().getAllFileDataInContext(workspaceRoot);
  const signature = `${workspaceRoot}\0${[...moduleRoots].sort().join('\0')}`;
  if (ownerCache?.signature !== signature) ownerCache = { signature, owner: new Map() };
  const owner = ownerCache.owner;
  const roots = new Set(moduleRoots);
  const ownerOf = (dir: string): string | null => {
    const hit = owner.get(dir);
    if (hit !== undefined) return hit;
    const parent = dir === '.' ? undefined : path.posix.dirname(dir);
    const found = roots.has(dir) ? dir : parent === undefined ? null : ownerOf(parent === '' ? '.' : parent);
    owner.set(dir, found);
    return found;
  };
  const out = new Map<string, FileData[]>(moduleRoots.map((r) => [r, []]));
  for (const f of all) {
    if (!f.file.endsWith('.go')) continue;
    const slash = f.file.lastIndexOf('/');
    const root = ownerOf(slash < 0 ? '.' : f.file.slice(0, slash));
    if (root !== null) out.get(root)!.push(f);
  }
  return out;
}

/** For tests: forget what was read. */
export function clearGoFileMemo(): void {
  memo.clear();
}
