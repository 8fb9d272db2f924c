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
import { readTextOrUndefined } from '../../lib/common/fs';
import { logger } from '../../lib/common/logger';
import { ExecutorRuntime, runtimeEnv } from '../../lib/common/runtime';
import type { ImagePlan } from '../../lib/docker/image-build';
import { ImageReceipt, imageReceiptPath, pushedRefs, receiptWrote, writeImageReceipt } from '../../lib/docker/image-receipt';
import { forgetCheckMemo, nextImageRecord, readStateRecord, updateStateRecord } from '../../lib/common/state-record';
import { OptionsError, normalizeOptions } from '../../lib/docker/image-options';
import { DockerfilePlan, NeedsEngine, planDockerfile } from '../../lib/oci/dockerfile';
import { OciError } from '../../lib/oci/apply';
import { linuxPlatformsOf } from '../../lib/oci/platforms';
import { ociImage } from '../../lib/docker/image-oci';
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

const readText = readTextOrUndefined;

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

/**
 * The receipt, and the state record the target's cache check reads (lib/common/state-record.ts):
 * which repository to list, and a new nonce when this run changed the engine or the registry.
 */
function saveReceipt(receiptFile: string, receipt: ImageReceipt, workspaceRoot: string, projectName: string): void {
  writeImageReceipt(receiptFile, receipt);
  const previous = readStateRecord(workspaceRoot, projectName)?.image;
  updateStateRecord(workspaceRoot, projectName, {
    image: nextImageRecord(previous, [receipt.repository], receiptWrote(receipt), undefined, pushedRefs(receipt)),
  });
}

function fail(message: string, kind?: string): { success: false } {
  logger.error(`docker-image: ${message}`);
  if (kind && NEXT_STEP[kind]) logger.error(NEXT_STEP[kind]);
  return { success: false };
}

export default async function runExecutor(
  options: DockerImageExecutorSchema,
  context: ExecutorContext,
  runtime: ExecutorRuntime = {},
): Promise<{ success: boolean }> {
  forgetCheckMemo(context.root, context.projectName ?? 'app'); // this run may change what the next check sees
  const result = await runImage(options, context, runtime);
  if (!result.success) {
    // A failed run may have loaded, tagged or pushed part of it: the entry of an earlier state must not match again.
    const projectName = context.projectName ?? 'app';
    const previous = readStateRecord(context.root, projectName)?.image;
    if (previous)
      updateStateRecord(context.root, projectName, {
        image: nextImageRecord(previous, previous.repositories, true, undefined, previous.registryRefs),
      });
  }
  return result;
}

async function runImage(options: DockerImageExecutorSchema, context: ExecutorContext, runtime: ExecutorRuntime): Promise<{ success: boolean }> {
  const started = Date.now();
  const env = runtimeEnv(runtime);
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

  const receiptFile = imageReceiptPath(context.root, projectRoot, options.outputDir);
  let verdict: DockerfilePlan =
    plan.builder === 'engine'
      ? { kind: 'engine', reason: 'builder: engine' }
      : planDockerfile(fs.readFileSync(plan.dockerfile, 'utf8'), { target: plan.target });
  if (verdict.kind === 'engine' && plan.builder === 'oci') {
    return fail(
      `builder "oci" cannot build ${path.relative(context.root, plan.dockerfile)}: ${verdict.reason}. Use builder "auto" or "engine".`,
      'build',
    );
  }

  if (verdict.kind === 'oci') {
    const outcome = await runOci(plan, verdict, context, projectName, receiptFile, started, env);
    if (!('fallback' in outcome)) return outcome;
    verdict = { kind: 'engine', reason: outcome.fallback };
  }
  logger.info(`builder: engine (${verdict.reason})`);
  return runEngine(plan, context, receiptFile, started, verdict.reason, env);
}

async function runOci(
  plan: ImagePlan,
  dockerfilePlan: Extract<DockerfilePlan, { kind: 'oci' }>,
  context: ExecutorContext,
  projectName: string,
  receiptFile: string,
  started: number,
  env: NodeJS.ProcessEnv,
): Promise<{ success: boolean } | { fallback: string }> {
  const { platforms, from } = defaultPlatforms(plan, context, projectName);
  let receipt: ImageReceipt;
  try {
    receipt = await ociImage({
      plan,
      dockerfilePlan,
      platforms,
      platformsFrom: from,
      workspaceRoot: context.root,
      env,
      readText,
      log: (l) => logger.info(l),
    });
  } catch (error) {
    if (error instanceof NeedsEngine && plan.builder === 'auto') return { fallback: error.message };
    if (error instanceof NeedsEngine) return fail(`builder "oci" cannot build this Dockerfile: ${error.message}`, 'build');
    if (error instanceof OciError) return fail(error.message, error.kind);
    return fail((error as Error).message, plan.push ? 'push' : 'daemon');
  }
  saveReceipt(receiptFile, receipt, context.root, projectName);
  const ms = Date.now() - started;
  logger.info(
    `✔ ${receipt.contentRef} ${receipt.built ? 'built' : 'up to date'} (oci builder, ${receipt.pushed ? `pushed ${receipt.registryDigest}` : receipt.built ? 'loaded into the engine' : 'load skipped'}): ` +
      `${receipt.imageId.slice(0, 19)}, ${formatSize(receipt.size)}, platforms ${receipt.platforms!.map((p) => p.platform).join(', ')}, tags ${receipt.tags.join(', ') || '(none)'} in ${ms} ms`,
  );
  logger.info(`  receipt: ${path.relative(context.root, receiptFile)}`);
  return { success: true };
}

async function runEngine(
  plan: ImagePlan,
  context: ExecutorContext,
  receiptFile: string,
  started: number,
  reason: string,
  env: NodeJS.ProcessEnv,
): Promise<{ success: boolean }> {
  const { ImageError, applyImage, prepareImage, receiptOf } =
    require('../../lib/docker/image-build') as typeof import('../../lib/docker/image-build');
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
    engine = await connectEngine({ env: env as import('../../lib/docker/endpoint').EndpointEnv });
  } catch (error) {
    return fail((error as Error).message);
  }

  let result;
  try {
    result = await applyImage(engine.docker, prepared, { log: (line) => logger.info(line), env, readText });
  } catch (error) {
    if (error instanceof ImageError) return fail(error.message, error.kind);
    return fail(`${projectName} failed against ${engine.describe}: ${daemonMessage(error)}`);
  }

  saveReceipt(receiptFile, receiptOf(result, reason), context.root, projectName);

  const ms = Date.now() - started;
  logger.info(
    `✔ ${result.contentRef} ${result.built ? 'built' : 'up to date (build skipped)'} (engine builder): ${result.imageId.slice(0, 19)}, ` +
      `${formatSize(result.size)}, tags ${result.tags.join(', ') || '(none)'}` +
      `${result.registryDigest ? `, pushed ${result.registryDigest}` : ''} in ${ms} ms`,
  );
  logger.info(`  receipt: ${path.relative(context.root, receiptFile)}`);
  return { success: true };
}
