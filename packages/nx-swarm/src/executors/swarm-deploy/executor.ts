/**
 * swarm-deploy: create or update a Docker Swarm service only when something changed, wait until the
 * new version really serves, explain failures. Thin: the work is in lib/swarm/deployer.ts.
 */
import { ExecutorContext, logger } from '@nx/devkit';
import { DeployError, DeployReport, deploy } from '../../lib/swarm/deployer';
import type { SwarmDeployExecutorSchema } from './schema';

export interface SwarmDeployRuntime {
  /** Environment for the engine endpoint (DOCKER_HOST…) and registry credentials. Default process.env. */
  env?: NodeJS.ProcessEnv;
  pollMs?: number;
}

function projectOf(context: ExecutorContext): { name: string; root: string } {
  const name = context.projectName ?? '';
  const root = context.projectsConfigurations?.projects?.[name]?.root ?? name;
  return { name, root };
}

export function formatSummary(r: DeployReport): string[] {
  const ports = r.ports.filter((p) => p.published);
  const verb = r.action === 'create' ? 'Created' : r.action === 'update' ? 'Updated' : 'Up to date:';
  return [
    `${verb} ${r.service}`,
    `  image     ${r.image}${r.imageId ? ` (${r.imageId.slice(0, 19)})` : ''}`,
    `  replicas  ${r.replicas.running}/${r.replicas.desired} running`,
    ...(ports.length
      ? [`  ports     ${ports.map((p) => `${p.published}->${p.target}/${p.protocol} (${p.mode})`).join(', ')}`]
      : []),
    ...(ports.find((p) => p.url) ? [`  try       curl ${ports.find((p) => p.url)!.url}`] : []),
    `  elapsed   ${(r.elapsedMs / 1000).toFixed(1)} s`,
  ];
}

export default async function runExecutor(
  options: SwarmDeployExecutorSchema,
  context: ExecutorContext,
  runtime: SwarmDeployRuntime = {},
): Promise<{ success: boolean; report?: DeployReport }> {
  const project = projectOf(context);
  try {
    const report = await deploy({
      options,
      projectName: project.name,
      projectRoot: project.root,
      workspaceRoot: context.root,
      env: runtime.env,
      pollMs: runtime.pollMs,
      log: (line) => logger.info(line),
      warn: (line) => logger.warn(line),
    });
    if (report.action !== 'dry-run' && report.action !== 'noop') formatSummary(report).forEach((l) => logger.info(l));
    return { success: true, report };
  } catch (error) {
    if (error instanceof DeployError) {
      logger.error(error.message);
      error.details.forEach((d) => logger.error(d.startsWith('  ') ? d : `  ${d}`));
    } else {
      logger.error(`swarm-deploy failed: ${(error as Error).message ?? String(error)}`);
    }
    return { success: false };
  }
}
