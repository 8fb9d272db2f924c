/** swarm-service-rm: remove a swarm service and wait until its tasks are gone (ports free). Thin. */
import { ExecutorContext, logger } from '@nx/devkit';
import { EndpointEnv } from '../../lib/docker/endpoint';
import { connectEngine } from '../../lib/docker/engine';
import { parseDuration } from '../../lib/swarm/options';
import { RemoveError, removeService } from '../../lib/swarm/service-remover';
import { SERVICE_NAME_RE } from '../../lib/swarm/validate-options';
import type { SwarmServiceRmExecutorSchema } from './schema';

export interface SwarmServiceRmRuntime {
  env?: NodeJS.ProcessEnv;
}

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
    const timeoutMs = parseDuration(options.timeout ?? 60, 'timeout') / 1e6;
    const engine = await connectEngine({ env: (runtime.env ?? process.env) as EndpointEnv });
    const result = await removeService(engine.docker, {
      service,
      failIfMissing: options.failIfMissing,
      removeNetworks: options.removeNetworks,
      timeoutMs,
      log: (l) => logger.info(l),
    });
    if (result.removed) {
      logger.info(`${service} removed; its tasks are gone and its published ports are free (${(result.elapsedMs / 1000).toFixed(1)} s).`);
    }
    return { success: true };
  } catch (error) {
    logger.error(error instanceof RemoveError ? error.message : `swarm-service-rm failed: ${(error as Error).message}`);
    return { success: false };
  }
}
