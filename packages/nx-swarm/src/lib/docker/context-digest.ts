/**
 * The content digest of an image build: what the daemon will receive (the build context as
 * sent, with paths sorted and timestamps/ownership normalised), plus everything else that changes
 * the image: Dockerfile location, build args, target, platform and labels. Pure: entries come in
 * with their content hashes; nothing here reads the disk.
 *
 * The image is tagged `c-<first 12 hex>` of this digest and labelled with the full digest.
 */
import { createHash } from 'node:crypto';

/** One entry of the build context, as it will appear in the tar. */
export type ContextEntry =
  | { type: 'file'; path: string; mode: number; size: number; sha256: string; mtimeMs?: number; uid?: number; gid?: number }
  | { type: 'directory'; path: string; mode: number; mtimeMs?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string; mtimeMs?: number; uid?: number; gid?: number };

export interface DigestInput {
  entries: ContextEntry[];
  /** Path of the Dockerfile inside the context (posix). */
  dockerfile: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  target?: string;
  platform?: string;
}

/** Bumped whenever the serialisation below changes, so old content tags are not reused. */
export const DIGEST_FORMAT = 'nx-swarm/context-digest/v1';
export const CONTENT_TAG_PREFIX = 'c-';
export const CONTENT_TAG_HEX_LENGTH = 12;
export const CONTENT_DIGEST_LABEL = 'io.nx-swarm.content-digest';

/** The permission bits written to the tar: 0755 when any execute bit is set, else 0644; dirs 0755. */
export function normaliseMode(type: ContextEntry['type'], mode: number): number {
  if (type === 'directory' || type === 'symlink') return 0o755;
  return mode & 0o111 ? 0o755 : 0o644;
}

function sortedRecord(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Byte-wise path ordering (stable regardless of locale). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * sha256 hex over a canonical, line-oriented description. mtime, uid and gid of the entries are
 * ignored on purpose (the tar normalises them); the order of entries is irrelevant.
 */
export function computeContentDigest(input: DigestInput): string {
  const hash = createHash('sha256');
  const line = (...fields: (string | number)[]) => hash.update(JSON.stringify(fields) + '\n');
  line(DIGEST_FORMAT);
  line('dockerfile', input.dockerfile);
  line('target', input.target ?? '');
  line('platform', input.platform ?? '');
  for (const [k, v] of sortedRecord(input.buildArgs)) line('arg', k, v);
  for (const [k, v] of sortedRecord(input.labels)) line('label', k, v);
  const entries = [...input.entries].sort((a, b) => comparePaths(a.path, b.path));
  for (const e of entries) {
    switch (e.type) {
      case 'file':
        line('f', e.path, normaliseMode('file', e.mode).toString(8), e.size, e.sha256);
        break;
      case 'directory':
        line('d', e.path, normaliseMode('directory', e.mode).toString(8));
        break;
      case 'symlink':
        line('l', e.path, e.target);
        break;
    }
  }
  return hash.digest('hex');
}

/** "c-" + the first 12 hex characters of the content digest. */
export function contentTagFor(digest: string): string {
  return `${CONTENT_TAG_PREFIX}${digest.slice(0, CONTENT_TAG_HEX_LENGTH)}`;
}
