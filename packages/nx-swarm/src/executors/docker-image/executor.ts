/**
 * docker-image: normalise options (pure), scan the context and compute the content tag, connect to
 * the engine, ensure the image (build only when the content tag is missing), push when asked,
 * write dist/{projectRoot}/image.json, report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../../lib/common/logger';
import { ImagePlan, ImageError, applyImage, prepareImage } from '../../lib/docker/image-build';
import { connectEngine, daemonMessage } from '../../lib/docker/engine';
import { imageReceiptPath, writeImageReceipt } from '../../lib/docker/image-receipt';
import { OptionsError, normalizeOptions } from '../../lib/docker/image-options';
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

  let prepared;
  try {
    prepared = prepareImage(plan);
  } catch (error) {
    logger.error(`docker-image: could not read the build context ${plan.contextDir}: ${(error as Error).message}`);
    return { success: false };
  }

  let engine;
  try {
    engine = await connectEngine();
  } catch (error) {
    logger.error(`docker-image: ${(error as Error).message}`);
    return { success: false };
  }

  let result;
  try {
    result = await applyImage(engine.docker, prepared, {
      log: (line) => logger.info(line),
      env: process.env,
      readText: (f) => {
        try {
          return fs.readFileSync(f, 'utf8');
        } catch {
          return undefined;
        }
      },
    });
  } catch (error) {
    if (error instanceof ImageError) {
      logger.error(`docker-image: ${error.message}`);
      logger.error(NEXT_STEP[error.kind] ?? '');
    } else {
      logger.error(`docker-image: ${projectName} failed against ${engine.describe}: ${daemonMessage(error)}`);
    }
    return { success: false };
  }

  const receiptFile = imageReceiptPath(context.root, projectRoot);
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
  });

  const ms = Date.now() - started;
  logger.info(
    `✔ ${result.contentRef} ${result.built ? 'built' : 'up to date (build skipped)'}: ${result.imageId.slice(0, 19)}, ` +
      `${formatSize(result.size)}, tags ${result.tags.join(', ') || '(none)'}` +
      `${result.registryDigest ? `, pushed ${result.registryDigest}` : ''} in ${ms} ms`,
  );
  logger.info(`  receipt: ${path.relative(context.root, receiptFile)}`);
  return { success: true };
}
