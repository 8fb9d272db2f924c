// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- tar-stream 2 ships no types; the local declaration travels with this file
/// <reference path="./tar-stream.d.ts" />
/**
 * The build context as the daemon will receive it:
 *
 *   - the context directory, filtered by its `.dockerignore` (docker's semantics through
 *     @balena/dockerignore; the Dockerfile and `.dockerignore` are always sent, like the docker CLI);
 *   - `files` mapped in at their `to` path (always included, overriding a context file there),
 *     so build outputs never have to be copied into the source tree;
 *   - a Dockerfile outside the context is sent as `.nx-swarm.Dockerfile`.
 *
 * The tar is normalised: entries sorted by path, mtime 0, uid/gid 0, no user/group names, modes
 * 0755/0644. `scanBuildContext` reads the disk and hashes content; `packBuildContext` writes the tar.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import * as tar from 'tar-stream';
import { ContextEntry, comparePaths, normaliseMode } from './context-digest';

/** A context entry together with the file on disk its content comes from. */
export type SourcedEntry = ContextEntry & { source?: string };

export interface FileMapping {
  /** Absolute path of the file on disk. */
  from: string;
  /** Posix path inside the context. */
  to: string;
}

export interface ContextSpec {
  /** Absolute context directory. */
  contextDir: string;
  /** Absolute Dockerfile path. */
  dockerfile: string;
  files?: FileMapping[];
}

export interface ScannedContext {
  entries: SourcedEntry[];
  /** The Dockerfile's path inside the sent context. */
  dockerfileInContext: string;
  /** Number of context paths excluded by .dockerignore (for the summary). */
  ignoredCount: number;
}

export const EXTERNAL_DOCKERFILE_NAME = '.nx-swarm.Dockerfile';
/** Every entry's mtime in the tar. */
export const NORMALISED_MTIME = new Date(0);

const toPosix = (p: string) => p.split(path.sep).join('/');

/** sha256 hex of a file, read in chunks. */
export function hashFile(file: string): { sha256: string; size: number } {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size };
}

/** Is `child` inside `parent` (or equal)? Returns the posix relative path, or undefined. */
export function relativeInside(parent: string, child: string): string | undefined {
  const rel = path.relative(parent, child);
  if (rel === '') return '';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return toPosix(rel);
}

/** Validates a `to` path: relative, normalised, inside the context. */
export function contextPathProblem(to: string): string | undefined {
  if (!to) return 'is empty';
  if (to.startsWith('/') || /^[A-Za-z]:/.test(to)) return `"${to}" must be relative to the context`;
  const normalised = path.posix.normalize(to);
  if (normalised.startsWith('..') || normalised === '.') return `"${to}" must stay inside the context`;
  return undefined;
}

function fileEntry(rel: string, source: string, stat: fs.Stats): SourcedEntry {
  const { sha256, size } = hashFile(source);
  return { type: 'file', path: rel, mode: stat.mode & 0o777, size, sha256, mtimeMs: stat.mtimeMs, uid: stat.uid, gid: stat.gid, source };
}

/** Walks the context, applies .dockerignore and the file mappings, hashes every file. */
export function scanBuildContext(spec: ContextSpec): ScannedContext {
  const { contextDir } = spec;
  let ignoreText = '';
  try {
    ignoreText = fs.readFileSync(path.join(contextDir, '.dockerignore'), 'utf8');
  } catch {
    /* no .dockerignore */
  }
  const matcher = dockerignore({ ignorecase: false }).add(ignoreText);
  const hasExceptions = ignoreText.split(/\r?\n/).some((l) => l.trim().startsWith('!'));

  const dockerfileRel = relativeInside(contextDir, spec.dockerfile);
  const dockerfileInContext = dockerfileRel || EXTERNAL_DOCKERFILE_NAME;
  const alwaysSent = new Set(['.dockerignore', dockerfileInContext]);

  const byPath = new Map<string, SourcedEntry>();
  let ignoredCount = 0;

  const walk = (dir: string, relDir: string) => {
    const names = fs.readdirSync(dir).sort();
    for (const name of names) {
      const abs = path.join(dir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const stat = fs.lstatSync(abs);
      const ignored = matcher.ignores(rel) && !alwaysSent.has(rel);
      if (stat.isDirectory()) {
        if (!ignored) byPath.set(rel, { type: 'directory', path: rel, mode: stat.mode & 0o777, mtimeMs: stat.mtimeMs, uid: stat.uid, gid: stat.gid });
        else ignoredCount++;
        // An excluded directory can still hold re-included paths ("!dir/keep"): descend only then.
        if (!ignored || hasExceptions) walk(abs, rel);
        continue;
      }
      if (ignored) {
        ignoredCount++;
        continue;
      }
      if (stat.isSymbolicLink()) {
        byPath.set(rel, { type: 'symlink', path: rel, target: fs.readlinkSync(abs), mtimeMs: stat.mtimeMs, uid: stat.uid, gid: stat.gid });
      } else if (stat.isFile()) {
        byPath.set(rel, fileEntry(rel, abs, stat));
      }
      // sockets, fifos and devices are not sent (the docker CLI does not send them either)
    }
  };
  walk(contextDir, '');

  if (!dockerfileRel) {
    byPath.set(EXTERNAL_DOCKERFILE_NAME, fileEntry(EXTERNAL_DOCKERFILE_NAME, spec.dockerfile, fs.statSync(spec.dockerfile)));
  }

  for (const mapping of spec.files ?? []) {
    const problem = contextPathProblem(mapping.to);
    if (problem) throw new Error(`files: "to" ${problem}`);
    const to = path.posix.normalize(mapping.to);
    const stat = fs.statSync(mapping.from);
    if (!stat.isFile()) throw new Error(`files: ${mapping.from} is not a regular file.`);
    const existing = byPath.get(to);
    if (existing?.type === 'directory') throw new Error(`files: "${to}" is a directory in the context; choose another "to".`);
    byPath.set(to, fileEntry(to, mapping.from, stat));
  }

  const entries = [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
  return { entries, dockerfileInContext, ignoredCount };
}

/** The normalised tar header of an entry. */
export function tarHeader(entry: ContextEntry): tar.Headers {
  const common = { name: entry.path, mtime: NORMALISED_MTIME, uid: 0, gid: 0, uname: '', gname: '' };
  switch (entry.type) {
    case 'file':
      return { ...common, type: 'file', size: entry.size, mode: normaliseMode('file', entry.mode) };
    case 'directory':
      return { ...common, type: 'directory', mode: normaliseMode('directory', 0) };
    case 'symlink':
      return { ...common, type: 'symlink', linkname: entry.target, mode: 0o777 };
  }
}

/** Writes the scanned entries into an (uncompressed) tar stream, in order. */
export function packBuildContext(entries: SourcedEntry[]): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.on('error', (e: Error) => out.destroy(e));
  pack.pipe(out);
  void (async () => {
    for (const entry of entries) {
      const header = tarHeader(entry);
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (entry.type !== 'file') {
          pack.entry(header, done);
          return;
        }
        const sink = pack.entry(header, done);
        const source = fs.createReadStream(entry.source ?? path.join('/nonexistent', entry.path));
        source.on('error', reject);
        source.pipe(sink);
      });
    }
    pack.finalize();
  })().catch((error: Error) => out.destroy(new Error(`Could not write the build context: ${error.message}`)));
  return out;
}
