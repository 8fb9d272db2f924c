/**
 * The apply side of the docker-image executor: given a plan (see `prepareImage`), make sure the
 * content-tagged image exists in the daemon (build only when it does not), move the convenience
 * tags, and push when asked. Everything goes through dockerode; nothing shells out to docker.
 *
 *   1. inspect repo:c-<digest>; present with the matching label → no build
 *   2. otherwise POST /build with the normalised tar, stream parsed for errorDetail; the credentials
 *      of the registries its FROM / COPY --from images come from go in X-Registry-Config, as
 *      `docker build` sends them (a private base image pulls)
 *   3. tag repo:<tag> for each convenience tag
 *   4. push: skipped per tag when the registry already serves the digest this daemon pushed
 */
import type { ImageReceipt } from './image-receipt';
import type Docker from 'dockerode';
import { daemonMessage } from './engine';
import { ContextSpec, ScannedContext, packBuildContext, scanBuildContext } from './build-context';
import { CONTENT_DIGEST_LABEL, computeContentDigest, contentTagFor } from './context-digest';
import { ProgressOutcome, followStream } from './progress-stream';
import { imagesPulledBy } from '../oci/dockerfile';
import { registryDomainOf } from './reference';
import { AuthEnv, RegistryCredentials, ResolvedAuth, encodeRegistryAuth, redact, resolveRegistryAuth, secretsOf } from './registry-auth';

export interface ImagePlan extends ContextSpec {
  /** Full repository, with the registry host when there is one. */
  repository: string;
  /** Convenience tags, moved to the image on every run. */
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  platform?: string;
  push: boolean;
  /** auto | oci | engine */
  builder: 'auto' | 'oci' | 'engine';
  /** OCI builder: the index's platforms (explicit option); undefined: the executor's default. */
  platforms?: string[];
}

export interface PreparedImage {
  plan: ImagePlan;
  context: ScannedContext;
  contentDigest: string;
  contentTag: string;
  /** repository:contentTag */
  contentRef: string;
}

/**
 * What the Engine builder produced: the receipt's own fields (the receipt type is the one
 * definition), plus the daemon's creation time. receiptOf turns it into the receipt.
 */
export type ImageResult = Pick<
  ImageReceipt,
  'repository' | 'tags' | 'contentTag' | 'contentRef' | 'contentDigest' | 'imageId' | 'size' | 'built' | 'pushed' | 'registryDigest' | 'tagsMoved'
> & {
  /** The image's creation time as the daemon reports it. */
  created: string;
};

/** The receipt of an Engine build. */
export function receiptOf(result: ImageResult, builderReason: string, now = new Date()): ImageReceipt {
  const { created: _created, registryDigest, ...rest } = result;
  return { ...rest, ...(registryDigest ? { registryDigest } : {}), createdAt: now.toISOString(), builder: 'engine', builderReason };
}

/** What went wrong, for the executor's message. */
export type ImageFailureKind = 'build' | 'push' | 'daemon' | 'auth';

export class ImageError extends Error {
  constructor(
    message: string,
    readonly kind: ImageFailureKind,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** Scans the context and computes the content digest and tag. Reads files; no daemon. */
export function prepareImage(plan: ImagePlan): PreparedImage {
  const context = scanBuildContext(plan);
  const contentDigest = computeContentDigest({
    entries: context.entries,
    dockerfile: context.dockerfileInContext,
    buildArgs: plan.buildArgs,
    labels: plan.labels,
    target: plan.target,
    platform: plan.platform,
  });
  const contentTag = contentTagFor(contentDigest);
  return { plan, context, contentDigest, contentTag, contentRef: `${plan.repository}:${contentTag}` };
}

export interface ApplyOptions {
  /** Progress and status lines. */
  log: (line: string) => void;
  /** Environment for credentials (DOCKER_CONFIG, HOME, PATH for helpers). */
  env: AuthEnv;
  /** Reads config.json; undefined when missing. */
  readText: (file: string) => string | undefined;
}

interface ImageInspectLike {
  Id: string;
  Size: number;
  Created: string;
  RepoDigests?: string[];
  RepoTags?: string[];
  Config?: { Labels?: Record<string, string> | null };
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

async function inspectOrUndefined(docker: Docker, ref: string): Promise<ImageInspectLike | undefined> {
  try {
    return (await docker.getImage(ref).inspect()) as unknown as ImageInspectLike;
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw new ImageError(`Could not inspect ${ref}: ${daemonMessage(error)}`, 'daemon');
  }
}

/**
 * X-Registry-Config for a build: per registry that a FROM or COPY --from image of the Dockerfile
 * comes from, the credentials config.json has for it (keyed by its config.json server key, which the
 * engine matches against each pull). Registries without credentials are left out.
 */
export async function buildRegistryConfig(
  dockerfileText: string | undefined,
  buildArgs: Record<string, string>,
  options: Pick<ApplyOptions, 'env' | 'readText'>,
  resolve: typeof resolveRegistryAuth = resolveRegistryAuth,
): Promise<{ config: Record<string, RegistryCredentials>; used: string[]; secrets: string[]; warnings: string[] }> {
  const config: Record<string, RegistryCredentials> = {};
  const used: string[] = [];
  const secrets: string[] = [];
  const warnings: string[] = [];
  const domains = [...new Set(imagesPulledBy(dockerfileText ?? '', buildArgs).map(registryDomainOf))];
  for (const domain of domains) {
    let auth: ResolvedAuth;
    try {
      auth = await resolve(domain, options.env, options.readText);
    } catch (error) {
      // A public base image pulls without them, as it did before credentials were sent: build on,
      // and let a refused pull say so (with the login hint).
      warnings.push(
        `could not read registry credentials for ${domain}, where a base image comes from: ${(error as Error).message.replace(/\.?$/, '.')} Building without them.`,
      );
      continue;
    }
    if (!auth.credentials) continue;
    config[auth.server] = auth.credentials;
    used.push(`${domain} (${auth.source})`);
    secrets.push(...secretsOf(auth.credentials));
  }
  return { config, used, secrets, warnings };
}

async function buildImage(
  docker: Docker,
  prepared: PreparedImage,
  log: (line: string) => void,
  registry: { config: Record<string, RegistryCredentials>; secrets: string[] },
): Promise<string> {
  const { plan } = prepared;
  const tarStream = packBuildContext(prepared.context.entries);
  const options: Record<string, unknown> = {
    t: prepared.contentRef,
    dockerfile: prepared.context.dockerfileInContext,
    buildargs: plan.buildArgs,
    labels: { ...plan.labels, [CONTENT_DIGEST_LABEL]: prepared.contentDigest },
    rm: true,
    forcerm: true,
  };
  if (plan.target) options.target = plan.target;
  if (plan.platform) options.platform = plan.platform;
  if (Object.keys(registry.config).length) options.registryconfig = registry.config;
  const safe = (text: string) => redact(text, registry.secrets);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(tarStream as unknown as NodeJS.ReadableStream, options);
  } catch (error) {
    throw new ImageError(`The daemon refused the build of ${prepared.contentRef}: ${safe(daemonMessage(error))}`, 'build');
  }
  let outcome: ProgressOutcome;
  try {
    outcome = await followStream(stream, (line) => log(safe(line)));
  } catch (error) {
    throw new ImageError(`The build stream of ${prepared.contentRef} broke off: ${safe((error as Error).message)}`, 'build');
  }
  if (outcome.error) {
    const where = outcome.step ? ` at step ${outcome.step.n}/${outcome.step.of}` : '';
    const hint = isAuthFailure(outcome.error)
      ? ' A base image comes from a registry that wants credentials: `docker login` to it (or set DOCKER_CONFIG to a config.json that has them), then run again.'
      : '';
    throw new ImageError(`The build of ${prepared.contentRef} failed${where}: ${safe(outcome.error)}${hint ? `.${hint}` : ''}`, 'build');
  }
  const inspected = await inspectOrUndefined(docker, prepared.contentRef);
  if (!inspected) {
    throw new ImageError(`The build of ${prepared.contentRef} ended without error, but the daemon has no such image.`, 'build');
  }
  return inspected.Id;
}

/** The registry's manifest digest for repo:tag, or undefined when it has none / cannot tell. */
async function registryDigest(docker: Docker, ref: string, authHeader: string | undefined): Promise<string | undefined> {
  try {
    const info = (await docker.getImage(ref).distribution(authHeader ? { authconfig: { key: authHeader } } : {})) as {
      Descriptor?: { digest?: string };
    };
    return info.Descriptor?.digest;
  } catch {
    return undefined;
  }
}

/** A registry refusing for credentials, in the engine's words (push, or a build's pull of a base image). */
export function isAuthFailure(error: string): boolean {
  return /\b401\b|unauthori[sz]ed|denied|no basic auth credentials|authentication required|forbidden/i.test(error);
}

/**
 * What to do about a failed push (pure): a login hint only for authentication failures; for a registry
 * that can't be reached, say so (credentials would not help); else nothing.
 */
export function pushFailureHint(error: string, auth: Pick<ResolvedAuth, 'server' | 'source' | 'credentials'>): string | undefined {
  if (isAuthFailure(error)) {
    return auth.credentials === undefined
      ? `No credentials for ${auth.server} were found in the docker config (DOCKER_CONFIG or ~/.docker/config.json); run \`docker login ${auth.server}\`.`
      : `Credentials for ${auth.server} came from ${auth.source}; check them with \`docker login ${auth.server}\`.`;
  }
  if (
    /connection refused|no route to host|network is unreachable|i\/o timeout|dial tcp|no such host|connection reset|TLS handshake timeout|server misbehaving/i.test(
      error,
    )
  ) {
    return `The registry at ${auth.server} is unreachable from the engine (is it running, and is ${auth.server} the right address?).`;
  }
  return undefined;
}

async function pushTag(
  docker: Docker,
  repository: string,
  tag: string,
  auth: ResolvedAuth,
  authHeader: string | undefined,
  log: (line: string) => void,
): Promise<string> {
  const secrets = secretsOf(auth.credentials);
  const safe = (text: string) => redact(text, secrets);
  const ref = `${repository}:${tag}`;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.getImage(repository).push({ tag, ...(authHeader ? { authconfig: { key: authHeader } } : {}) })) as NodeJS.ReadableStream;
  } catch (error) {
    throw new ImageError(`The daemon refused to push ${ref}: ${safe(daemonMessage(error))}`, 'push');
  }
  let outcome: ProgressOutcome;
  try {
    outcome = await followStream(stream, (line) => log(safe(line)));
  } catch (error) {
    throw new ImageError(`The push stream of ${ref} broke off: ${safe((error as Error).message)}`, 'push');
  }
  if (outcome.error) {
    const hint = pushFailureHint(outcome.error, auth);
    throw new ImageError(`The push of ${ref} failed: ${safe(outcome.error)}.${hint ? ` ${hint}` : ''}`, 'push');
  }
  const digest = outcome.pushedDigests[tag] ?? Object.values(outcome.pushedDigests)[0];
  if (!digest) throw new ImageError(`The push of ${ref} reported no manifest digest.`, 'push');
  log(`pushed ${ref} (${outcome.layersPushed} layer(s) uploaded, ${outcome.layersExisting} already there)`);
  return digest;
}

/** Ensures the image exists (building only when needed), tags it and pushes it when asked. */
export async function applyImage(docker: Docker, prepared: PreparedImage, options: ApplyOptions): Promise<ImageResult> {
  const { plan, contentRef, contentDigest, contentTag } = prepared;
  const { log } = options;

  const existing = await inspectOrUndefined(docker, contentRef);
  const labelled = existing?.Config?.Labels?.[CONTENT_DIGEST_LABEL];
  let built = false;
  let imageId: string;
  if (existing && labelled === contentDigest) {
    imageId = existing.Id;
    log(`${contentRef} already exists (${imageId.slice(0, 19)}): build skipped`);
  } else {
    if (existing) log(`${contentRef} exists but carries content digest "${labelled ?? 'none'}": rebuilding`);
    log(`building ${contentRef} (${prepared.context.entries.length} context entries)`);
    const registry = await buildRegistryConfig(options.readText(plan.dockerfile), plan.buildArgs, options);
    for (const w of registry.warnings) log(`[warning] ${w}`);
    if (registry.used.length) log(`base image credentials: ${registry.used.join(', ')}`);
    imageId = await buildImage(docker, prepared, log, registry);
    built = true;
  }

  const tagged = new Set(built ? [] : (existing?.RepoTags ?? []));
  const tagsMoved: string[] = [];
  for (const tag of plan.tags) {
    if (tagged.has(`${plan.repository}:${tag}`)) continue;
    tagsMoved.push(tag);
    try {
      await docker.getImage(imageId).tag({ repo: plan.repository, tag });
    } catch (error) {
      throw new ImageError(`Could not tag ${imageId} as ${plan.repository}:${tag}: ${daemonMessage(error)}`, 'daemon');
    }
  }

  const inspected = await inspectOrUndefined(docker, imageId);
  if (!inspected) throw new ImageError(`Image ${imageId} disappeared from the daemon while tagging.`, 'daemon');

  const result: ImageResult = {
    repository: plan.repository,
    tags: plan.tags,
    contentTag,
    contentRef,
    contentDigest,
    imageId: inspected.Id,
    size: inspected.Size,
    created: inspected.Created,
    built,
    pushed: false,
    ...(tagsMoved.length ? { tagsMoved } : {}),
  };
  if (!plan.push) return result;

  const domain = registryDomainOf(plan.repository);
  let auth: ResolvedAuth;
  try {
    auth = await resolveRegistryAuth(domain, options.env, options.readText);
  } catch (error) {
    throw new ImageError(`Could not read registry credentials for ${domain}: ${(error as Error).message}`, 'auth');
  }
  const authHeader = auth.credentials ? encodeRegistryAuth(auth.credentials) : undefined;
  log(`pushing to ${domain} (credentials: ${auth.source})`);

  // The daemon records the digests it pushed (RepoDigests); a registry tag serving one of them is current.
  const pushedByThisDaemon = new Set(
    (inspected.RepoDigests ?? []).filter((d) => d.startsWith(`${plan.repository}@`)).map((d) => d.slice(plan.repository.length + 1)),
  );
  let digest: string | undefined;
  for (const tag of [contentTag, ...plan.tags.filter((t) => t !== contentTag)]) {
    const served = built ? undefined : await registryDigest(docker, `${plan.repository}:${tag}`, authHeader);
    const current = served !== undefined && pushedByThisDaemon.has(served) && (digest === undefined || served === digest);
    if (current) {
      log(`${plan.repository}:${tag} is already in the registry (${served}): push skipped`);
      digest ??= served;
      continue;
    }
    const pushed = await pushTag(docker, plan.repository, tag, auth, authHeader, log);
    digest ??= pushed;
  }
  return { ...result, pushed: true, registryDigest: `${plan.repository}@${digest}` };
}
