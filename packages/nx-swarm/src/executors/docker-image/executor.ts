/**
 * docker-image: normalise options (pure), pick the builder (the Dockerfile subset decides under
 * auto), then either
 *   - OCI builder: build each platform's image in process; push the index straight to the registry
 *     (no engine), or load the engine's platform into the engine;
 *   - Engine builder: scan the context, compute the content tag, build through the daemon only when
 *     the tag is missing, push when asked.
 * Writes dist/{projectRoot}/image.json, reports. The engine code (dockerode) is loaded only on the
 * paths that talk to the engine, so a push-only OCI run never loads it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../../lib/common/logger';
import type { ImagePlan } from '../../lib/docker/image-build';
import { ImageReceipt, imageReceiptPath, writeImageReceipt } from '../../lib/docker/image-receipt';
import { OptionsError, normalizeOptions } from '../../lib/docker/image-options';
import { DockerfilePlan, formatPlatform, parsePlatform, planDockerfile, NeedsEngine, Platform } from '../../lib/oci/dockerfile';
import { OciError, OciInput, buildOciImages, defaultCacheDir, ociArchive, pushOciImages, resetRegistryClients } from '../../lib/oci/apply';
import { linuxPlatformsOf, matchPlatform, engineArchitecture } from '../../lib/oci/platforms';
import type { DockerImageExecutorSchema } from './schema';

function formatSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const NEXT_STEP: Record<string, string> = {
  build: 'Fix the Dockerfile or the build context and run again.',
  push: 'Check the registry address and credentials, then run again (the image is built; only the push is retried).',
  daemon: 'Check the Docker Engine (`docker info`) and run again.',
  auth: 'Fix the docker config file (or run `docker login`) and run again.',
};

const readText = (f: string) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return undefined;
  }
};

/** platforms option, else the linux targets of the project's go-cross-build target, else platform, else linux/amd64. */
export function defaultPlatforms(plan: ImagePlan, context: ExecutorContext, projectName: string): { platforms: string[]; from: string } {
  if (plan.platforms) return { platforms: plan.platforms, from: 'the platforms option' };
  const targets = context.projectsConfigurations?.projects[projectName]?.targets ?? {};
  for (const [name, target] of Object.entries(targets)) {
    if (target.executor !== 'nx-swarm:go-cross-build') continue;
    const linux = linuxPlatformsOf((target.options as { targets?: unknown } | undefined)?.targets);
    if (linux.length) return { platforms: linux, from: `the ${name} target's matrix` };
  }
  return { platforms: [plan.platform ?? 'linux/amd64'], from: plan.platform ? 'the platform option' : 'the default' };
}

function fail(message: string, kind?: string): { success: false } {
  logger.error(`docker-image: ${message}`);
  if (kind && NEXT_STEP[kind]) logger.error(NEXT_STEP[kind]);
  return { success: false };
}

export default async function runExecutor(
  options: DockerImageExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const started = Date.now();
  const projectName = context.projectName ?? 'app';
  const projectRoot = context.projectsConfigurations?.projects[projectName]?.root ?? '.';

  let plan: ImagePlan;
  try {
    plan = normalizeOptions(options, {
      workspaceRoot: context.root,
      projectName,
      projectRoot,
      isFile: (f) => fs.statSync(f, { throwIfNoEntry: false })?.isFile() ?? false,
      isDirectory: (d) => fs.statSync(d, { throwIfNoEntry: false })?.isDirectory() ?? false,
    });
  } catch (error) {
    const problems = error instanceof OptionsError ? error.problems : [(error as Error).message];
    logger.error(`docker-image: ${projectName} cannot be built as configured:`);
    for (const p of problems) logger.error(`  - ${p}`);
    return { success: false };
  }

  const receiptFile = imageReceiptPath(context.root, projectRoot);
  let verdict: DockerfilePlan =
    plan.builder === 'engine' ? { kind: 'engine', reason: 'builder: engine' } : planDockerfile(fs.readFileSync(plan.dockerfile, 'utf8'), { target: plan.target });
  if (verdict.kind === 'engine' && plan.builder === 'oci') {
    return fail(`builder "oci" cannot build ${path.relative(context.root, plan.dockerfile)}: ${verdict.reason}. Use builder "auto" or "engine".`, 'build');
  }

  if (verdict.kind === 'oci') {
    const outcome = await runOci(plan, verdict, context, projectName, receiptFile, started);
    if (!('fallback' in outcome)) return outcome;
    verdict = { kind: 'engine', reason: outcome.fallback };
  }
  logger.info(`builder: engine (${verdict.reason})`);
  return runEngine(plan, context, receiptFile, started, verdict.reason);
}

async function runOci(
  plan: ImagePlan,
  dockerfilePlan: Extract<DockerfilePlan, { kind: 'oci' }>,
  context: ExecutorContext,
  projectName: string,
  receiptFile: string,
  started: number,
): Promise<{ success: boolean } | { fallback: string }> {
  resetRegistryClients(); // credentials are read afresh on every run
  const { platforms: wanted, from } = defaultPlatforms(plan, context, projectName);
  let platforms: Platform[] = wanted.map(parsePlatform);
  const log = (line: string) => logger.info(line);
  const reason = 'the Dockerfile needs no container';

  let engine: Awaited<ReturnType<typeof import('../../lib/docker/engine').connectEngine>> | undefined;
  if (!plan.push) {
    // Load: only the engine's own platform.
    const { connectEngine } = require('../../lib/docker/engine') as typeof import('../../lib/docker/engine');
    const { enginePlatform } = require('../../lib/docker/image-load') as typeof import('../../lib/docker/image-load');
    try {
      engine = await connectEngine();
      const ep = await enginePlatform(engine.docker);
      const own = { os: ep.os, architecture: engineArchitecture(ep.architecture) };
      const match = matchPlatform(own, platforms);
      if (!match) {
        return fail(`the engine at ${engine.describe} runs ${formatPlatform(own)}, which ${from} (${wanted.join(', ')}) does not include. Add it to platforms, or push to a registry instead.`, 'build');
      }
      platforms = [match];
    } catch (error) {
      const { daemonMessage } = require('../../lib/docker/engine') as typeof import('../../lib/docker/engine');
      return fail(daemonMessage(error));
    }
  }
  logger.info(`builder: oci (${reason}); platforms: ${platforms.map(formatPlatform).join(', ')} (${from})${plan.push ? '' : ', loading into the engine'}`);

  const input: OciInput = {
    contextDir: plan.contextDir,
    dockerfile: plan.dockerfile,
    files: plan.files ?? [],
    repository: plan.repository,
    tags: plan.tags,
    buildArgs: plan.buildArgs,
    labels: plan.labels,
    plan: dockerfilePlan,
    platforms,
    env: process.env,
    readText,
    log,
    cacheDir: defaultCacheDir(context.root),
  };
  let receipt: ImageReceipt;
  try {
    const built = await buildOciImages(input);
    const first = built.images[0];
    receipt = {
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
      builderReason: reason,
      platforms: built.images.map((img) => ({ platform: formatPlatform(img.platform), configDigest: img.config.descriptor.digest })),
    };
    if (plan.push) {
      const pushed = await pushOciImages(input, built);
      receipt.pushed = true;
      receipt.registryDigest = pushed.registryDigest;
      receipt.indexDigest = pushed.indexDigest;
      receipt.built = pushed.blobs.uploaded > 0 || pushed.manifestsPut > 0 || pushed.tagsPut.length > 0;
      receipt.platforms = pushed.manifests.map((m) => ({ platform: m.platform, configDigest: m.configDigest, manifestDigest: m.digest }));
    } else {
      const { loadImage } = require('../../lib/docker/image-load') as typeof import('../../lib/docker/image-load');
      const tags = [built.contentTag, ...plan.tags.filter((t) => t !== built.contentTag)];
      const result = await loadImage(engine!.docker, () => ociArchive(input, first, tags.map((t) => `${plan.repository}:${t}`)), first.config.descriptor.digest, plan.repository, tags, log);
      receipt.imageId = result.imageId;
      receipt.size = result.size;
      receipt.built = result.loaded;
      receipt.loaded = { platform: formatPlatform(first.platform), imageId: result.imageId, loadedNow: result.loaded };
      log(result.loaded ? `loaded ${built.contentRef} into ${engine!.describe}` : `${built.contentRef} is already in the engine (${result.imageId.slice(0, 19)}): load skipped`);
    }
  } catch (error) {
    if (error instanceof NeedsEngine && plan.builder === 'auto') {
      return { fallback: error.message };
    }
    if (error instanceof NeedsEngine) return fail(`builder "oci" cannot build this Dockerfile: ${error.message}`, 'build');
    if (error instanceof OciError) return fail(error.message, error.kind);
    return fail((error as Error).message, plan.push ? 'push' : 'daemon');
  } finally {
    engine?.close();
  }
  writeImageReceipt(receiptFile, receipt);
  const ms = Date.now() - started;
  logger.info(
    `✔ ${receipt.contentRef} (oci) ${receipt.pushed ? `pushed ${receipt.registryDigest}` : receipt.built ? 'loaded' : 'up to date (load skipped)'}: ` +
      `${receipt.imageId.slice(0, 19)}, ${formatSize(receipt.size)}, platforms ${receipt.platforms!.map((p) => p.platform).join(', ')}, tags ${receipt.tags.join(', ') || '(none)'} in ${ms} ms`,
  );
  logger.info(`  receipt: ${path.relative(context.root, receiptFile)}`);
  return { success: true };
}

async function runEngine(plan: ImagePlan, context: ExecutorContext, receiptFile: string, started: number, reason: string): Promise<{ success: boolean }> {
  const { ImageError, applyImage, prepareImage } = require('../../lib/docker/image-build') as typeof import('../../lib/docker/image-build');
  const { connectEngine, daemonMessage } = require('../../lib/docker/engine') as typeof import('../../lib/docker/engine');
  const projectName = context.projectName ?? 'app';

  let prepared;
  try {
    prepared = prepareImage(plan);
  } catch (error) {
    return fail(`could not read the build context ${plan.contextDir}: ${(error as Error).message}`);
  }

  let engine;
  try {
    engine = await connectEngine();
  } catch (error) {
    return fail((error as Error).message);
  }

  let result;
  try {
    result = await applyImage(engine.docker, prepared, { log: (line) => logger.info(line), env: process.env, readText });
  } catch (error) {
    if (error instanceof ImageError) return fail(error.message, error.kind);
    return fail(`${projectName} failed against ${engine.describe}: ${daemonMessage(error)}`);
  }

  writeImageReceipt(receiptFile, {
    repository: result.repository,
    tags: result.tags,
    contentTag: result.contentTag,
    contentRef: result.contentRef,
    contentDigest: result.contentDigest,
    imageId: result.imageId,
    size: result.size,
    pushed: result.pushed,
    ...(result.registryDigest ? { registryDigest: result.registryDigest } : {}),
    built: result.built,
    createdAt: new Date().toISOString(),
    builder: 'engine',
    builderReason: reason,
  });

  const ms = Date.now() - started;
  logger.info(
    `✔ ${result.contentRef} (engine) ${result.built ? 'built' : 'up to date (build skipped)'}: ${result.imageId.slice(0, 19)}, ` +
      `${formatSize(result.size)}, tags ${result.tags.join(', ') || '(none)'}` +
      `${result.registryDigest ? `, pushed ${result.registryDigest}` : ''} in ${ms} ms`,
  );
  logger.info(`  receipt: ${path.relative(context.root, receiptFile)}`);
  return { success: true };
}
