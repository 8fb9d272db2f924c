/**
 * The nx-swarm project-graph plugin: every go.mod with a Dockerfile beside it is a Go service and
 * gets build → image → deploy (+ test, undeploy) targets. Register it in nx.json (`nx g
 * nx-swarm:init` does it):
 *
 *   "plugins": [{ "plugin": "nx-swarm", "options": { "deployTargetName": "deploy" } }]
 *
 * Explicit targets in a project.json win over the inferred ones (Nx applies project.json after
 * plugins; same-executor targets merge option by option).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createNodesFromFiles,
  type CreateNodes,
  type CreateNodesContext,
  type CreateNodesResult,
  type TargetConfiguration,
} from '@nx/devkit';
import {
  inferGoServiceProject,
  isCandidateGoMod,
  normalizePluginOptions,
  projectNameFor,
  type NormalizedPluginOptions,
  type NxSwarmPluginOptions,
} from './go-service-targets';

export type { NxSwarmPluginOptions } from './go-service-targets';

export const GO_MOD_GLOB = '**/go.mod';

/** Reads what the pure part needs about one go.mod; {} when it isn't a Go service. */
export function createNodesForGoMod(
  goModPath: string,
  options: NormalizedPluginOptions,
  context: CreateNodesContext,
): CreateNodesResult {
  if (!isCandidateGoMod(goModPath)) return {};
  const projectRoot = path.posix.dirname(goModPath.split(path.sep).join('/'));
  const abs = (f: string) => path.join(context.workspaceRoot, projectRoot, f);
  if (!fs.existsSync(abs('Dockerfile'))) return {};

  let projectName = projectNameFor(projectRoot === '.' ? path.basename(context.workspaceRoot) : projectRoot);
  const hasProjectJson = fs.existsSync(abs('project.json'));
  let explicitTargets: Record<string, TargetConfiguration> | undefined;
  if (hasProjectJson) {
    try {
      const json = JSON.parse(fs.readFileSync(abs('project.json'), 'utf8')) as { name?: unknown; targets?: unknown };
      if (typeof json.name === 'string' && json.name) projectName = json.name;
      if (json.targets && typeof json.targets === 'object') explicitTargets = json.targets as Record<string, TargetConfiguration>;
    } catch {
      /* Nx reports a broken project.json itself */
    }
  }
  const project = inferGoServiceProject(
    { projectRoot, hasProjectJson, projectName, namedInputs: context.nxJsonConfiguration?.namedInputs ?? {}, explicitTargets },
    options,
  );
  return { projects: { [projectRoot]: project } };
}

export const createNodes: CreateNodes<NxSwarmPluginOptions> = [
  GO_MOD_GLOB,
  async (configFiles, options, context) => {
    const normalized = normalizePluginOptions(options);
    return createNodesFromFiles((file, _opts, ctx) => createNodesForGoMod(file, normalized, ctx), configFiles, options ?? {}, context);
  },
];

/** Alias kept for Nx's compatibility guidance (Nx 22–23 read either name). */
export const createNodesV2 = createNodes;
