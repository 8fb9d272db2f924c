/**
 * docker-image options → build plan, with every problem that can be found before the daemon is
 * called (missing Dockerfile or build output, invalid reference or tag, bad platform). Pure: file
 * checks are injected.
 */
import * as path from 'node:path';
import type { DockerImageExecutorSchema } from '../../executors/docker-image/schema';
import type { ImagePlan } from './image-build';
import { repositoryProblem, tagProblem, withRegistry } from './reference';
import { contextPathProblem } from './build-context';

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
  const builder = options.builder ?? 'auto';
  if (!['auto', 'oci', 'engine'].includes(builder)) problems.push(`builder "${String(builder)}" must be auto, oci or engine.`);
  let platforms: string[] | undefined;
  if (options.platforms !== undefined) {
    if (!Array.isArray(options.platforms) || options.platforms.length === 0)
      problems.push('platforms must be a non-empty list such as ["linux/amd64", "linux/arm64"].');
    else {
      platforms = [...new Set(options.platforms)];
      for (const p of platforms) {
        if (typeof p !== 'string' || !PLATFORM_RE.test(p)) problems.push(`platforms: "${String(p)}" is not os/arch[/variant] (e.g. linux/arm64).`);
      }
    }
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
    builder: builder as ImagePlan['builder'],
    ...(platforms ? { platforms } : {}),
  };
}
