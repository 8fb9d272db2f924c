/**
 * OCI image bytes: the deterministic gzip of a layer, the image config, the image manifest and the
 * image index. Pure. JSON is serialised with a fixed key order (objects are built in that order),
 * no whitespace, so equal inputs give equal digests.
 *
 * Digests: the config digest (the engine's image id) depends only on the uncompressed layers and
 * the config; manifest and index digests also depend on the gzip bytes, which are fixed for one
 * zlib build (process.versions.zlib; the OS byte of the gzip header is always 3, Unix) and the
 * member size (GZIP_MEMBER_BYTES).
 */
import * as zlib from 'node:zlib';
import { ContainerConfig, HistoryEntry, Platform } from './dockerfile';
import { sha256Digest } from './layers';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Fixed settings: level 1 (what ko and go-containerregistry use: fast, ~8% larger than level 6). */
export const GZIP_LEVEL = 1;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface Blob {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface ImageConfigFile {
  created: string;
  architecture: string;
  os: string;
  variant?: string;
  config: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: Array<HistoryEntry & { created: string }>;
}

/**
 * A layer is compressed in pieces of this many uncompressed bytes, each its own gzip member, and
 * the members are concatenated (RFC 1952 §2.2; every gzip reader, Go's and the engine's included,
 * reads them all). Fixed, not the number of cores, so the bytes are the same on every machine; the
 * pieces compress in parallel on the thread pool. A layer up to this size is one plain member.
 */
export const GZIP_MEMBER_BYTES = 2 * 1024 * 1024;

/** The zlib settings of every layer (with GZIP_LEVEL): part of what makes the bytes reproducible. */
export const GZIP_OPTIONS = { level: GZIP_LEVEL, memLevel: 8, windowBits: 15, strategy: zlib.constants.Z_DEFAULT_STRATEGY };

function pieces(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length || offset === 0; offset += GZIP_MEMBER_BYTES) out.push(data.subarray(offset, offset + GZIP_MEMBER_BYTES));
  return out;
}

/** gzip with fixed settings and fixed headers (mtime 0, OS 3), one member per GZIP_MEMBER_BYTES. */
export function gzipDeterministic(data: Buffer): Buffer {
  return Buffer.concat(pieces(data).map((piece) => fixGzipHeader(zlib.gzipSync(piece, GZIP_OPTIONS))));
}

/** The same bytes, with the members compressed in parallel on the thread pool. */
export async function gzipDeterministicAsync(data: Buffer): Promise<Buffer> {
  const members = await Promise.all(
    pieces(data).map(
      (piece) =>
        new Promise<Buffer>((resolve, reject) => zlib.gzip(piece, GZIP_OPTIONS, (err, out) => (err ? reject(err) : resolve(fixGzipHeader(out))))),
    ),
  );
  return members.length === 1 ? members[0] : Buffer.concat(members);
}

function fixGzipHeader(gz: Buffer): Buffer {
  gz.writeUInt32LE(0, 4); // MTIME
  gz[9] = 3; // OS: Unix, whatever the zlib build says
  return gz;
}

/** "1970-01-01T00:00:00Z" or SOURCE_DATE_EPOCH as RFC 3339. */
export function createdTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function blobOf(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Blob {
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length, ...extra }, bytes };
}

/** Drops undefined/empty-null fields so the JSON is the same however the config was reached. */
function cleanConfig(config: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = {};
  const order = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck'];
  const keys = [
    ...order.filter((k) => k in config),
    ...Object.keys(config)
      .filter((k) => !order.includes(k))
      .sort(),
  ];
  for (const k of keys) {
    const v = config[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && k !== 'Healthcheck' ? sortKeys(v as Record<string, unknown>) : v;
  }
  return out;
}

function sortKeys<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}

export function imageConfig(input: {
  platform: Platform;
  config: ContainerConfig;
  diffIds: string[];
  history: Array<HistoryEntry & { created?: string }>;
  created: string;
}): ImageConfigFile {
  const file: ImageConfigFile = {
    created: input.created,
    architecture: input.platform.architecture,
    os: input.platform.os,
    ...(input.platform.variant ? { variant: input.platform.variant } : {}),
    config: cleanConfig(input.config),
    rootfs: { type: 'layers', diff_ids: input.diffIds },
    history: input.history.map((h) => ({ created: h.created ?? input.created, ...h })),
  };
  return file;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export function imageManifest(config: Descriptor, layers: Descriptor[]): ImageManifest {
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config, layers };
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** The index over per-platform manifests, sorted by platform so the order of building doesn't matter. */
export function imageIndex(manifests: Array<{ descriptor: Descriptor; platform: Platform }>): ImageIndex {
  const entries = manifests
    .map(({ descriptor, platform }) => ({
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) },
    }))
    .sort((a, b) => {
      const ka = `${a.platform.os}/${a.platform.architecture}/${a.platform.variant ?? ''}`;
      const kb = `${b.platform.os}/${b.platform.architecture}/${b.platform.variant ?? ''}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: entries };
}
