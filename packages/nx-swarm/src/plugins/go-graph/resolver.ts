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

/**
 * What every module listed in one go.work sees through it (its use list and its replaces), and the
 * findings about those lines, which each such module reports as its own.
 */
interface WorkView {
  /** The folders of its use list that are in the workspace. */
  uses: Set<string>;
  seen: Map<string, GoModule>;
  findings: { file: string; line: number; directive: string; dir: string | undefined; where: string }[];
}

export class GoResolver {
  private readonly byRoot = new Map<string, GoModule>();
  private readonly visible = new Map<string, Map<string, GoModule>>();
  private readonly views = new Map<GoWorkFile, WorkView>();
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
    for (const m of modules) this.visible.set(m.root, this.visibleFrom(m, sortedWorks, byPath));
    // A go.work line seen from several modules is one finding per module, said once.
    const keys = new Set<string>();
    const unique = this.diagnostics.filter((d) => {
      const key = `${d.kind}\0${d.root}\0${d.file}\0${d.line}`;
      return keys.has(key) ? false : (keys.add(key), true);
    });
    this.diagnostics.splice(0, this.diagnostics.length, ...unique);
  }

  /**
   * The go.work's use list and replaces as its modules see them, built once per go.work: the same
   * for each of them (each sees itself through the use list), so a module with no replaces of its
   * own shares the map, and its resolutions, with the others.
   */
  private viewOf(work: GoWorkFile): WorkView {
    const known = this.views.get(work);
    if (known) return known;
    const view: WorkView = { uses: new Set(), seen: new Map(), findings: [] };
    const file = fileIn(work.dir, 'go.work');
    for (const u of work.work.uses) {
      const dir = resolveLocalDir(work.dir, u.dir);
      if (dir !== undefined) view.uses.add(dir);
      const target = dir === undefined ? undefined : this.byRoot.get(dir);
      if (target?.goMod.module) view.seen.set(target.goMod.module.path, target);
      else if (target === undefined) view.findings.push({ file, line: u.line, directive: `use ${u.dir}`, dir, where: 'go.work' });
    }
    for (const r of work.work.replaces) {
      const finding = this.applyReplace(view.seen, r, work.dir);
      if (finding) view.findings.push({ file, line: r.line, directive: finding.directive, dir: finding.dir, where: 'go.work' });
    }
    this.views.set(work, view);
    return view;
  }

  private visibleFrom(m: GoModule, works: GoWorkFile[], byPath: Map<string, GoModule[]>): Map<string, GoModule> {
    let seen = new Map<string, GoModule>();
    if (m.goMod.module) seen.set(m.goMod.module.path, m);
    const work = works.find((w) => isAncestorDir(w.dir, m.root));
    let inWork = false;
    if (work) {
      const view = this.viewOf(work);
      inWork = view.uses.has(m.root);
      if (inWork) {
        seen = view.seen;
        for (const f of view.findings) this.noteReplaceTarget(m, f.file, f.line, f.directive, f.dir, f.where);
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
    // In workspace mode go.work's replaces win over a module's own.
    const own = m.goMod.replaces.filter((r) => !(inWork && work?.work.replaces.some((w) => w.from === r.from)));
    if (own.length && inWork) seen = new Map(seen); // its own replaces on a copy of the shared view
    for (const r of own) {
      const finding = this.applyReplace(seen, r, m.root);
      if (finding) this.noteReplaceTarget(m, goModFile, r.line, finding.directive, finding.dir, 'go.mod');
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

  /** Applies a replace to `seen`; what to report when its local target can't be hashed. */
  private applyReplace(seen: Map<string, GoModule>, r: Replace, baseDir: string): { directive: string; dir: string | undefined } | undefined {
    if (!r.local) {
      // A replace by another module path: Go fetches that one; if it names a workspace module path
      // that is visible, the import of r.from resolves there.
      const target = seen.get(r.to);
      if (target) seen.set(r.from, target);
      return undefined;
    }
    const dir = resolveLocalDir(baseDir, r.to);
    const target = dir === undefined ? undefined : this.byRoot.get(dir);
    if (target) {
      seen.set(r.from, target);
      return undefined;
    }
    return { directive: `replace ${r.from} => ${r.to}`, dir };
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
    // Thousands of files import the same few hundred paths: each path is resolved once per view
    // (the modules of one go.work without replaces of their own share one).
    let known = this.resolved.get(seen);
    if (!known) this.resolved.set(seen, (known = new Map()));
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
  private readonly resolved = new Map<Map<string, GoModule>, Map<string, GoModule | null>>();

  /** The project whose root is this folder, if it is a Go module of the workspace. */
  projectAt(root: string): string | undefined {
    return this.byRoot.get(root)?.project;
  }

  diagnosticsFor(root: string): GoGraphDiagnostic[] {
    return this.diagnostics.filter((d) => d.root === root);
  }
}
