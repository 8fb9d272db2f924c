/**
 * docker-image: normalise options (pure), scan the context and compute the content tag, connect to
 * the engine, ensure the image (build only when the content tag is missing), push when asked,
 * write dist/{projectRoot}/image.json, report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExecutorContext, logger } from '@nx/devkit';
import { ImagePlan, ImageError, applyImage, prepareImage } from '../../lib/docker/image-build';
import { connectEngine, daemonMessage } from '../../lib/docker/engine';
import { imageReceiptPath, writeImageReceipt } from '../../lib/docker/image-receipt';
import { repositoryProblem, tagProblem, withRegistry } from '../../lib/docker/reference';
import { contextPathProblem } from '../../lib/docker/build-context';
import type { DockerImageExecutorSchema } from './schema';

export const DEFAULT_REPOSITORY_PREFIX = 'someprefix';
export const DEFAULT_TAGS = ['latest'];
const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

export interface NormalizeEnv {
  workspaceRoot: string;
  projectName: string;
  projectRoot: string;
  /** Does this file exist? (injected so normalisation stays pure) */
  isFile: (file: string) => boolean;
  isDirectory: (dir: string) => boolean;
}

/** Options problems found before the daemon is called. */
export class OptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'OptionsError';
  }
}

function stringRecord(name: string, value: unknown, problems: string[]): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${name} must be an object of string values.`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else problems.push(`${name}.${k} must be a string.`);
  }
  return out;
}

/**
 * Options → build plan, with every problem that can be found without the daemon. Throws
 * OptionsError listing all of them.
 */
export function normalizeOptions(options: DockerImageExecutorSchema, env: NormalizeEnv): ImagePlan {
  const problems: string[] = [];
  const fromRoot = (p: string) => path.resolve(env.workspaceRoot, p);
  const contextDir = fromRoot(options.context ?? env.projectRoot);
  if (!env.isDirectory(contextDir)) {
    problems.push(`The build context ${path.relative(env.workspaceRoot, contextDir) || '.'} is not a directory (context option).`);
  }
  const dockerfile = path.resolve(contextDir, options.dockerfile ?? 'Dockerfile');
  if (!env.isFile(dockerfile)) {
    problems.push(
      `The Dockerfile ${path.relative(env.workspaceRoot, dockerfile)} does not exist. Create it, or point the dockerfile option (relative to the context) at it.`,
    );
  }

  const files = (options.files ?? []).map((file, i) => {
    const from = fromRoot(file.from ?? '');
    const to = file.to ?? path.basename(from);
    if (!file.from) problems.push(`files[${i}].from is missing.`);
    else if (!env.isFile(from)) {
      problems.push(
        `files[${i}].from ${path.relative(env.workspaceRoot, from)} does not exist. Run the build target first ` +
          `(nx run ${env.projectName}:build), or fix the path (relative to the workspace root).`,
      );
    }
    const toProblem = contextPathProblem(to);
    if (toProblem) problems.push(`files[${i}].to ${toProblem}.`);
    return { from, to: path.posix.normalize(to) };
  });

  const baseRepository = options.repository ?? `${DEFAULT_REPOSITORY_PREFIX}/${env.projectName.toLowerCase()}`;
  let repository = baseRepository;
  const repoProblem = repositoryProblem(baseRepository);
  if (repoProblem) problems.push(`Invalid repository: ${repoProblem}.`);
  else {
    try {
      repository = withRegistry(baseRepository, options.registry);
      const full = repositoryProblem(repository);
      if (full) problems.push(`Invalid repository: ${full}.`);
    } catch (error) {
      problems.push(`${(error as Error).message}`);
    }
  }

  const tags = [...new Set(options.tags ?? DEFAULT_TAGS)];
  for (const tag of tags) {
    const problem = typeof tag === 'string' ? tagProblem(tag) : 'tags must be strings';
    if (problem) problems.push(`Invalid tag: ${problem}.`);
  }

  if (options.platform !== undefined && !PLATFORM_RE.test(options.platform)) {
    problems.push(`platform "${options.platform}" is not os/arch[/variant] (e.g. linux/amd64).`);
  }
  if (options.target !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(options.target)) {
    problems.push(`target "${options.target}" is not a build stage name.`);
  }
  const buildArgs = stringRecord('buildArgs', options.buildArgs, problems);
  const labels = stringRecord('labels', options.labels, problems);

  if (problems.length > 0) throw new OptionsError(problems);
  return {
    contextDir,
    dockerfile,
    files,
    repository,
    tags,
    buildArgs,
    labels,
    target: options.target || undefined,
    platform: options.platform || undefined,
    push: Boolean(options.push),
  };
}

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
