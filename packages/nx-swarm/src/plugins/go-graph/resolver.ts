/**
 * Which workspace module provides an imported Go package, the way the go command decides it, from
 * the go.mod and go.work files alone (no toolchain):
 *
 * - A module in a go.work's `use` list (the nearest go.work above it) sees every module of that
 *   workspace by its module path, and the go.work's local `replace`s.
 * - Every module sees itself and its own go.mod's local `replace`s (`replace P => ../dir`), by the
 *   replaced path P.
 * - An import belongs to the visible module with the longest path that is a prefix of it at a `/`
 *   boundary (`example.com/lib` provides `example.com/lib/x`, never `example.com/library`). Nested
 *   modules and packages in subfolders follow from that.
 *
 * What can't be hashed (a replace that points outside the workspace, or to a folder that is no
 * project) and what isn't local (a `require` of a workspace module's path with no replace and no
 * go.work, which Go takes from the module proxy) comes back as diagnostics that name file and line.
 * Pure: the caller reads the files.
 */
import * as path from 'node:path';
import type { GoMod, GoWork, Replace } from './go-mod';

export interface GoModule {
  /** Folder of the go.mod relative to the workspace root, posix ("libs/go/common", "." for the root). */
  root: string;
  /** The Nx project that the folder is. */
  project: string;
  goMod: GoMod;
}

export interface GoWorkFile {
  /** Folder of the go.work relative to the workspace root, posix. */
  dir: string;
  work: GoWork;
}

export type DiagnosticKind = 'outside-workspace' | 'not-a-project' | 'from-proxy' | 'not-in-go-work';

export interface GoGraphDiagnostic {
  kind: DiagnosticKind;
  /** The module (project root) the diagnostic is about. */
  root: string;
  /** Workspace-relative file and 1-based line. */
  file: string;
  line: number;
  /** True when Nx can't hash what the build reads: the build must not be served from the cache. */
  unhashable: boolean;
  message: string;
}

const posix = path.posix;

/** `dir` joined with a relative go.mod/go.work path, normalised; undefined when it leaves the workspace. */
export function resolveLocalDir(baseDir: string, target: string): string | undefined {
  if (target.startsWith('/') || /^[A-Za-z]:[/\\]/.test(target) || target.startsWith('\\')) return undefined;
  const joined = posix.normalize(posix.join(baseDir === '.' ? '' : baseDir, target.replace(/\\/g, '/')));
  const clean = joined.replace(/\/$/, '') || '.';
  if (clean === '..' || clean.startsWith('../')) return undefined;
  return clean;
}

function isAncestorDir(dir: string, of: string): boolean {
  return dir === '.' || of === dir || of.startsWith(`${dir}/`);
}

function fileIn(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

/** The module path prefixes of an import path, longest first: a/b/c, a/b, a. */
export function pathPrefixes(importPath: string): string[] {
  const out: string[] = [];
  let p = importPath;
  for (;;) {
    out.push(p);
    const slash = p.lastIndexOf('/');
    if (slash <= 0) return out;
    p = p.slice(0, slash);
  }
}

export class GoResolver {
  private readonly byRoot = new Map<string, GoModule>();
  private readonly visible = new Map<string, Map<string, GoModule>>();
  readonly diagnostics: GoGraphDiagnostic[] = [];

  constructor(modules: GoModule[], works: GoWorkFile[]) {
    for (const m of modules) this.byRoot.set(m.root, m);
    const byPath = new Map<string, GoModule[]>();
    for (const m of modules) {
      if (!m.goMod.module) continue;
      byPath.set(m.goMod.module.path, [...(byPath.get(m.goMod.module.path) ?? []), m]);
    }
    // Deepest go.work first, so the nearest one above a module wins.
    const sortedWorks = [...works].sort((a, b) => b.dir.split('/').length - a.dir.split('/').length);
    // Every module of a go.work sees its whole use list: resolved once per go.work, not per module.
    const used = new Map(sortedWorks.map((w) => [w, w.work.uses.map((u) => ({ u, dir: resolveLocalDir(w.dir, u.dir) }))]));
    for (const m of modules) this.visible.set(m.root, this.visibleFrom(m, sortedWorks, used, byPath));
    // A go.work line seen from several modules is one finding per module, said once.
    const keys = new Set<string>();
    const unique = this.diagnostics.filter((d) => {
      const key = `${d.kind}\0${d.root}\0${d.file}\0${d.line}`;
      return keys.has(key) ? false : (keys.add(key), true);
    });
    this.diagnostics.splice(0, this.diagnostics.length, ...unique);
  }

  private visibleFrom(
    m: GoModule,
    works: GoWorkFile[],
    usedByWork: Map<GoWorkFile, { u: GoWork['uses'][number]; dir: string | undefined }[]>,
    byPath: Map<string, GoModule[]>,
  ): Map<string, GoModule> {
    const seen = new Map<string, GoModule>();
    if (m.goMod.module) seen.set(m.goMod.module.path, m);
    const work = works.find((w) => isAncestorDir(w.dir, m.root));
    let inWork = false;
    if (work) {
      const used = usedByWork.get(work) ?? [];
      inWork = used.some((x) => x.dir === m.root);
      if (inWork) {
        for (const { u, dir } of used) {
          const target = dir === undefined ? undefined : this.byRoot.get(dir);
          if (target?.goMod.module) seen.set(target.goMod.module.path, target);
          else if (dir === m.root) continue;
          else if (target === undefined) this.noteReplaceTarget(m, fileIn(work.dir, 'go.work'), u.line, `use ${u.dir}`, dir, 'go.work');
        }
        for (const r of work.work.replaces) this.addReplace(m, seen, r, work.dir, fileIn(work.dir, 'go.work'));
      } else {
        this.diagnostics.push({
          kind: 'not-in-go-work',
          root: m.root,
          file: fileIn(work.dir, 'go.work'),
          line: 1,
          unhashable: false,
          message:
            `${fileIn(work.dir, 'go.work')} does not list ${m.root} in its use directives, so go commands in ${m.root} fail ` +
            `("current directory is contained in a module that is not one of the workspace modules"). ` +
            `Fix: add "use ./${posix.relative(work.dir === '.' ? '' : work.dir, m.root)}" to it, or build with GOWORK=off.`,
        });
      }
    }
    const goModFile = fileIn(m.root, 'go.mod');
    for (const r of m.goMod.replaces) {
      // In workspace mode go.work's replaces win over a module's own.
      if (inWork && work?.work.replaces.some((w) => w.from === r.from)) continue;
      this.addReplace(m, seen, r, m.root, goModFile);
    }
    for (const req of m.goMod.requires) {
      if (seen.has(req.path)) continue;
      const local = byPath.get(req.path)?.filter((x) => x.root !== m.root) ?? [];
      if (!local.length) continue;
      this.diagnostics.push({
        kind: 'from-proxy',
        root: m.root,
        file: goModFile,
        line: req.line,
        unhashable: false,
        message:
          `${goModFile}:${req.line}: require ${req.path} ${req.version} names the workspace module in ${local[0].root}, but with no ` +
          `replace and no go.work that uses both, Go builds it from the module proxy at ${req.version}: no graph edge to ` +
          `${local[0].project}, and edits there don't reach this build. To build from the workspace: ` +
          `"replace ${req.path} => ${posix.relative(m.root === '.' ? '' : m.root, local[0].root) || '.'}" in ${goModFile}, or a go.work that uses both.`,
      });
    }
    return seen;
  }

  private addReplace(m: GoModule, seen: Map<string, GoModule>, r: Replace, baseDir: string, file: string): void {
    if (!r.local) {
      // A replace by another module path: Go fetches that one; if it names a workspace module path
      // that is visible, the import of r.from resolves there.
      const target = seen.get(r.to);
      if (target) seen.set(r.from, target);
      return;
    }
    const dir = resolveLocalDir(baseDir, r.to);
    const target = dir === undefined ? undefined : this.byRoot.get(dir);
    if (target) {
      seen.set(r.from, target);
      return;
    }
    this.noteReplaceTarget(m, file, r.line, `replace ${r.from} => ${r.to}`, dir, file.endsWith('go.work') ? 'go.work' : 'go.mod');
  }

  private noteReplaceTarget(m: GoModule, file: string, line: number, directive: string, dir: string | undefined, where: string): void {
    const outside = dir === undefined;
    const what = outside ? 'points outside the workspace' : `points at ${dir}, which is no Go module project of this workspace`;
    this.diagnostics.push({
      kind: outside ? 'outside-workspace' : 'not-a-project',
      root: m.root,
      file,
      line,
      unhashable: true,
      message:
        `${file}:${line}: ${directive} ${what}; Nx can't hash what it holds, so the Go targets of ${m.project} are not ` +
        `served from the cache. Fix: ${outside ? 'move that module into the workspace (e.g. libs/<name>) and point the ' + where + ' at it with a relative path' : `give ${dir} a go.mod (then it is a project), or point the ${where} at the module's folder`}.`,
    });
  }

  /** The workspace module that provides `importPath` for code in the module at `fromRoot`, if any. */
  resolve(fromRoot: string, importPath: string): GoModule | undefined {
    const seen = this.visible.get(fromRoot);
    if (!seen) return undefined;
    // Thousands of files import the same few hundred paths: each (module, path) is resolved once.
    let known = this.resolved.get(fromRoot);
    if (!known) this.resolved.set(fromRoot, (known = new Map()));
    const cached = known.get(importPath);
    if (cached !== undefined) return cached ?? undefined;
    let found: GoModule | null = null;
    for (const prefix of pathPrefixes(importPath)) {
      const hit = seen.get(prefix);
      if (hit) {
        found = hit;
        break;
      }
    }
    known.set(importPath, found);
    return found ?? undefined;
  }
  private readonly resolved = new Map<string, Map<string, GoModule | null>>();

  /** The project whose root is this folder, if it is a Go module of the workspace. */
  projectAt(root: string): string | undefined {
    return this.byRoot.get(root)?.project;
  }

  diagnosticsFor(root: string): GoGraphDiagnostic[] {
    return this.diagnostics.filter((d) => d.root === root);
  }
}
