/**
 * swarm-rollback: return a service to a recorded release (`to`, default the previous one), verified
 * like a deploy, or print the release history (`list`). Thin: the work is in lib/swarm/rollback.ts.
 */
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../../lib/common/logger';
import { projectOf } from '../../lib/common/project';
import { ExecutorRuntime, runtimeEnv } from '../../lib/common/runtime';
import { failureLines } from '../../lib/swarm/deploy-error';
import { formatSummary } from '../../lib/swarm/report';
import { RollbackResult, rollback } from '../../lib/swarm/rollback';
import type { SwarmRollbackExecutorSchema } from './schema';

export interface SwarmRollbackRuntime extends ExecutorRuntime {
  pollMs?: number;
}

export default async function runExecutor(
  options: SwarmRollbackExecutorSchema,
  context: ExecutorContext,
  runtime: SwarmRollbackRuntime = {},
): Promise<{ success: boolean; result?: RollbackResult }> {
  const project = projectOf(context, '');
  try {
    const result = await rollback({
      options,
      projectName: project.name,
      projectRoot: project.root,
      workspaceRoot: context.root,
      env: runtimeEnv(runtime),
      pollMs: runtime.pollMs,
      log: (line) => logger.info(line),
      warn: (line) => logger.warn(line),
    });
    if (result.kind === 'rollback' && result.report.action === 'rollback') formatSummary(result.report).forEach((l) => logger.info(l));
    return { success: true, result };
  } catch (error) {
    failureLines(error, 'swarm-rollback').forEach((l) => logger.error(l));
    return { success: false };
  }
}
