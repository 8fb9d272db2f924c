/** swarm-service-rm: remove a swarm service and wait until its tasks are gone (ports free). Thin. */
import type { ExecutorContext } from '@nx/devkit';
import type { EndpointEnv } from '../../lib/docker/endpoint';
import { logger } from '../../lib/common/logger';
import { ExecutorRuntime, runtimeEnv } from '../../lib/common/runtime';
import { parseDuration } from '../../lib/swarm/options';
import { RemoveError, removeService } from '../../lib/swarm/service-remover';
import { guardedSwarmApi } from '../../lib/swarm/swarm-api';
import { SERVICE_NAME_RE } from '../../lib/swarm/validate-options';
import type { SwarmServiceRmExecutorSchema } from './schema';

/** schema.json's default for "timeout". */
export const DEFAULT_RM_TIMEOUT = '60s';

export type SwarmServiceRmRuntime = ExecutorRuntime;

export default async function runExecutor(
  options: SwarmServiceRmExecutorSchema,
  context: ExecutorContext,
  runtime: SwarmServiceRmRuntime = {},
): Promise<{ success: boolean }> {
  const service = options.service ?? context.projectName ?? '';
  try {
    if (!SERVICE_NAME_RE.test(service)) {
      throw new RemoveError(`"${service}" is not a valid swarm service name; set the "service" option.`);
    }
    const timeoutMs = parseDuration(options.timeout ?? DEFAULT_RM_TIMEOUT, 'timeout') / 1e6;
    // Loaded here: dockerode only when there is something to talk to.
    const { connectEngine } = require('../../lib/docker/engine') as typeof import('../../lib/docker/engine');
    const engine = await connectEngine({ env: runtimeEnv(runtime) as EndpointEnv });
    const result = await removeService(
      guardedSwarmApi(engine.docker, engine.describe, 'undeploy', (l) => logger.warn(l)),
      {
        service,
        failIfMissing: options.failIfMissing,
        removeNetworks: options.removeNetworks,
        timeoutMs,
        log: (l) => logger.info(l),
      },
    );
    if (result.removed) {
      logger.info(`${service} removed; its tasks are gone and its published ports are free (${(result.elapsedMs / 1000).toFixed(1)} s).`);
    }
    return { success: true };
  } catch (error) {
    logger.error(error instanceof RemoveError ? error.message : `swarm-service-rm failed: ${(error as Error).message}`);
    return { success: false };
  }
}
