/**
 * COPY/ADD steps → layer tar entries, byte-reproducibly: entries sorted by path, every mtime the
 * same (SOURCE_DATE_EPOCH, else 0), modes 0755 (any execute bit) / 0644 unless --chmod, owners 0:0
 * unless --chown, no user/group names, no xattrs. Pure: the build context comes in as scanned
 * entries (relative posix paths, modes) and file content through `read`.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { CopyStep, DockerfileError, NeedsEngine } from './dockerfile';
import { TarEntry, writeTar } from './tar';

/** A build-context entry as scanned (see lib/docker/build-context.ts). */
export type SourceEntry =
  | { type: 'file'; path: string; mode: number; source?: string }
  | { type: 'directory'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string };

export interface Layer {
  /** The uncompressed tar. */
  tar: Buffer;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

/** SOURCE_DATE_EPOCH (seconds) when set and valid, else 0. */
export function sourceDateEpoch(env: Record<string, string | undefined>): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d+$/.test(v)) throw new Error(`SOURCE_DATE_EPOCH="${v}" is not a number of seconds since 1970.`);
  return Number(v);
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** path.Match-style glob for one path ("*" and "?" stay within a component, [..] classes). */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new DockerfileError(`bad wildcard pattern "${pattern}"`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const ARCHIVE_MAGIC: [number, number[]][] = [
  [0, [0x1f, 0x8b]], // gzip
  [0, [0x42, 0x5a, 0x68]], // bzip2
  [0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]], // xz
  [0, [0x28, 0xb5, 0x2f, 0xfd]], // zstd
  [257, [0x75, 0x73, 0x74, 0x61, 0x72]], // "ustar"
];

/** Would ADD unpack this content? */
export function looksLikeArchive(content: Buffer): boolean {
  return ARCHIVE_MAGIC.some(([offset, magic]) => magic.every((b, i) => content[offset + i] === b));
}

interface Placed {
  entry: TarEntry;
}

/**
 * The tar entries of one COPY/ADD step. `scratch`: the image has no base filesystem, so the
 * destination's missing parent directories are written too (0755, root) — over a base image they
 * are left to the base (overwriting /usr or /tmp there would change their modes).
 */
export function copyStepEntries(
  step: CopyStep,
  context: SourceEntry[],
  read: (entry: Extract<SourceEntry, { type: 'file' }>) => Buffer,
  opts: { mtime: number; scratch: boolean; existingDirs?: ReadonlySet<string> },
): TarEntry[] {
  const at = `line ${step.line}: ${step.instruction}`;
  const byPath = new Map(context.map((e) => [e.path, e]));
  const owner = step.chown ?? { uid: 0, gid: 0 };
  const out = new Map<string, Placed>();
  const destRel = step.dest.replace(/^\/+/, '');
  const put = (rel: string, entry: TarEntry) => out.set(rel, { entry });
  const dir = (rel: string, own = owner) => {
    if (!rel) return;
    put(rel, { type: 'directory', path: rel, mode: step.chmod ?? 0o755, uid: own.uid, gid: own.gid, mtime: opts.mtime });
  };
  const placeFile = (src: Extract<SourceEntry, { type: 'file' } | { type: 'symlink' }>, rel: string) => {
    if (!rel) throw new DockerfileError(`${at}: cannot copy the file ${src.path} to /`);
    if (src.type === 'symlink') {
      put(rel, { type: 'symlink', path: rel, target: src.target, uid: owner.uid, gid: owner.gid, mtime: opts.mtime });
      return;
    }
    const content = read(src);
    if (step.instruction === 'ADD' && looksLikeArchive(content)) throw new NeedsEngine(`${at} of the archive ${src.path} (ADD unpacks it)`);
    const mode = step.chmod ?? (src.mode & 0o111 ? 0o755 : 0o644);
    put(rel, { type: 'file', path: rel, mode, uid: owner.uid, gid: owner.gid, mtime: opts.mtime, content });
  };
  const placeDirContents = (srcDir: string, destDir: string) => {
    dir(destDir);
    const prefix = srcDir === '.' ? '' : `${srcDir}/`;
    for (const e of context) {
      if (!e.path.startsWith(prefix) || e.path === srcDir) continue;
      const rel = path.posix.join(destDir, e.path.slice(prefix.length));
      if (e.type === 'directory') dir(rel);
      else placeFile(e, rel);
    }
  };

  for (const source of step.sources) {
    const matches: SourceEntry[] = [];
    if (source === '.') matches.push({ type: 'directory', path: '.', mode: 0o755 });
    else if (/[*?[]/.test(source)) {
      const re = globToRegExp(source);
      matches.push(...context.filter((e) => re.test(e.path)));
    } else {
      const found = byPath.get(source);
      if (found) matches.push(found);
      else if (context.some((e) => e.path.startsWith(`${source}/`))) matches.push({ type: 'directory', path: source, mode: 0o755 });
    }
    if (matches.length === 0) {
      throw new DockerfileError(
        `COPY failed: file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist (${at})`,
      );
    }
    for (const m of matches) {
      if (m.type === 'directory') placeDirContents(m.path, destRel);
      else placeFile(m, step.destIsDir ? path.posix.join(destRel, path.posix.basename(m.path)) : destRel);
    }
  }

  if (opts.scratch) {
    // Parents of everything written, root-owned, unless this step or an earlier layer writes them.
    for (const rel of [...out.keys()]) {
      let parent = path.posix.dirname(rel);
      while (parent !== '.' && parent !== '/' && !out.has(parent) && !opts.existingDirs?.has(parent)) {
        put(parent, { type: 'directory', path: parent, mode: 0o755, uid: 0, gid: 0, mtime: opts.mtime });
        parent = path.posix.dirname(parent);
      }
    }
  }
  return [...out.values()].map((p) => p.entry).sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** Tar bytes and diff id of a layer. */
export function makeLayer(entries: TarEntry[]): Layer {
  const tar = writeTar(entries);
  return { tar, diffId: sha256Digest(tar) };
}
