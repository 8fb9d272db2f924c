/**
 * The docker-image executor's OCI path: build in process (lib/oci), then push the index straight to
 * the registry (no engine; this module loads the engine code only when loading), or load the
 * engine's platform into the engine. Returns the receipt; throws OciError (build | push | auth |
 * daemon) or NeedsEngine (the Dockerfile needs the engine after all, e.g. ADD of a file that is an
 * archive).
 */
import type { ImagePlan } from './image-build';
import type { ImageReceipt } from './image-receipt';
import { DockerfilePlan, Platform, formatPlatform, parsePlatform } from '../oci/dockerfile';
import { OciError, OciInput, buildOciImages, defaultCacheDir, ociArchive, pushOciImages, resetRegistryClients } from '../oci/apply';
import { engineArchitecture, matchPlatform } from '../oci/platforms';
import type { AuthEnv } from './registry-auth';

export const OCI_REASON = 'the Dockerfile needs no container';

export interface OciRunParams {
  plan: ImagePlan;
  dockerfilePlan: Extract<DockerfilePlan, { kind: 'oci' }>;
  /** The platforms wanted and where that list came from (for the output). */
  platforms: string[];
  platformsFrom: string;
  workspaceRoot: string;
  env: AuthEnv;
  readText: (file: string) => string | undefined;
  log: (line: string) => void;
}

export async function ociImage(params: OciRunParams): Promise<ImageReceipt> {
  const { plan, log } = params;
  resetRegistryClients(); // credentials are read afresh on every run
  let platforms: Platform[] = params.platforms.map(parsePlatform);

  let engine: import('./engine').Engine | undefined;
  try {
    if (!plan.push) {
      // Load: only the engine's own platform is built.
      const { connectEngine, daemonMessage } = require('./engine') as typeof import('./engine');
      const { enginePlatform } = require('./image-load') as typeof import('./image-load');
      let own: Platform;
      try {
        engine = await connectEngine({ env: params.env as import('./endpoint').EndpointEnv });
        const ep = await enginePlatform(engine.docker);
        own = { os: ep.os, architecture: engineArchitecture(ep.architecture) };
      } catch (error) {
        throw new OciError(daemonMessage(error), 'daemon');
      }
      const match = matchPlatform(own, platforms);
      if (!match) {
        throw new OciError(
          `the engine at ${engine.describe} runs ${formatPlatform(own)}, which ${params.platformsFrom} (${params.platforms.join(', ')}) does not include. Add it to platforms, or push to a registry instead.`,
          'build',
        );
      }
      platforms = [match];
    }
    log(
      `builder: oci (${OCI_REASON}); platforms: ${platforms.map(formatPlatform).join(', ')} (${params.platformsFrom})${plan.push ? '' : ', loading into the engine'}`,
    );

    const input: OciInput = {
      contextDir: plan.contextDir,
      dockerfile: plan.dockerfile,
      files: plan.files ?? [],
      repository: plan.repository,
      tags: plan.tags,
      buildArgs: plan.buildArgs,
      labels: plan.labels,
      plan: params.dockerfilePlan,
      platforms,
      env: params.env,
      readText: params.readText,
      log,
      cacheDir: defaultCacheDir(params.workspaceRoot),
    };
    const built = await buildOciImages(input);
    const first = built.images[0];
    const receipt: ImageReceipt = {
      repository: plan.repository,
      tags: plan.tags,
      contentTag: built.contentTag,
      contentRef: built.contentRef,
      contentDigest: built.contentDigest,
      imageId: first.config.descriptor.digest,
      size: first.size,
      pushed: false,
      built: true,
      createdAt: new Date().toISOString(),
      builder: 'oci',
      builderReason: OCI_REASON,
      platforms: built.images.map((img) => ({ platform: formatPlatform(img.platform), configDigest: img.config.descriptor.digest })),
      ...(first.configFile.config.Healthcheck ? { healthcheck: first.configFile.config.Healthcheck } : {}),
    };
    if (plan.push) {
      const pushed = await pushOciImages(input, built);
      receipt.pushed = true;
      receipt.registryDigest = pushed.registryDigest;
      receipt.indexDigest = pushed.indexDigest;
      receipt.built = pushed.blobs.uploaded > 0 || pushed.manifestsPut > 0 || pushed.tagsPut.length > 0;
      receipt.platforms = pushed.manifests.map((m) => ({ platform: m.platform, configDigest: m.configDigest, manifestDigest: m.digest }));
      return receipt;
    }
    const { loadImage, LoadError } = require('./image-load') as typeof import('./image-load');
    const tags = [built.contentTag, ...plan.tags.filter((t) => t !== built.contentTag)];
    try {
      const result = await loadImage(
        engine!.docker,
        () =>
          ociArchive(
            input,
            first,
            tags.map((t) => `${plan.repository}:${t}`),
          ),
        first.config.descriptor.digest,
        plan.repository,
        tags,
        log,
      );
      receipt.imageId = result.imageId;
      receipt.size = result.size;
      receipt.built = result.loaded;
      receipt.loaded = { platform: formatPlatform(first.platform), imageId: result.imageId, loadedNow: result.loaded };
      if (result.tagsMoved.length) receipt.tagsMoved = result.tagsMoved;
      log(
        result.loaded
          ? `loaded ${built.contentRef} into ${engine!.describe}`
          : `${built.contentRef} is already in the engine (${result.imageId.slice(0, 19)}): load skipped`,
      );
    } catch (error) {
      if (error instanceof LoadError) throw new OciError(error.message, 'daemon');
      throw error;
    }
    return receipt;
  } finally {
    engine?.close();
  }
}
