/**
 * swarm-service-rm's library: remove a service, wait until its tasks and containers are gone (so its
 * published ports are free), optionally remove the networks nothing else uses.
 */
import type Docker from 'dockerode';
import { daemonMessage } from '../docker/engine';
import { dial, inspectService, listTasks } from './deployer';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NetworkInfo {
  Id: string;
  Name: string;
  Ingress?: boolean;
  Containers?: Record<string, unknown>;
}

export async function removeService(docker: Docker, params: RemoveParams): Promise<RemoveResult> {
  const started = Date.now();
  const log = params.log ?? (() => {});
  const timeoutMs = params.timeoutMs ?? 60_000;
  const svc = await inspectService(docker, params.service);
  if (!svc) {
    if (params.failIfMissing) {
      throw new RemoveError(`Service ${params.service} does not exist (failIfMissing is set). List services with \`docker service ls\`.`);
    }
    log(`${params.service} is not deployed; nothing to remove.`);
    return { removed: false, networksRemoved: [], elapsedMs: Date.now() - started };
  }
  const networkIds = (svc.Spec.TaskTemplate.Networks ?? []).map((n) => n.Target);
  try {
    await dial(docker, {
      path: `/services/${svc.ID}`,
      method: 'DELETE',
      statusCodes: { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
    });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) {
      throw new RemoveError(`Could not remove service ${params.service}: ${daemonMessage(error)}`);
    }
  }
  log(`Removed service ${params.service} (${svc.ID.slice(0, 12)}); waiting for its tasks to stop…`);

  // Gone means: the manager has no task left, and no container of it remains on this engine.
  let last = '';
  for (;;) {
    const tasks = await listTasks(docker, { service: [svc.ID] }).catch(() => []);
    const containers = await docker
      .listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.swarm.service.id=${svc.ID}`] }) })
      .catch(() => []);
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

  const networksRemoved: string[] = [];
  if (params.removeNetworks && networkIds.length) {
    const services = (await docker.listServices()) as unknown as { Spec: { TaskTemplate?: { Networks?: { Target: string }[] }; Networks?: { Target: string }[] } }[];
    const used = new Set(services.flatMap((s) => [...(s.Spec.TaskTemplate?.Networks ?? []), ...(s.Spec.Networks ?? [])].map((n) => n.Target)));
    for (const id of networkIds) {
      let net: NetworkInfo;
      try {
        net = (await docker.getNetwork(id).inspect()) as NetworkInfo;
      } catch {
        continue;
      }
      if (net.Ingress || net.Name === 'ingress') continue;
      if (used.has(net.Id) || used.has(net.Name)) {
        log(`Keeping network ${net.Name}: other services use it.`);
        continue;
      }
      if (net.Containers && Object.keys(net.Containers).length) {
        log(`Keeping network ${net.Name}: containers are attached to it.`);
        continue;
      }
      try {
        await docker.getNetwork(id).remove();
        networksRemoved.push(net.Name);
        log(`Removed network ${net.Name}.`);
      } catch (error) {
        log(`Keeping network ${net.Name}: ${daemonMessage(error)}`);
      }
    }
  }
  return { removed: true, networksRemoved, elapsedMs: Date.now() - started };
}
