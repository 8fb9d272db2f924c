/**
 * The OCI builder end to end, without the engine: scan the context per platform (each platform
 * gets its own `{name}-linux-{arch}` build output), read the base image from its registry, build
 * layers and configs, and push the index — or hand back the one platform's docker-archive for the
 * engine to load (lib/docker/image-load.ts, loaded lazily by the executor).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanBuildContext, FileMapping } from '../docker/build-context';
import { registryDomainOf, repositoryPathOf } from '../docker/reference';
import { AuthEnv, ResolvedAuth, redact, resolveRegistryAuth, secretsOf } from '../docker/registry-auth';
import { DockerfileError, DockerfilePlan, NeedsEngine, Platform, formatPlatform, needsUserDb, resolveFrom } from './dockerfile';
import {
  BaseImage,
  LayerCache,
  PlatformImage,
  PushResult,
  SCRATCH_USERS,
  assemble,
  baseUserDb,
  buildPlatformImage,
  dockerArchive,
  fetchBaseImage,
  pushImages,
  summarisePush,
} from './build';
import { sourceDateEpoch } from './layers';
import { fileForPlatform } from './platforms';
import { RegistryClient, declaredInsecure } from './registry';
import { UserDb } from './users';

export interface OciInput {
  contextDir: string;
  dockerfile: string;
  files: FileMapping[];
  repository: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  plan: Extract<DockerfilePlan, { kind: 'oci' }>;
  platforms: Platform[];
  env: AuthEnv;
  readText: (file: string) => string | undefined;
  log: (line: string) => void;
  /** Where compressed layers are kept between runs (undefined: no cache). */
  cacheDir?: string;
}

export interface OciBuilt {
  images: PlatformImage[];
  contentDigest: string;
  contentTag: string;
  contentRef: string;
}

export class OciError extends Error {
  constructor(
    message: string,
    readonly kind: 'build' | 'push' | 'auth' | 'daemon',
  ) {
    super(message);
    this.name = 'OciError';
  }
}

const clients = new Map<string, { client: RegistryClient; auth: ResolvedAuth }>();

async function clientFor(domain: string, input: Pick<OciInput, 'env' | 'readText'>): Promise<{ client: RegistryClient; auth: ResolvedAuth }> {
  const cached = clients.get(domain);
  if (cached) return cached;
  let auth: ResolvedAuth;
  try {
    auth = await resolveRegistryAuth(domain, input.env, input.readText);
  } catch (error) {
    throw new OciError(`Could not read registry credentials for ${domain}: ${(error as Error).message}`, 'auth');
  }
  const entry = {
    client: new RegistryClient({
      domain,
      credentials: auth.credentials,
      credentialSource: auth.source,
      insecure: declaredInsecure(domain, input.env as Record<string, string | undefined>),
    }),
    auth,
  };
  clients.set(domain, entry);
  return entry;
}

/** Forget registry clients (tokens, learned challenges) — for tests that change credentials. */
export function resetRegistryClients(): void {
  clients.clear();
}

/** Builds every platform's image in process. */
export async function buildOciImages(input: OciInput): Promise<OciBuilt> {
  const epoch = sourceDateEpoch(input.env);
  const images: PlatformImage[] = [];
  for (const platform of input.platforms) {
    const p = formatPlatform(platform);
    const files = input.files.map((f) => ({ ...f, from: fileForPlatform(f.from, platform) }));
    for (const f of files) {
      if (!fs.existsSync(f.from)) {
        throw new OciError(
          `The ${p} build output ${f.from} does not exist. Build that platform first (the build target's targets), or drop ${p} from platforms.`,
          'build',
        );
      }
    }
    const context = scanBuildContext({ contextDir: input.contextDir, dockerfile: input.dockerfile, files });
    let base: BaseImage | undefined;
    let users: UserDb | undefined;
    const from = resolveFrom(input.plan, input.buildArgs, platform);
    if (from !== 'scratch') {
      const { client } = await clientFor(registryDomainOf(from), input);
      try {
        base = await fetchBaseImage(client, from, platform);
      } catch (error) {
        throw new OciError(`FROM ${from} (${p}): ${(error as Error).message}`, 'build');
      }
      input.log(`base image ${from} (${p}): ${base.manifestDigest}, ${base.layers.length} layer(s)`);
      if (needsUserDb(input.plan)) {
        try {
          users = await baseUserDb(client, base, input.cacheDir);
        } catch (error) {
          if (error instanceof NeedsEngine) throw error;
          throw new OciError(`FROM ${from} (${p}): reading its /etc/passwd and /etc/group for --chown: ${(error as Error).message}`, 'build');
        }
        input.log(`--chown names from ${from} (${p}): ${users.users.length} user(s), ${users.groups.length} group(s)`);
      }
    } else if (needsUserDb(input.plan)) {
      users = SCRATCH_USERS;
    }
    try {
      const img = buildPlatformImage({
        plan: input.plan,
        platform,
        buildArgs: input.buildArgs,
        labels: input.labels,
        epoch,
        context: context.entries,
        read: (e) => fs.readFileSync(e.source!),
        base,
        users,
      });
      for (const w of img.warnings) input.log(`[warning] ${w}`);
      images.push(img);
    } catch (error) {
      if (error instanceof DockerfileError) throw new OciError(error.message, 'build');
      throw error;
    }
  }
  const hash = createHash('sha256');
  for (const img of images) hash.update(`${formatPlatform(img.platform)} ${img.config.descriptor.digest}\n`);
  const contentDigest = hash.digest('hex');
  const contentTag = `c-${contentDigest.slice(0, 12)}`;
  return { images, contentDigest, contentTag, contentRef: `${input.repository}:${contentTag}` };
}

export interface OciPushed extends PushResult {
  registryDigest: string;
}

/** Pushes the built images as one index under the content tag and the convenience tags. */
export async function pushOciImages(input: OciInput, built: OciBuilt): Promise<OciPushed> {
  const domain = registryDomainOf(input.repository);
  const repo = repositoryPathOf(input.repository);
  const { client, auth } = await clientFor(domain, input);
  const safe = (t: string) => redact(t, secretsOf(auth.credentials));
  input.log(`pushing to ${domain} (credentials: ${auth.source})`);
  const cache = new LayerCache(input.cacheDir);
  try {
    const baseClients = (d: string) => clients.get(d)?.client ?? client;
    const result = await pushImages(
      client,
      repo,
      domain,
      built.images,
      assemble(built.images, cache),
      [built.contentTag, ...input.tags.filter((t) => t !== built.contentTag)],
      (l) => input.log(safe(l)),
      baseClients,
    );
    input.log(`push: ${summarisePush(result)}`);
    return { ...result, registryDigest: `${input.repository}@${result.indexDigest}` };
  } catch (error) {
    throw new OciError(`The push of ${built.contentRef} failed: ${safe((error as Error).message)}`, 'push');
  }
}

/** The docker-archive of one platform's image, with base layers downloaded from their registry. */
export async function ociArchive(input: OciInput, img: PlatformImage, repoTags: string[]): Promise<Buffer> {
  const baseBytes: Buffer[] = [];
  if (img.base) {
    const { client } = await clientFor(img.base.domain, input);
    for (const layer of img.base.layers) baseBytes.push(await client.getBlob(img.base.repo, layer.digest));
  }
  return dockerArchive(img, baseBytes, repoTags);
}

/** Where compressed layers are cached: node_modules/.cache/nx-swarm/oci under the workspace. */
export function defaultCacheDir(workspaceRoot: string): string {
  return path.join(workspaceRoot, 'node_modules', '.cache', 'nx-swarm', 'oci');
}
