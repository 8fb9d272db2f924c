/**
 * Every Engine API call swarm-deploy and swarm-service-rm make (services, tasks, nodes, networks,
 * logs, health, images), with the status handling in one place: "not found" is `undefined`, other
 * failures throw with the daemon's own words (daemonMessage). The deployer and the remover are
 * siblings that take a `SwarmApi`; unit tests give them a fake one.
 */
import type Docker from 'dockerode';
import { LostContext, guardLostEngine } from '../docker/engine-lost';
import { ENGINE_STATUS, isNotFound } from '../common/http-status';
import { NodeLike, ServiceLike, TaskLike, nodeLabel } from './convergence';
import { byTimestamp, demuxLogs, lastLines } from './logs';
import type { SwarmInfo } from './preflight';
import type { ObjectKind, ObjectSummary } from './objects';
import type { HealthConfigSpec, ServiceSpec } from './service-spec';

export interface ServiceInspect extends ServiceLike {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: { Ports?: { PublishedPort?: number; TargetPort: number; Protocol?: string; PublishMode?: string }[] };
}

export interface EngineInfo extends SwarmInfo {
  Swarm?: SwarmInfo['Swarm'] & { NodeAddr?: string };
}

export interface ImageFacts {
  Id: string;
  /** The image's HEALTHCHECK (undefined: none, or NONE). */
  healthcheck?: HealthConfigSpec;
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver?: string;
  Scope?: string;
  Ingress?: boolean;
  Containers?: Record<string, unknown>;
}

/** Where the deployer runs relative to the swarm: this engine's node, and the nodes (for names). */
export interface SwarmView {
  localNodeId?: string;
  nodes?: NodeLike[];
}

export interface SwarmApi {
  info(): Promise<EngineInfo>;
  inspectService(nameOrId: string): Promise<ServiceInspect | undefined>;
  listServices(): Promise<ServiceInspect[]>;
  createService(spec: ServiceSpec, headers?: Record<string, string>): Promise<{ ID: string }>;
  /** Version goes in the query, the spec in the body. */
  updateService(id: string, version: number, spec: ServiceSpec, headers?: Record<string, string>): Promise<void>;
  /** false when the service was already gone. */
  removeService(id: string): Promise<boolean>;
  listTasks(filters: Record<string, string[]>): Promise<TaskLike[]>;
  /** One task by ID (also after it left the service's task list); undefined when swarm no longer has it. */
  inspectTask(id: string): Promise<TaskLike | undefined>;
  /** undefined when the nodes can't be listed. */
  listNodes(): Promise<NodeLike[] | undefined>;
  /** Last log lines of a task (through the manager, any node), else of its local container. */
  taskLogs(task: TaskLike, n: number): Promise<string[]>;
  /** The container's recent health-check outputs, or where to read them. */
  healthLog(task: TaskLike, view: SwarmView): Promise<string[]>;
  /** The first of `refs` that exists on this engine. */
  inspectImage(refs: string[]): Promise<ImageFacts | undefined>;
  listNetworks(names: string[]): Promise<NetworkSummary[]>;
  createNetwork(spec: { Name: string; Driver: string; Attachable: boolean; Labels: Record<string, string> }): Promise<string>;
  inspectNetwork(id: string): Promise<NetworkSummary | undefined>;
  removeNetwork(id: string): Promise<void>;
  /** Containers of a service on this engine (any state). */
  serviceContainers(serviceId: string): Promise<unknown[]>;
  /** Secrets or configs matching the filters (`name`, `label`), without their content. */
  listObjects(kind: ObjectKind, filters: Record<string, string[]>): Promise<ObjectSummary[]>;
  /** Creates a secret or config; `data` goes to the engine only. Returns its ID. */
  createObject(kind: ObjectKind, spec: { Name: string; Labels: Record<string, string>; data: Buffer }): Promise<string>;
  /** false when it was already gone. Throws (the daemon's words) when a service still uses it. */
  removeObject(kind: ObjectKind, id: string): Promise<boolean>;
}

function dial<T = unknown>(docker: Docker, opts: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) =>
    (docker.modem as unknown as { dial: (o: unknown, cb: (e: unknown, d: T) => void) => void }).dial(
      { statusCodes: ENGINE_STATUS, ...opts },
      (err, data) => (err ? reject(err) : resolve(data)),
    ),
  );
}

const orUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };

type ContainerHealth = { State?: { Health?: { Status?: string; FailingStreak?: number; Log?: { ExitCode: number; Output: string }[] } } };

/** The SwarmApi of a dockerode client. */
export function swarmApi(docker: Docker): SwarmApi {
  const api: SwarmApi = {
    info: () => docker.info() as Promise<EngineInfo>,
    inspectService: (nameOrId) =>
      orUndefined(
        dial<ServiceInspect>(docker, { path: `/services/${encodeURIComponent(nameOrId)}?`, method: 'GET', options: { insertDefaults: false } }),
      ),
    listServices: () => dial<ServiceInspect[]>(docker, { path: '/services?', method: 'GET', options: {} }),
    createService: (spec, headers = {}) =>
      dial<{ ID: string }>(docker, { path: '/services/create', method: 'POST', options: spec, headers: { ...JSON_HEADERS, ...headers } }),
    updateService: async (id, version, spec, headers = {}) => {
      await dial(docker, {
        path: `/services/${encodeURIComponent(id)}/update?`,
        method: 'POST',
        options: { _query: { version }, _body: spec },
        headers: { ...JSON_HEADERS, ...headers },
      });
    },
    removeService: async (id) =>
      (await orUndefined(dial(docker, { path: `/services/${encodeURIComponent(id)}`, method: 'DELETE' }).then(() => true))) ?? false,
    listTasks: (filters) => dial<TaskLike[]>(docker, { path: '/tasks?', method: 'GET', options: { filters } }),
    inspectTask: (id) => dial<TaskLike>(docker, { path: `/tasks/${encodeURIComponent(id)}`, method: 'GET' }).catch(() => undefined),
    listNodes: () => dial<NodeLike[]>(docker, { path: '/nodes', method: 'GET' }).catch(() => undefined),
    taskLogs: async (task, n) => {
      try {
        const buf = await dial<Buffer>(docker, {
          path: `/tasks/${task.ID}/logs?`,
          method: 'GET',
          // timestamps: stdout and stderr arrive as separate streams; sort them back into order
          options: { stdout: true, stderr: true, tail: String(n), timestamps: true },
          isStream: false,
        });
        const lines = byTimestamp(demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))));
        if (lines.length) return lastLines(lines, n);
      } catch {
        /* fall back to the container */
      }
      const id = task.Status.ContainerStatus?.ContainerID;
      if (!id) return [];
      try {
        const buf = (await docker
          .getContainer(id)
          .logs({ stdout: true, stderr: true, tail: n, follow: false, timestamps: true })) as unknown as Buffer;
        return lastLines(byTimestamp(demuxLogs(buf)), n);
      } catch {
        return [];
      }
    },
    healthLog: async (task, view) => {
      const id = task.Status.ContainerStatus?.ContainerID;
      const remote = Boolean(task.NodeID && view.localNodeId && task.NodeID !== view.localNodeId);
      let health: NonNullable<ContainerHealth['State']>['Health'];
      if (id && !remote) {
        health = await (docker.getContainer(id).inspect() as Promise<ContainerHealth>).then((c) => c.State?.Health).catch(() => undefined);
      }
      return describeHealth(task, view, health);
    },
    inspectImage: async (refs) => {
      for (const ref of refs) {
        try {
          const img = (await docker.getImage(ref).inspect()) as unknown as { Id: string; Config?: { Healthcheck?: HealthConfigSpec } };
          const hc = img.Config?.Healthcheck;
          return { Id: img.Id, healthcheck: hc?.Test?.length && hc.Test[0] !== 'NONE' ? hc : undefined };
        } catch {
          /* try the next */
        }
      }
      return undefined;
    },
    listNetworks: (names) => docker.listNetworks({ filters: JSON.stringify({ name: names }) }) as unknown as Promise<NetworkSummary[]>,
    createNetwork: async (spec) => (await docker.createNetwork({ ...spec, CheckDuplicate: true })).id,
    inspectNetwork: (id) => (docker.getNetwork(id).inspect() as Promise<NetworkSummary>).catch(() => undefined),
    removeNetwork: async (id) => {
      await docker.getNetwork(id).remove();
    },
    serviceContainers: (serviceId) =>
      docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.swarm.service.id=${serviceId}`] }) }),
    listObjects: (kind, filters) => dial<ObjectSummary[]>(docker, { path: `/${kind}s?`, method: 'GET', options: { filters } }),
    createObject: async (kind, spec) =>
      (
        await dial<{ ID: string }>(docker, {
          path: `/${kind}s/create`,
          method: 'POST',
          options: { Name: spec.Name, Labels: spec.Labels, Data: spec.data.toString('base64') },
          headers: JSON_HEADERS,
        })
      ).ID,
    removeObject: async (kind, id) =>
      (await orUndefined(dial(docker, { path: `/${kind}s/${encodeURIComponent(id)}`, method: 'DELETE' }).then(() => true))) ?? false,
  };
  return api;
}

const LOST: Record<'deploy' | 'undeploy', Omit<LostContext, 'describe'>> = {
  deploy: {
    rerun: 'run deploy',
    unknownAfterWrite: 'the rollout may still be running on the swarm (swarm carries on without this run)',
    nextAfterWrite:
      'run deploy again when the manager answers: it follows the rollout to its end or reports it done (meanwhile, on the manager: `docker service ps SERVICE`).',
  },
  undeploy: {
    rerun: 'run undeploy',
    unknownAfterWrite: 'whether the tasks have stopped and their ports are free',
    nextAfterWrite: 'run undeploy again when the manager answers: it waits until the tasks are gone, or says the service is already gone.',
  },
};

/**
 * swarmApi with a lost engine handled (docker/engine-lost.ts): reads retried a bounded number of
 * times, writes journaled, and one message with what was sent, what is unknown and the next step.
 */
export function guardedSwarmApi(docker: Docker, describe: string, run: 'deploy' | 'undeploy', onRetry?: (line: string) => void): SwarmApi {
  const image = (spec: ServiceSpec) => spec.TaskTemplate?.ContainerSpec?.Image ?? '?';
  return guardLostEngine(
    swarmApi(docker),
    { describe, ...LOST[run] },
    {
      reads: [
        'info',
        'inspectService',
        'listServices',
        'listTasks',
        'inspectImage',
        'listNetworks',
        'inspectNetwork',
        'serviceContainers',
        'listObjects',
      ],
      writes: {
        createService: (spec: ServiceSpec) => `create of service ${spec.Name} from ${image(spec)}`,
        updateService: (_id: string, version: number, spec: ServiceSpec) =>
          `update of service ${spec.Name} to ${image(spec)} (at spec version ${version})`,
        removeService: (id: string) => `removal of service ${id.slice(0, 12)}`,
        createNetwork: (spec: { Name: string }) => `creation of network ${spec.Name}`,
        removeNetwork: (id: string) => `removal of network ${id.slice(0, 12)}`,
        createObject: (kind: ObjectKind, spec: { Name: string }) => `creation of ${kind} ${spec.Name}`,
        removeObject: (kind: ObjectKind, id: string) => `removal of ${kind} ${id.slice(0, 12)}`,
      },
      onRetry,
    },
  );
}

/**
 * The health-check lines for a failure report. Only the engine that runs a container can inspect it:
 * for a task on another node, say on which node the health log is and how to read it there. Pure.
 */
export function describeHealth(task: TaskLike, view: SwarmView, health?: NonNullable<ContainerHealth['State']>['Health']): string[] {
  if (health) {
    return [
      `health: ${health.Status ?? 'unknown'}, failing streak ${health.FailingStreak ?? 0}`,
      ...(health.Log ?? []).slice(-3).map((l) => `  exit ${l.ExitCode}: ${l.Output.trim()}`),
    ];
  }
  const id = task.Status.ContainerStatus?.ContainerID;
  const status = `task ${task.ID.slice(0, 12)} status: ${task.Status.State} "${task.Status.Err || task.Status.Message || ''}"${
    task.Status.ContainerStatus?.ExitCode !== undefined ? `, exit code ${task.Status.ContainerStatus.ExitCode}` : ''
  }`;
  if (!task.NodeID) return [status];
  return [
    `the health log is on node ${nodeLabel(task.NodeID, view.nodes)}, which this engine can't inspect` +
      (id ? `: run \`docker inspect --format '{{json .State.Health}}' ${id.slice(0, 12)}\` on that node` : '') +
      '.',
    status,
  ];
}
