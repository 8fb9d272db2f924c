/**
 * swarm-deploy: create or update a Docker Swarm service only when something changed, wait until the
 * new version really serves, explain failures. Thin: the work is in lib/swarm (deployer.ts strings
 * the stages together). Nothing heavy loads at module load: dockerode only when an engine is
 * contacted, Nx's logger on the first line printed.
 */
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../../lib/common/logger';
import { projectOf } from '../../lib/common/project';
import { explicitOptionKeys } from '../../lib/common/explicit-options';
import { ExecutorRuntime, runtimeEnv } from '../../lib/common/runtime';
import { forgetCheckMemo, updateStateRecord } from '../../lib/common/state-record';
import { failureLines } from '../../lib/swarm/deploy-error';
import { deploy } from '../../lib/swarm/deployer';
import { DeployReport, formatSummary } from '../../lib/swarm/report';
import type { SwarmDeployExecutorSchema } from './schema';

export { formatSummary };

export interface SwarmDeployRuntime extends ExecutorRuntime {
  pollMs?: number;
}

export default async function runExecutor(
  options: SwarmDeployExecutorSchema,
  context: ExecutorContext,
  runtime: SwarmDeployRuntime = {},
): Promise<{ success: boolean; report?: DeployReport }> {
  const project = projectOf(context, '');
  forgetCheckMemo(context.root, project.name); // this run may change what the next check sees
  try {
    const report = await deploy({
      options,
      projectName: project.name,
      projectRoot: project.root,
      workspaceRoot: context.root,
      env: runtimeEnv(runtime),
      pollMs: runtime.pollMs,
      // composeFile: what the user set overrides the file; Nx's schema defaults don't.
      explicit: options.composeFile
        ? (explicitOptionKeys(context, options as Record<string, unknown>, require('./schema.json')) as (key: string) => boolean)
        : undefined,
      log: (line) => logger.info(line),
      warn: (line) => logger.warn(line),
    });
    if (report.action !== 'dry-run' && report.action !== 'noop') formatSummary(report).forEach((l) => logger.info(l));
    // What the target's cache check looks at next time (lib/common/state-record.ts).
    const read = report.read ?? { files: [], env: [] };
    updateStateRecord(context.root, project.name, { deploy: { services: [report.service], ...read } });
    return { success: true, report };
  } catch (error) {
    failureLines(error, 'swarm-deploy').forEach((l) => logger.error(l));
    return { success: false };
  }
}
