/**
 * The OCI builder's apply side: per platform, evaluate the Dockerfile over the base image's config,
 * write the layers, the config; then either push (layers gzip'd, HEAD → skip, cross-repository
 * mount for base layers of the same registry, manifests, index, tags) or make the docker-archive the
 * engine loads. No engine code here: pushing needs no daemon.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseReference } from '../docker/reference';
import {
  ContainerConfig,
  DockerfileError,
  DockerfilePlan,
  NeedsEngine,
  Platform,
  evaluateDockerfile,
  formatPlatform,
  resolveFrom,
} from './dockerfile';
import {
  Blob,
  Descriptor,
  ImageConfigFile,
  MEDIA_TYPES,
  blobOf,
  createdTime,
  gzipDeterministicAsync,
  imageConfig,
  imageIndex,
  imageManifest,
  jsonBytes,
} from './image';
import { Layer, SourceEntry, copyStepEntries, makeLayer, sha256Digest } from './layers';
import { RegistryClient } from './registry';
import { TarEntry, writeTar } from './tar';
import { UserDb, userDbOf, userFilesFromLayers } from './users';

export interface BaseImage {
  /** "registry/repo" as written in FROM (normalised). */
  reference: string;
  domain: string;
  repo: string;
  config: ImageConfigFile;
  /** Layer descriptors from the base manifest (compressed blobs in the base's registry). */
  layers: Descriptor[];
  manifestDigest: string;
}

export interface PlatformImage {
  platform: Platform;
  config: Blob;
  configFile: ImageConfigFile;
  /** This build's layers (uncompressed). */
  layers: Layer[];
  base?: BaseImage;
  /** Uncompressed size of all layers (what the engine reports as Size). */
  size: number;
  warnings: string[];
}

const MANIFEST_ACCEPT = [MEDIA_TYPES.index, MEDIA_TYPES.manifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest];

/** FROM name → registry domain and repository path (Docker Hub: registry-1.docker.io, library/). */
export function baseLocation(reference: string): { domain: string; repo: string; ref: string } {
  const parsed = parseReference(reference);
  const domain = parsed.domain ?? 'registry-1.docker.io';
  const repo = !parsed.domain && !parsed.path.includes('/') ? `library/${parsed.path}` : parsed.path;
  return { domain: domain === 'docker.io' ? 'registry-1.docker.io' : domain, repo, ref: parsed.digest ?? parsed.tag ?? 'latest' };
}

/** Reads the base image for one platform from its registry (index → the platform's manifest → config). */
export async function fetchBaseImage(client: RegistryClient, reference: string, platform: Platform): Promise<BaseImage> {
  const { domain, repo, ref } = baseLocation(reference);
  let got = await client.getManifest(repo, ref, MANIFEST_ACCEPT);
  let doc = JSON.parse(got.bytes.toString('utf8')) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  let digest = got.digest ?? sha256Digest(got.bytes);
  const type = got.mediaType || doc.mediaType;
  if (type === MEDIA_TYPES.index || type === MEDIA_TYPES.dockerList || doc.manifests) {
    const match =
      doc.manifests?.find(
        (m) =>
          m.platform?.os === platform.os &&
          m.platform?.architecture === platform.architecture &&
          (m.platform?.variant ?? '') === (platform.variant ?? ''),
      ) ?? doc.manifests?.find((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture);
    if (!match) {
      const has = (doc.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
      throw new DockerfileError(`the base image ${reference} has no ${formatPlatform(platform)} image (it has: ${has || 'none'})`);
    }
    got = await client.getManifest(repo, match.digest, MANIFEST_ACCEPT);
    doc = JSON.parse(got.bytes.toString('utf8'));
    digest = match.digest;
  }
  if (!doc.config || !doc.layers) throw new DockerfileError(`the base image ${reference} has a manifest without config or layers`);
  const config = JSON.parse((await client.getBlob(repo, doc.config.digest)).toString('utf8')) as ImageConfigFile;
  if (config.architecture && config.architecture !== platform.architecture) {
    throw new DockerfileError(`the base image ${reference} is ${config.os}/${config.architecture}, not ${formatPlatform(platform)}`);
  }
  const foreign = doc.layers.find((l) => l.mediaType === MEDIA_TYPES.dockerForeignLayer || l.urls?.length);
  if (foreign) throw new DockerfileError(`the base image ${reference} has a foreign layer (${foreign.digest.slice(0, 19)})`);
  return { reference, domain, repo, config, layers: doc.layers, manifestDigest: digest };
}

export interface BuildSpec {
  plan: Extract<DockerfilePlan, { kind: 'oci' }>;
  platform: Platform;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** SOURCE_DATE_EPOCH or 0. */
  epoch: number;
  context: SourceEntry[];
  read: (entry: Extract<SourceEntry, { type: 'file' }>) => Buffer;
  base?: BaseImage;
  /** For --chown names: the base image's users (baseUserDb), or none for FROM scratch. */
  users?: UserDb;
}

/** One platform's image: layers and config (no I/O beyond `read`). */
export function buildPlatformImage(spec: BuildSpec): PlatformImage {
  const scratch = !spec.base;
  const evaluated = evaluateDockerfile(spec.plan, {
    platform: spec.platform,
    buildArgs: spec.buildArgs,
    base: spec.base?.config.config as ContainerConfig | undefined,
    users: spec.users,
  });
  const config = evaluated.config;
  if (Object.keys(spec.labels).length) config.Labels = { ...(config.Labels ?? {}), ...spec.labels };
  const layers: Layer[] = [];
  const dirs = new Set<string>();
  for (const step of evaluated.copies) {
    const entries: TarEntry[] = copyStepEntries(step, spec.context, spec.read, { mtime: spec.epoch, scratch, existingDirs: dirs });
    for (const e of entries) if (e.type === 'directory') dirs.add(e.path);
    layers.push(makeLayer(entries));
  }
  const created = createdTime(spec.epoch);
  const baseHistory = spec.base?.config.history ?? [];
  const fromLine = { created_by: `FROM ${spec.base ? spec.base.reference : 'scratch'} # nx-swarm oci`, empty_layer: true };
  const configFile = imageConfig({
    platform: spec.platform,
    config,
    diffIds: [...(spec.base?.config.rootfs.diff_ids ?? []), ...layers.map((l) => l.diffId)],
    history: [...baseHistory, { ...fromLine, created }, ...evaluated.history.map((h) => ({ ...h, created }))],
    created,
  });
  const configBlob = blobOf(MEDIA_TYPES.config, jsonBytes(configFile));
  const warnings = evaluated.unusedBuildArgs.length
    ? [`build args not declared with ARG in the Dockerfile: ${evaluated.unusedBuildArgs.join(', ')}`]
    : [];
  const baseSize = 0; // the base's uncompressed size is unknown without downloading it
  return {
    platform: spec.platform,
    config: configBlob,
    configFile,
    layers,
    base: spec.base,
    size: baseSize + layers.reduce((n, l) => n + l.tar.length, 0),
    warnings,
  };
}

export { resolveFrom };

/** What --chown names resolve against in FROM scratch: nothing (docker build fails there too). */
export const SCRATCH_USERS: UserDb = { source: 'FROM scratch', users: [], groups: [] };

/**
 * The base image's users and groups, for --chown names: /etc/passwd and /etc/group as its layers
 * leave them. The layers are downloaded once per base manifest; what was found is kept in
 * `cacheDir` under that digest (a few hundred bytes), so later builds make no request for it.
 */
export async function baseUserDb(client: RegistryClient, base: BaseImage, cacheDir: string | undefined): Promise<UserDb> {
  const source = `the base image ${base.reference}`;
  const file = cacheDir ? path.join(cacheDir, `users-${base.manifestDigest.replace(/[^a-z0-9]+/gi, '-')}.json`) : undefined;
  if (file) {
    try {
      const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { passwd?: unknown; group?: unknown };
      const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return userDbOf(source, { passwd: text(cached.passwd), group: text(cached.group) });
    } catch {
      /* not cached, or unreadable: read the layers */
    }
  }
  const tars: Buffer[] = [];
  for (const layer of base.layers) {
    const blob = await client.getBlob(base.repo, layer.digest);
    if (sha256Digest(blob) !== layer.digest) throw new DockerfileError(`layer ${layer.digest.slice(0, 19)} of ${source} does not match its digest`);
    if (blob[0] === 0x1f && blob[1] === 0x8b) tars.push(gunzipSync(blob));
    else if (blob.readUInt32LE(0) === 0xfd2fb528)
      throw new NeedsEngine(`the base image's layer ${layer.digest.slice(0, 19)} is zstd-compressed (reading its /etc/passwd for --chown)`);
    else tars.push(blob);
  }
  const files = userFilesFromLayers(tars);
  if (file) {
    try {
      fs.mkdirSync(cacheDir!, { recursive: true });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(files));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      /* a cache that can't be written only costs time */
    }
  }
  return userDbOf(source, files);
}

/** gzip'd layers, cached by diff id (a layer already compressed once is not compressed again). */
export class LayerCache {
  constructor(private readonly dir: string | undefined) {}

  async compress(layer: Layer): Promise<Blob> {
    const file = this.dir ? path.join(this.dir, `${layer.diffId.slice(7)}.tar.gz`) : undefined;
    if (file) {
      try {
        const bytes = fs.readFileSync(file);
        return blobOf(MEDIA_TYPES.layerGzip, bytes);
      } catch {
        /* not cached */
      }
    }
    const bytes = await gzipDeterministicAsync(layer.tar);
    if (file) {
      try {
        fs.mkdirSync(this.dir!, { recursive: true });
        fs.writeFileSync(`${file}.tmp`, bytes);
        fs.renameSync(`${file}.tmp`, file);
        this.prune(32);
      } catch {
        /* a cache that can't be written only costs time */
      }
    }
    return blobOf(MEDIA_TYPES.layerGzip, bytes);
  }

  private prune(keep: number) {
    const files = fs.readdirSync(this.dir!).filter((f) => f.endsWith('.tar.gz'));
    if (files.length <= keep) return;
    const byAge = files.map((f) => ({ f, t: fs.statSync(path.join(this.dir!, f)).mtimeMs })).sort((a, b) => a.t - b.t);
    for (const { f } of byAge.slice(0, files.length - keep)) fs.rmSync(path.join(this.dir!, f), { force: true });
  }
}

export interface PushedManifest {
  platform: string;
  digest: string;
  configDigest: string;
  size: number;
}

export interface PushResult {
  indexDigest: string;
  manifests: PushedManifest[];
  blobs: { uploaded: number; uploadedBytes: number; existing: number; mounted: number; copied: number };
  manifestsPut: number;
  tagsPut: string[];
  tagsCurrent: string[];
}

export interface PushLog {
  (line: string): void;
}

function mb(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export type Assembled = Awaited<ReturnType<typeof assemble>>;

/** The manifests and index for built images, with their compressed layers (no network). */
export async function assemble(images: PlatformImage[], cache: LayerCache) {
  const perPlatform = await Promise.all(
    images.map(async (img) => {
      const own = await Promise.all(img.layers.map((l) => cache.compress(l)));
      const manifest = imageManifest(img.config.descriptor, [...(img.base?.layers ?? []), ...own.map((b) => b.descriptor)]);
      const manifestBlob = blobOf(MEDIA_TYPES.manifest, jsonBytes(manifest));
      return { img, own, manifestBlob };
    }),
  );
  const index = imageIndex(perPlatform.map((p) => ({ descriptor: p.manifestBlob.descriptor, platform: p.img.platform })));
  const indexBlob = blobOf(MEDIA_TYPES.index, jsonBytes(index));
  return { perPlatform, index, indexBlob };
}

/** How a blob got to the registry: it had it, or this push mounted, copied or uploaded it. */
type BlobOutcome = 'existing' | 'mounted' | 'uploaded';

/**
 * Pushes images as one index, tagged with `tags`. Only HEADs when the registry has everything.
 *
 * `assembling` is the compression of the layers (assemble()), still running when this starts: the
 * blobs whose digests are already known (each config, each base layer) are checked meanwhile, which
 * also learns the registry's auth challenge. A manifest one of whose blobs the registry lacked can't
 * be there either, so it is put without asking; the same for the tags of an index with a new manifest.
 */
export async function pushImages(
  client: RegistryClient,
  repo: string,
  domain: string,
  images: PlatformImage[],
  assembling: Promise<Assembled>,
  tags: string[],
  log: PushLog,
  baseClient?: (domain: string) => RegistryClient,
): Promise<PushResult> {
  const blobs = { uploaded: 0, uploadedBytes: 0, existing: 0, mounted: 0, copied: 0 };
  // One promise per digest: platforms share blobs (a data layer, a base layer) and run in parallel.
  const inFlight = new Map<string, Promise<BlobOutcome>>();
  const ensureBlob = (blob: { descriptor: Descriptor; bytes?: Buffer }, what: string, base?: BaseImage): Promise<BlobOutcome> => {
    const { digest } = blob.descriptor;
    let p = inFlight.get(digest);
    if (!p) {
      p = sendBlob(blob, what, base);
      inFlight.set(digest, p);
    }
    return p;
  };
  const sendBlob = async (blob: { descriptor: Descriptor; bytes?: Buffer }, what: string, base?: BaseImage): Promise<BlobOutcome> => {
    const { digest, size } = blob.descriptor;
    if (await client.hasBlob(repo, digest)) {
      blobs.existing++;
      log(`  ${digest.slice(7, 19)} ${what}: already there`);
      return 'existing';
    }
    if (base && base.domain === domain && base.repo !== repo && (await client.mountBlob(repo, digest, base.repo))) {
      blobs.mounted++;
      log(`  ${digest.slice(7, 19)} ${what}: mounted from ${base.repo}`);
      return 'mounted';
    }
    let bytes = blob.bytes;
    if (!bytes && base) {
      bytes = await (baseClient?.(base.domain) ?? client).getBlob(base.repo, digest);
      blobs.copied++;
    }
    if (!bytes) throw new Error(`no content for blob ${digest}`);
    const started = Date.now();
    await client.uploadBlob(repo, digest, bytes);
    blobs.uploaded++;
    blobs.uploadedBytes += bytes.length;
    log(`  ${digest.slice(7, 19)} ${what}: uploaded ${mb(size)} in ${Date.now() - started} ms`);
    return 'uploaded';
  };
  const knownBlobs = (img: PlatformImage) => {
    const p = formatPlatform(img.platform);
    return [
      ...(img.base?.layers ?? []).map((layer) => ensureBlob({ descriptor: layer }, `${p} base layer`, img.base)),
      ensureBlob(img.config, `${p} config`),
    ];
  };

  // While the layers compress. Awaited again below; a failure here is reported from there.
  for (const img of images) for (const early of knownBlobs(img)) early.catch(() => undefined);
  const assembled = await assembling;

  let manifestsPut = 0;
  const manifests: PushedManifest[] = await Promise.all(
    assembled.perPlatform.map(async ({ img, own, manifestBlob }) => {
      const p = formatPlatform(img.platform);
      const outcomes = await Promise.all([...knownBlobs(img), ...own.map((layer) => ensureBlob(layer, `${p} layer`))]);
      const digest = manifestBlob.descriptor.digest;
      const there = outcomes.every((o) => o === 'existing') && (await client.headManifest(repo, digest, [MEDIA_TYPES.manifest]));
      if (!there) {
        await client.putManifest(repo, digest, MEDIA_TYPES.manifest, manifestBlob.bytes);
        manifestsPut++;
      }
      return { platform: p, digest, configDigest: img.config.descriptor.digest, size: manifestBlob.descriptor.size };
    }),
  );
  const indexDigest = assembled.indexBlob.descriptor.digest;
  const tagsPut: string[] = [];
  const tagsCurrent: string[] = [];
  // An index with a manifest new to the registry can't be what a tag serves.
  const served = manifestsPut
    ? tags.map(() => undefined)
    : await Promise.all(tags.map((tag) => client.headManifest(repo, tag, [MEDIA_TYPES.index, MEDIA_TYPES.manifest])));
  // The tags that need it are put at once (each PUT carries the same index).
  await Promise.all(
    tags.map(async (tag, i) => {
      if (served[i]?.digest === indexDigest) return;
      const stored = await client.putManifest(repo, tag, MEDIA_TYPES.index, assembled.indexBlob.bytes);
      if (stored && stored !== indexDigest) throw new Error(`the registry stored the index of ${repo}:${tag} as ${stored}, expected ${indexDigest}`);
    }),
  );
  for (const [i, tag] of tags.entries()) (served[i]?.digest === indexDigest ? tagsCurrent : tagsPut).push(tag);
  return { indexDigest, manifests, blobs, manifestsPut, tagsPut, tagsCurrent };
}

/**
 * The docker-archive (`docker save` format) the engine loads through POST /images/load: its
 * manifest.json, the config, and the layers (ours uncompressed; base layers as the registry serves
 * them, which the engine decompresses). The image id the engine assigns is the config digest.
 */
export function dockerArchive(img: PlatformImage, baseLayerBytes: Buffer[], repoTags: string[]): Buffer {
  const mtime = 0;
  const file = (p: string, content: Buffer): TarEntry => ({ type: 'file', path: p, mode: 0o644, uid: 0, gid: 0, mtime, content });
  const configName = `blobs/sha256/${img.config.descriptor.digest.slice(7)}`;
  const layerFiles: TarEntry[] = [];
  const layerNames: string[] = [];
  baseLayerBytes.forEach((bytes, i) => {
    const name = `blobs/sha256/${img.base!.layers[i].digest.slice(7)}`;
    layerNames.push(name);
    layerFiles.push(file(name, bytes));
  });
  for (const layer of img.layers) {
    const name = `blobs/sha256/${layer.diffId.slice(7)}`;
    layerNames.push(name);
    layerFiles.push(file(name, layer.tar));
  }
  const manifest = [{ Config: configName, RepoTags: repoTags, Layers: layerNames }];
  const unique = new Map<string, TarEntry>();
  for (const e of [file(configName, img.config.bytes), ...layerFiles, file('manifest.json', jsonBytes(manifest))]) unique.set(e.path, e);
  return writeTar([
    { type: 'directory', path: 'blobs', mode: 0o755, uid: 0, gid: 0, mtime },
    { type: 'directory', path: 'blobs/sha256', mode: 0o755, uid: 0, gid: 0, mtime },
    ...unique.values(),
  ]);
}

export function summarisePush(r: PushResult): string {
  const parts = [`${r.blobs.uploaded} blob(s) uploaded (${mb(r.blobs.uploadedBytes)})`, `${r.blobs.existing} already there`];
  if (r.blobs.mounted) parts.push(`${r.blobs.mounted} mounted`);
  if (r.blobs.copied) parts.push(`${r.blobs.copied} copied from the base registry`);
  parts.push(`${r.manifestsPut} manifest(s) put`);
  parts.push(r.tagsPut.length ? `tags put: ${r.tagsPut.join(', ')}` : 'tags already current');
  return parts.join(', ');
}
