/**
 * The apply side of swarm-deploy: preflight, create-or-update only when something changed, follow
 * convergence, explain failures, summarise. Everything that decides is in the pure modules
 * (validate-options, service-spec, spec-diff, convergence, preflight); this file does the I/O.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { EndpointEnv, isLocalEndpoint } from '../docker/endpoint';
import * as auth from '../docker/registry-auth';
import * as reference from '../docker/reference';
import { Engine, connectEngine, daemonMessage } from '../docker/engine';
import { ImageReceipt, imageReceiptPath, readImageReceipt } from '../docker/image-receipt';
import { ConvergenceTracker, Failure, NodeLike, Observation, ServiceLike, TaskLike, isIdle, isStuckRollback, namedTaskId, nodeLabel } from './convergence';
import { chooseImage } from './image-ref';
import { byTimestamp, demuxLogs, lastLines } from './logs';
import { ensureNetworks } from './network';
import { DEFAULT_NETWORKS, DEFAULT_TIMEOUT_NS, SwarmDeployOptions, formatDuration, parseDuration } from './options';
import { KernelProbe, detectIpvs, ipvsProblem, swarmManagerProblem } from './preflight';
import { ServiceSpec, buildServiceSpec, resolveOrder, specImage } from './service-spec';
import { SpecChange, describeChanges, diffSpecs, needsRecreate } from './spec-diff';
import { chooseUrlHost } from './url-host';
import { validateOptions } from './validate-options';

export class DeployError extends Error {
  constructor(message: string, readonly details: string[] = []) {
    super(message);
  }
}

export interface DeployParams {
  options: SwarmDeployOptions;
  projectName: string;
  projectRoot: string;
  workspaceRoot: string;
  /** Environment for the engine endpoint and registry credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Poll interval for convergence (ms). */
  pollMs?: number;
  kernelProbe?: KernelProbe;
  /** Pre-connected engine (tests). */
  engine?: Engine;
}

export interface PublishedPort {
  published: number;
  target: number;
  protocol: string;
  mode: string;
  url?: string;
}

export interface DeployReport {
  service: string;
  serviceId?: string;
  action: 'create' | 'update' | 'noop' | 'dry-run';
  image: string;
  imageId?: string;
  changes: string[];
  replicas: { running: number; desired: number };
  ports: PublishedPort[];
  versionIndex?: number;
  elapsedMs: number;
  deployedAt: string;
}

interface ServiceInspect extends ServiceLike {
  Version: { Index: number };
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: { Ports?: { PublishedPort?: number; TargetPort: number; Protocol?: string; PublishMode?: string }[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function dial<T = unknown>(docker: Docker, opts: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) =>
    (docker.modem as unknown as { dial: (o: unknown, cb: (e: unknown, d: T) => void) => void }).dial(opts, (err, data) =>
      err ? reject(err) : resolve(data),
    ),
  );
}

export async function inspectService(docker: Docker, nameOrId: string): Promise<ServiceInspect | undefined> {
  try {
    return (await dial<ServiceInspect>(docker, {
      path: `/services/${encodeURIComponent(nameOrId)}?`,
      method: 'GET',
      options: { insertDefaults: false },
      statusCodes: { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
    }));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

export async function listTasks(docker: Docker, filters: Record<string, string[]>): Promise<TaskLike[]> {
  return dial<TaskLike[]>(docker, {
    path: '/tasks?',
    method: 'GET',
    options: { filters },
    statusCodes: { 200: true, 500: 'server error', 503: 'node is not part of a swarm' },
  });
}

/** One task by ID (also after it left the service's task list); undefined when swarm no longer has it. */
export async function inspectTask(docker: Docker, id: string): Promise<TaskLike | undefined> {
  try {
    return await dial<TaskLike>(docker, {
      path: `/tasks/${encodeURIComponent(id)}`,
      method: 'GET',
      statusCodes: { 200: true, 404: 'no such task', 500: 'server error', 503: 'node is not part of a swarm' },
    });
  } catch {
    return undefined;
  }
}

export async function listNodes(docker: Docker): Promise<NodeLike[] | undefined> {
  try {
    return await dial<NodeLike[]>(docker, { path: '/nodes', method: 'GET', statusCodes: { 200: true, 500: 'server error', 503: 'node is not part of a swarm' } });
  } catch {
    return undefined;
  }
}

function defaultKernelProbe(): KernelProbe {
  return {
    exists: (p) => fs.existsSync(p),
    readText: (p) => {
      try {
        return fs.readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    release: os.release(),
  };
}

const isOutOfSequence = (e: unknown) => /update out of sequence/i.test(daemonMessage(e));

/** Last log lines of a task (works for any node through the manager), else of its local container. */
export async function taskLogs(docker: Docker, task: TaskLike, n = 20): Promise<string[]> {
  try {
    const buf = await dial<Buffer>(docker, {
      path: `/tasks/${task.ID}/logs?`,
      method: 'GET',
      // timestamps: stdout and stderr arrive as separate streams; sort them back into order
      options: { stdout: true, stderr: true, tail: String(n), timestamps: true },
      isStream: false,
      statusCodes: { 200: true, 404: 'no such task', 500: 'server error' },
    });
    const lines = byTimestamp(demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))));
    if (lines.length) return lastLines(lines, n);
  } catch {
    /* fall back to the container */
  }
  const id = task.Status.ContainerStatus?.ContainerID;
  if (!id) return [];
  try {
    const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: n, follow: false, timestamps: true })) as unknown as Buffer;
    return lastLines(byTimestamp(demuxLogs(buf)), n);
  } catch {
    return [];
  }
}

/** Where the deployer runs relative to the swarm: this engine's node, and the nodes (for names). */
export interface SwarmView {
  localNodeId?: string;
  nodes?: NodeLike[];
}

/**
 * The container's recent health-check outputs. Only the engine that runs a container can inspect it:
 * for a task on another node, say on which node the health log is and how to read it there.
 */
export async function healthLog(docker: Docker, task: TaskLike, view: SwarmView = {}): Promise<string[]> {
  const id = task.Status.ContainerStatus?.ContainerID;
  const status = `task ${task.ID.slice(0, 12)} status: ${task.Status.State} "${task.Status.Err || task.Status.Message || ''}"${
    task.Status.ContainerStatus?.ExitCode !== undefined ? `, exit code ${task.Status.ContainerStatus.ExitCode}` : ''
  }`;
  const remote = task.NodeID && view.localNodeId && task.NodeID !== view.localNodeId;
  if (id && !remote) {
    try {
      const c = (await docker.getContainer(id).inspect()) as unknown as {
        State?: { Health?: { Status?: string; FailingStreak?: number; Log?: { ExitCode: number; Output: string }[] } };
      };
      const h = c.State?.Health;
      if (h) {
        return [
          `health: ${h.Status ?? 'unknown'}, failing streak ${h.FailingStreak ?? 0}`,
          ...(h.Log ?? []).slice(-3).map((l) => `  exit ${l.ExitCode}: ${l.Output.trim()}`),
        ];
      }
    } catch {
      /* not on this engine after all */
    }
  }
  if (!task.NodeID) return [status];
  return [
    `the health log is on node ${nodeLabel(task.NodeID, view.nodes)}, which this engine can't inspect` +
      (id ? `: run \`docker inspect --format '{{json .State.Health}}' ${id.slice(0, 12)}\` on that node` : '') +
      '.',
    status,
  ];
}

async function imageHasHealthcheck(docker: Docker, ref: string): Promise<boolean | undefined> {
  try {
    const img = (await docker.getImage(ref).inspect()) as unknown as { Config?: { Healthcheck?: { Test?: string[] } } };
    const t = img.Config?.Healthcheck?.Test;
    return Boolean(t && t.length && t[0] !== 'NONE');
  } catch {
    return undefined;
  }
}

/** Published ports that another service already holds (swarm rejects ingress clashes, but host-mode ones just stay pending). */
async function portConflicts(docker: Docker, spec: ServiceSpec, ownId?: string): Promise<string[]> {
  const wanted = (spec.EndpointSpec?.Ports ?? []).filter((p) => p.PublishedPort);
  if (!wanted.length) return [];
  const services = (await docker.listServices()) as unknown as ServiceInspect[];
  const out: string[] = [];
  for (const s of services) {
    if (s.ID === ownId || s.Spec.Name === spec.Name) continue;
    const theirs = [...(s.Endpoint?.Ports ?? []), ...(s.Spec.EndpointSpec?.Ports ?? [])];
    for (const p of wanted) {
      const hit = theirs.find((q) => q.PublishedPort === p.PublishedPort && (q.Protocol ?? 'tcp') === (p.Protocol ?? 'tcp'));
      if (hit && !out.some((o) => o.startsWith(`port ${p.PublishedPort}/`))) {
        out.push(
          `port ${p.PublishedPort}/${p.Protocol ?? 'tcp'} is already published by service "${s.Spec.Name}" (mode ${hit.PublishMode ?? 'ingress'}). ` +
            `Remove that service (\`docker service rm ${s.Spec.Name}\`, or its swarm-service-rm target) or choose another "published" port.`,
        );
      }
    }
  }
  return out;
}

function portsOf(spec: ServiceSpec, current: ServiceInspect | undefined, host: string): PublishedPort[] {
  const actual = current?.Endpoint?.Ports ?? [];
  return (spec.EndpointSpec?.Ports ?? []).map((p) => {
    const published =
      p.PublishedPort ||
      actual.find((a) => a.TargetPort === p.TargetPort && (a.Protocol ?? 'tcp') === (p.Protocol ?? 'tcp'))?.PublishedPort ||
      0;
    const protocol = p.Protocol ?? 'tcp';
    return {
      published,
      target: p.TargetPort,
      protocol,
      mode: p.PublishMode ?? 'ingress',
      url: published && protocol === 'tcp' ? `http://${host}:${published}/` : undefined,
    };
  });
}

function engineHost(engine: Engine): string {
  return engine.endpoint.kind === 'tcp' || engine.endpoint.kind === 'ssh' ? engine.endpoint.host : '127.0.0.1';
}

function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .map((a) => a?.address)
    .filter((a): a is string => Boolean(a));
}

/** The address for the summary's `try curl`: see chooseUrlHost (lists the nodes only for host-mode ports). */
async function urlHost(docker: Docker, engine: Engine, swarm: { NodeAddr?: string } | undefined, spec: ServiceSpec, tasks: TaskLike[]): Promise<string> {
  const port = (spec.EndpointSpec?.Ports ?? []).find((p) => p.PublishedPort || p.PublishMode);
  const mode = port?.PublishMode ?? 'ingress';
  let taskNodeAddrs: string[] = [];
  const nodeIds = [...new Set(tasks.filter((t) => t.Status.State === 'running' && t.NodeID).map((t) => t.NodeID!))];
  if (mode === 'host' && nodeIds.length) {
    const nodes = (await listNodes(docker)) ?? [];
    taskNodeAddrs = nodeIds.map((id) => nodes.find((n) => n.ID === id)?.Status?.Addr).filter((a): a is string => Boolean(a));
  }
  return chooseUrlHost({
    mode,
    endpointLocal: isLocalEndpoint(engine.endpoint),
    endpointHost: engine.endpoint.kind === 'tcp' || engine.endpoint.kind === 'ssh' ? engine.endpoint.host : undefined,
    managerAddr: swarm?.NodeAddr,
    taskNodeAddrs,
    localAddrs: localAddresses(),
  });
}

function writeReport(workspaceRoot: string, projectRoot: string, report: DeployReport): string {
  const file = path.join(workspaceRoot, 'dist', projectRoot, 'deploy.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

async function registryAuthHeader(image: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<Record<string, string>> {
  const domain = reference.parseReference(image).domain ?? reference.DOCKER_HUB_DOMAIN;
  const resolved = await auth.resolveRegistryAuth(domain, env as never, (f) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  });
  if (!resolved.credentials) {
    log(`withRegistryAuth: no credentials for ${domain} (docker login ${domain} first); nodes will pull anonymously.`);
    return {};
  }
  log(`withRegistryAuth: sending credentials for ${resolved.server} from ${resolved.source}.`);
  return { 'X-Registry-Auth': auth.encodeRegistryAuth(resolved.credentials) };
}

/** Deploys; returns the report, or throws DeployError with a human message. */
export async function deploy(params: DeployParams): Promise<DeployReport> {
  const started = Date.now();
  const log = params.log ?? (() => {});
  const warn = params.warn ?? log;
  const env = params.env ?? process.env;
  const options = params.options;
  const serviceName = options.service ?? params.projectName;

  // 1. Options on their own.
  const first = validateOptions(options, serviceName);
  if (first.errors.length) throw new DeployError(`Invalid swarm-deploy options for ${serviceName}:`, first.errors);

  // 2. The image.
  let receipt: ImageReceipt | undefined;
  const receiptFile = imageReceiptPath(params.workspaceRoot, params.projectRoot);
  if (!options.image) {
    receipt = readImageReceipt(receiptFile);
    if (!receipt) {
      throw new DeployError(
        `No image to deploy: ${path.relative(params.workspaceRoot, receiptFile)} does not exist. ` +
          `Run the image target first (\`nx run ${params.projectName}:image\`), or set the "image" option.`,
      );
    }
  }
  const chosen = chooseImage(options.image, receipt)!;

  // 3. Engine, swarm, kernel.
  const engine = params.engine ?? (await connectEngine({ env: env as EndpointEnv }).catch((e: Error) => {
    throw new DeployError(e.message);
  }));
  const docker = engine.docker;
  const info = (await docker.info()) as { Swarm?: { Nodes?: number; LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; NodeAddr?: string } };
  const notManager = swarmManagerProblem(info, engine.describe);
  if (notManager) throw new DeployError(notManager);
  const nodes = info.Swarm?.Nodes ?? 1;
  const second = validateOptions(options, serviceName, { nodes });
  if (second.errors.length) throw new DeployError(`Invalid swarm-deploy options for ${serviceName}:`, second.errors);
  if (isLocalEndpoint(engine.endpoint)) {
    const problem = ipvsProblem(options, detectIpvs(params.kernelProbe ?? defaultKernelProbe()));
    if (problem) throw new DeployError(problem);
  }

  // 4. Does the image exist?
  let imageId: string | undefined;
  for (const ref of chosen.localRefs) {
    try {
      imageId = ((await docker.getImage(ref).inspect()) as { Id: string }).Id;
      break;
    } catch {
      /* try the next */
    }
  }
  if (!imageId) {
    if (chosen.source === 'receipt') {
      throw new DeployError(
        `The image ${chosen.ref} named by ${path.relative(params.workspaceRoot, receiptFile)} is not on the engine at ${engine.describe} ` +
          `(removed, or built against another engine). Run the image target first (\`nx run ${params.projectName}:image\`).`,
      );
    }
    warn(`Image ${chosen.ref} is not on the engine at ${engine.describe}; every node will pull it from its registry.`);
  } else if (!chosen.pushed && nodes > 1) {
    warn(
      `Image ${chosen.ref} was never pushed: it exists only on this engine, and tasks scheduled on the other ${nodes - 1} node(s) ` +
        `will be REJECTED with "No such image". Push it (docker-image with push: true) for multi-node swarms.`,
    );
  }
  const hasHealthcheck =
    options.healthcheck?.disable ? false : Boolean(options.healthcheck?.test) || (await imageHasHealthcheck(docker, imageId ?? chosen.ref)) === true;

  // 5. Networks.
  const networkNames = options.networks ?? DEFAULT_NETWORKS;
  const nets = await ensureNetworks(docker, networkNames, options.dryRun);
  for (const n of nets.created) log(`${options.dryRun ? 'Would create' : 'Created'} overlay network ${n} (attachable).`);
  const networkNamesById = Object.fromEntries(Object.entries(nets.ids).map(([n, id]) => [id, n]));

  const order = resolveOrder(options);
  const timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT_NS / 1e9) / 1e6;
  const authHeaders = options.withRegistryAuth && !options.dryRun ? await registryAuthHeader(chosen.ref, env, log) : {};

  // 6. Create or update, retrying on races (update out of sequence, concurrent create).
  let action: DeployReport['action'] = 'noop';
  let changes: SpecChange[] = [];
  let current: ServiceInspect | undefined;
  let desired!: ServiceSpec;
  let serviceId: string | undefined;
  let noted = false; // the stop-first note is said once
  for (let attempt = 1; ; attempt++) {
    current = await inspectService(docker, serviceName);
    desired = buildServiceSpec(options, {
      serviceName,
      image: chosen.ref,
      networkIds: nets.ids,
      forceUpdate: current?.Spec.TaskTemplate.ForceUpdate ?? 0,
    });
    const conflicts = await portConflicts(docker, desired, current?.ID);
    if (conflicts.length) throw new DeployError(`Can't deploy ${serviceName}:`, conflicts);

    if (!current) {
      action = 'create';
      if (order.note && !noted) {
      log(order.note);
      noted = true;
    }
      if (options.dryRun) break;
      try {
        const created = await dial<{ ID: string }>(docker, {
          path: '/services/create',
          method: 'POST',
          options: desired,
          headers: { 'Content-Type': 'application/json', ...authHeaders },
          statusCodes: { 201: true, 400: 'bad parameter', 403: 'forbidden', 409: 'name conflicts', 500: 'server error', 503: 'node is not part of a swarm' },
        });
        serviceId = created.ID;
        log(`Created service ${serviceName} (${serviceId.slice(0, 12)}) from ${chosen.ref}.`);
        break;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 409 && attempt < 5) continue; // created concurrently: update it
        throw new DeployError(`Could not create service ${serviceName}: ${explainDaemonError(daemonMessage(error))}`);
      }
    }

    serviceId = current.ID;
    changes = diffSpecs(current.Spec, desired);
    const recreate = needsRecreate(changes);
    if (recreate) {
      throw new DeployError(
        `${serviceName} can't be updated in place: ${recreate.field} changes (${describeChanges([recreate], networkNamesById)[0]}). ` +
          `Swarm can't change a service's mode or name; remove it first (swarm-service-rm target, or \`docker service rm ${serviceName}\`) and deploy again.`,
      );
    }
    const paused = current.UpdateStatus?.State === 'paused' || current.UpdateStatus?.State === 'rollback_paused';
    if (!changes.length && !paused) {
      action = 'noop';
      break;
    }
    if (!changes.length && paused) {
      // Same spec, but an earlier update is stuck paused: swarm resumes only on a new update.
      log(`${serviceName}'s previous update is ${current.UpdateStatus?.State} ("${current.UpdateStatus?.Message ?? ''}"); re-issuing the spec to resume it.`);
    }
    action = 'update';
    if (order.note && !noted) {
      log(order.note);
      noted = true;
    }
    if (options.dryRun) break;
    try {
      await dial(docker, {
        path: `/services/${current.ID}/update?`,
        method: 'POST',
        // version goes in the query, the spec only in the body.
        options: { _query: { version: current.Version.Index }, _body: desired },
        headers: { 'Content-Type': 'application/json', ...authHeaders },
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
      });
      log(`Updating ${serviceName} (${changes.length} change${changes.length > 1 ? 's' : ''}):`);
      for (const line of describeChanges(changes, networkNamesById)) log(`  ${line}`);
      break;
    } catch (error) {
      if (isOutOfSequence(error) && attempt < 8) {
        await sleep(100 * attempt);
        continue;
      }
      throw new DeployError(`Could not update service ${serviceName}: ${explainDaemonError(daemonMessage(error))}`);
    }
  }

  const host = engineHost(engine);
  if (options.dryRun) {
    const lines =
      action === 'create'
        ? [`Plan: create service ${serviceName} from ${chosen.ref}.`]
        : action === 'update'
          ? [`Plan: update service ${serviceName}:`, ...describeChanges(changes, networkNamesById).map((l) => `  ${l}`)]
          : [`Plan: nothing to do, ${serviceName} is up to date.`];
    lines.forEach((l) => log(l));
    if (action === 'create') log(`  spec: ${JSON.stringify(desired)}`);
    return {
      service: serviceName,
      serviceId,
      action: 'dry-run',
      image: chosen.ref,
      imageId,
      changes: action === 'update' ? describeChanges(changes, networkNamesById) : [],
      replicas: { running: 0, desired: desired.Mode.Replicated?.Replicas ?? 0 },
      ports: portsOf(desired, current, host),
      elapsedMs: Date.now() - started,
      deployedAt: new Date().toISOString(),
    };
  }

  // 7. No-op fast path: nothing written. Swarm resets UpdateStatus right after an update, so an idle
  // UpdateStatus isn't enough: the running tasks must be up to date with the spec, and all there (one
  // tasks call: desired running + up to date). Otherwise someone's rollout is going: follow it.
  const busy = current?.UpdateStatus?.State === 'updating' || current?.UpdateStatus?.State === 'rollback_started';
  let noopTasks: TaskLike[] = [];
  if (action === 'noop' && !busy) {
    noopTasks = await listTasks(docker, { service: [serviceId!], 'desired-state': ['running'], '_up-to-date': ['true'] });
  }
  const replicated = desired.Mode.Replicated ? desired.Mode.Replicated.Replicas ?? 1 : undefined;
  let idle = false;
  if (action === 'noop' && !busy) {
    // Replicated: the replica count says how many. Global: as many as the orchestrator wants running.
    const wanted = replicated ?? (await listTasks(docker, { service: [serviceId!], 'desired-state': ['running'] })).length;
    idle = isIdle(noopTasks, wanted);
  }
  if (idle) {
    const running = noopTasks.filter((t) => t.Status.State === 'running').length;
    const desiredCount = replicated ?? noopTasks.length;
    log(`${serviceName} is up to date (${chosen.ref}, ${running}/${desiredCount} running); nothing to do.`);
    const report: DeployReport = {
      service: serviceName,
      serviceId,
      action,
      image: chosen.ref,
      imageId,
      changes: [],
      replicas: { running, desired: desiredCount },
      ports: portsOf(desired, current, await urlHost(docker, engine, info.Swarm, desired, noopTasks)),
      versionIndex: current?.Version.Index,
      elapsedMs: Date.now() - started,
      deployedAt: new Date().toISOString(),
    };
    writeReport(params.workspaceRoot, params.projectRoot, report);
    return report;
  }
  if (action === 'noop') {
    log(
      busy
        ? `${serviceName} already has this spec; a rollout is in progress, following it.`
        : `${serviceName} already has this spec, but its tasks are not all running it yet (another deploy's rollout, tasks restarting, or a node that was down); following it.`,
    );
  }

  // 8. Convergence.
  const tracker = new ConvergenceTracker({
    kind: action === 'create' ? 'create' : 'update',
    serviceName,
    image: chosen.ref,
    previousImage: specImage(current?.Spec),
    desiredReplicas: desired.Mode.Replicated ? desired.Mode.Replicated.Replicas ?? 1 : undefined,
    hasHealthcheck,
    failureAction: desired.UpdateConfig?.FailureAction ?? 'pause',
    constraints: options.constraints,
    publishedPorts: (options.ports ?? []).filter((p) => p.published).map((p) => p.published!),
    deadlineMs: timeoutMs,
    settleMs: Math.min((desired.UpdateConfig?.Monitor ?? 5e9) / 1e6, timeoutMs / 2),
    priorUpdateStatus: action === 'noop' ? current?.UpdateStatus : undefined,
  });
  log(`Waiting for ${serviceName} to converge (timeout ${formatDuration(timeoutMs * 1e6)}):`);
  const t0 = Date.now();
  const pollMs = params.pollMs ?? 500;
  let svc: ServiceInspect | undefined;
  let stuckSince: number | undefined;
  let forcedRollback = false;
  const named = new Map<string, TaskLike | undefined>(); // tasks named by UpdateStatus, looked up by ID
  const view: SwarmView = { localNodeId: info.Swarm?.NodeID };
  for (;;) {
    svc = await inspectService(docker, serviceId!);
    if (!svc) throw new DeployError(`Service ${serviceName} disappeared while deploying (removed by someone else?).`);
    const [tasks, fresh] = await Promise.all([
      listTasks(docker, { service: [svc.ID] }),
      listTasks(docker, { service: [svc.ID], '_up-to-date': ['true'] }),
    ]);
    // The task the updater blames may already be gone from the list (task history limit): GET it.
    const blamed = namedTaskId(svc.UpdateStatus?.Message);
    if (blamed && !tasks.some((t) => t.ID === blamed)) {
      if (!named.has(blamed)) named.set(blamed, await inspectTask(docker, blamed));
      const t = named.get(blamed);
      if (t) tasks.push(t);
    }
    const now = Date.now() - t0;
    if (wantsNodes(svc, tasks, now >= timeoutMs)) view.nodes = (await listNodes(docker)) ?? view.nodes;
    const obs: Observation = {
      now,
      service: svc,
      tasks,
      upToDate: fresh.map((t) => t.ID),
      nodes: view.nodes,
      // Still the spec this deploy wrote (or an identical one)? Otherwise another deploy replaced it.
      specIsOurs: diffSpecs(svc.Spec, desired).length === 0,
    };
    const step = tracker.observe(obs);
    step.lines.forEach((l) => log(l));

    // swarmkit race (seen on 20.10): the restart policy's replacement task stays PENDING (never
    // scheduled, desired shutdown) while a stop-first rollback's task waits in READY for it to stop.
    // Nothing ever moves; re-issuing the rolled-back spec (ForceUpdate + 1) unblocks the slot.
    if (step.verdict.status === 'converging' && !forcedRollback) {
      if (isStuckRollback(svc, tasks)) {
        stuckSince ??= Date.now();
        if (Date.now() - stuckSince > 5000) {
          warn('Swarm\'s rollback is stuck behind a task that can never be scheduled (swarmkit race between the restart policy and a stop-first rollback); re-issuing the previous spec to unblock it.');
          const spec = { ...svc.Spec, TaskTemplate: { ...svc.Spec.TaskTemplate, ForceUpdate: (svc.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 } };
          await dial(docker, {
            path: `/services/${svc.ID}/update?`,
            method: 'POST',
            options: { _query: { version: svc.Version.Index }, _body: spec },
            statusCodes: { 200: true, 500: 'server error' },
          }).catch((e) => warn(`Could not re-issue the previous spec: ${daemonMessage(e)}`));
          forcedRollback = true;
          tracker.markRollbackForced();
        }
      } else stuckSince = undefined;
    }

    if (step.verdict.status === 'converged') {
      const report: DeployReport = {
        service: serviceName,
        serviceId,
        action,
        image: chosen.ref,
        imageId,
        changes: describeChanges(changes, networkNamesById),
        replicas: { running: step.verdict.running, desired: step.verdict.desired },
        ports: portsOf(desired, svc, await urlHost(docker, engine, info.Swarm, desired, tasks.filter((t) => step.verdict.status === 'converged' && step.verdict.taskIds.includes(t.ID)))),
        versionIndex: svc.Version.Index,
        elapsedMs: Date.now() - started,
        deployedAt: new Date().toISOString(),
      };
      writeReport(params.workspaceRoot, params.projectRoot, report);
      return report;
    }
    if (step.verdict.status === 'failed') {
      const failure = step.verdict.failure;
      if (failure.task?.NodeID && !view.nodes?.some((n) => n.ID === failure.task!.NodeID)) view.nodes = (await listNodes(docker)) ?? view.nodes;
      throw new DeployError(failure.message, await failureDetails(docker, failure, view));
    }
    await sleep(pollMs);
  }
}

/** Poll the nodes only when an explanation may need them (a placement problem, a verdict, the deadline). */
function wantsNodes(svc: ServiceLike, tasks: TaskLike[], deadline: boolean): boolean {
  if (deadline) return true;
  if (/paused|rollback/.test(svc.UpdateStatus?.State ?? '')) return true;
  return tasks.some((t) => t.DesiredState === 'running' && /not available|no suitable node/i.test(t.Status.Err ?? ''));
}

async function failureDetails(docker: Docker, failure: Failure, view: SwarmView): Promise<string[]> {
  const out: string[] = [];
  if (failure.task && failure.wantHealthLog) {
    const h = await healthLog(docker, failure.task, view);
    if (h.length) out.push('Health check of the failed container:', ...h.map((l) => `  ${l}`));
  }
  if (failure.task && (failure.wantLogs || failure.wantHealthLog)) {
    const lines = await taskLogs(docker, failure.task, 20);
    out.push(
      lines.length
        ? `Last ${lines.length} log line${lines.length > 1 ? 's' : ''} of task ${failure.task.ID.slice(0, 12)}${failure.exitCode !== undefined && !failure.wantHealthLog ? ` (exit code ${failure.exitCode})` : ''}:`
        : `Task ${failure.task.ID.slice(0, 12)} wrote no log output.`,
      ...lines.map((l) => `  | ${l}`),
    );
  }
  return out;
}

/** Adds advice to the daemon's synchronous create/update errors. */
export function explainDaemonError(msg: string): string {
  if (/port published with ingress mode can't be used with dnsrr mode/i.test(msg)) {
    return `${msg}. Publish the port with "mode": "host", or use endpointMode "vip".`;
  }
  if (/port '?\d+'? is already in use by service/i.test(msg)) return `${msg}. Remove that service or choose another published port.`;
  if (/not a swarm manager|not part of a swarm/i.test(msg)) {
    return `${msg}. Run \`docker swarm init\`, or point DOCKER_HOST at a swarm manager.`;
  }
  if (/service needs ingress network/i.test(msg)) return `${msg}. The swarm's ingress network is missing: recreate it with \`docker network create --ingress --driver overlay ingress\`, or publish with "mode": "host".`;
  return msg;
}
