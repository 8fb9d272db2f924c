/**
 * swarm-service-rm's library: remove a service, wait until its tasks and containers are gone (so its
 * published ports are free), optionally remove the networks nothing else uses.
 */
import { pruneObjects } from './object-store';
import { daemonMessage } from '../common/http-status';
import { sleep } from '../common/sleep';
import type { SwarmApi } from './swarm-api';

export interface RemoveParams {
  service: string;
  failIfMissing?: boolean;
  removeNetworks?: boolean;
  timeoutMs?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

export interface RemoveResult {
  removed: boolean;
  networksRemoved: string[];
  elapsedMs: number;
}

export class RemoveError extends Error {}

export async function removeService(api: SwarmApi, params: RemoveParams): Promise<RemoveResult> {
  const started = Date.now();
  const log = params.log ?? (() => {});
  const timeoutMs = params.timeoutMs ?? 60_000;
  const svc = await api.inspectService(params.service);
  if (!svc) {
    if (params.failIfMissing) {
      throw new RemoveError(`Service ${params.service} does not exist (failIfMissing is set). List services with \`docker service ls\`.`);
    }
    log(`${params.service} is not deployed; nothing to remove.`);
    return { removed: false, networksRemoved: [], elapsedMs: Date.now() - started };
  }
  const networkIds = (svc.Spec.TaskTemplate.Networks ?? []).map((n) => n.Target);
  try {
    await api.removeService(svc.ID);
  } catch (error) {
    throw new RemoveError(`Could not remove service ${params.service}: ${daemonMessage(error)}`);
  }
  log(`Removed service ${params.service} (${svc.ID.slice(0, 12)}); waiting for its tasks to stop…`);

  // Gone means: the manager has no task left, and no container of it remains on this engine.
  let last = '';
  for (;;) {
    const [tasks, containers] = await Promise.all([
      api.listTasks({ service: [svc.ID] }).catch(() => []),
      api.serviceContainers(svc.ID).catch(() => []),
    ]);
    const line = `  ${tasks.length} task(s), ${containers.length} container(s) left`;
    if (line !== last) {
      log(line);
      last = line;
    }
    if (!tasks.length && !containers.length) break;
    if (Date.now() - started > timeoutMs) {
      throw new RemoveError(
        `Service ${params.service} was removed, but ${tasks.length} task(s) / ${containers.length} container(s) were still shutting down after ` +
          `${Math.round(timeoutMs / 1000)} s (a container ignoring SIGTERM waits for its stop grace period, or a node is unreachable). ` +
          `Its published ports may still be busy; check \`docker ps -a --filter label=com.docker.swarm.service.id=${svc.ID}\`, or raise "timeout".`,
      );
    }
    await sleep(params.pollMs ?? 250);
  }

  // Its secret and config versions: no release history keeps them now (it was in the service's labels).
  await pruneObjects(api, params.service, log, log);

  const networksRemoved: string[] = [];
  if (params.removeNetworks && networkIds.length) {
    const services = await api.listServices();
    const used = new Set(
      services.flatMap((s) =>
        [...(s.Spec.TaskTemplate?.Networks ?? []), ...((s.Spec.Networks as { Target: string }[] | undefined) ?? [])].map((n) => n.Target),
      ),
    );
    for (const id of networkIds) {
      const net = await api.inspectNetwork(id);
      if (!net || net.Ingress || net.Name === 'ingress') continue;
      if (used.has(net.Id) || used.has(net.Name)) {
        log(`Keeping network ${net.Name}: other services use it.`);
        continue;
      }
      if (net.Containers && Object.keys(net.Containers).length) {
        log(`Keeping network ${net.Name}: containers are attached to it.`);
        continue;
      }
      try {
        await api.removeNetwork(id);
        networksRemoved.push(net.Name);
        log(`Removed network ${net.Name}.`);
      } catch (error) {
        log(`Keeping network ${net.Name}: ${daemonMessage(error)}`);
      }
    }
  }
  return { removed: true, networksRemoved, elapsedMs: Date.now() - started };
}
