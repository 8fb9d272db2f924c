/**
 * The convergence state machine: fed with snapshots of the service (UpdateStatus) and its tasks, it
 * reports progress (one line per change, CI friendly) and a verdict: still converging, converged, or
 * failed with an explanation in the user's terms. Pure: the deployer does the polling and the I/O
 * (logs, container health) that the verdict asks for.
 */

export interface TaskLike {
  ID: string;
  Slot?: number;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Spec?: { ContainerSpec?: { Image?: string } };
  Status: {
    State: string;
    Message?: string;
    Err?: string;
    Timestamp?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

/** A swarm node, as GET /nodes returns it (only what the explanations need). */
export interface NodeLike {
  ID: string;
  Description?: { Hostname?: string; Platform?: { Architecture?: string; OS?: string } };
  Spec?: { Availability?: string };
  Status?: { State?: string; Addr?: string };
}

export interface ServiceLike {
  ID: string;
  Version?: { Index: number };
  Spec?: { Name?: string; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
  PreviousSpec?: { TaskTemplate?: { ContainerSpec?: { Image?: string } } };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string; CompletedAt?: string };
}

export interface Observation {
  /** ms since the deploy started (injected clock). */
  now: number;
  service: ServiceLike;
  tasks: TaskLike[];
  /** IDs of the tasks whose spec matches the service's current spec (`_up-to-date` filter). */
  upToDate: string[];
  /** The swarm's nodes, when the deployer looked (to name nodes that are down). */
  nodes?: NodeLike[];
  /**
   * Is the service's current spec the one this deploy wrote (or an identical one)? Default: the
   * spec's image is this deploy's image. False outside a rollback: another deploy replaced ours.
   */
  specIsOurs?: boolean;
}

export interface ConvergenceInput {
  kind: 'create' | 'update';
  serviceName: string;
  /** The image this deploy asked for. */
  image: string;
  /** The image running before this deploy (update only). */
  previousImage?: string;
  /** Replicated: the replica count; global: undefined (every task the orchestrator wants). */
  desiredReplicas?: number;
  /** The image or the override defines a health check: "running" then also means healthy. */
  hasHealthcheck: boolean;
  /** UpdateConfig.FailureAction of the new spec. */
  failureAction: string;
  /** Placement constraints, to explain "no suitable node". */
  constraints?: string[];
  /** Fixed published ports, to explain port conflicts. */
  publishedPorts?: number[];
  /** Placement.Platforms (the image index's platforms), to name the nodes whose platform it lacks. */
  platforms?: Platform[];
  /** Give up at this time (ms since start). */
  deadlineMs: number;
  /**
   * A create has no update monitor: the new tasks must stay running this long before the deploy
   * counts as converged (catches a crash right after start). Use UpdateConfig.Monitor.
   */
  settleMs: number;
  /**
   * Following a rollout this deploy didn't start (its spec was already there): the UpdateStatus seen
   * before. A rollback_completed left over from an earlier deploy only says that the current spec's
   * rollout finished; it is not this deploy's failure.
   */
  priorUpdateStatus?: { State?: string; StartedAt?: string };
}

export type FailureKind =
  'task-failed' | 'task-rejected' | 'unhealthy' | 'update-paused' | 'rolled-back' | 'rollback-paused' | 'unschedulable' | 'superseded' | 'timeout';

export interface Failure {
  kind: FailureKind;
  /** One paragraph, in the user's terms. */
  message: string;
  /** The task that explains the failure, when there is one. */
  task?: TaskLike;
  exitCode?: number;
  /** The deployer should append the task's last log lines / the container's health-check output. */
  wantLogs?: boolean;
  wantHealthLog?: boolean;
  /** What runs now (after a rollback: the previous image). */
  runningImage?: string;
  /**
   * No node can ever run the new tasks (the index lacks every node's platform) and failureAction is
   * rollback: swarm's updater waits for a pending task forever, so the deployer puts the previous
   * spec back itself and follows that (a failed deploy either way).
   */
  wantRollback?: boolean;
  /** The explanation alone (without the headline), to reuse in a later verdict. */
  detail?: string;
}

export interface Platform {
  Architecture: string;
  OS: string;
}

export type Verdict =
  | { status: 'converging'; running: number; desired: number }
  | { status: 'converged'; running: number; desired: number; taskIds: string[] }
  | { status: 'failed'; running: number; desired: number; failure: Failure };

export interface Step {
  /** Progress lines for this observation (only what changed since the previous one). */
  lines: string[];
  verdict: Verdict;
}

const ACTIVE = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];
const FAILED = ['failed', 'rejected'];

const short = (id?: string) => (id ?? '').slice(0, 12);

/** Explains a task error message in the user's terms (pure). */
export function explainTaskError(
  task: TaskLike,
  input: Pick<ConvergenceInput, 'image' | 'constraints' | 'publishedPorts' | 'platforms'>,
  nodes?: NodeLike[],
): string {
  const err = task.Status.Err || task.Status.Message || task.Status.State;
  const image = task.Spec?.ContainerSpec?.Image ?? input.image;
  let m: RegExpExecArray | null;
  if ((m = /No such image: ?(\S+)/i.exec(err))) {
    const missing = platformMissing(task, m[1], input.platforms, nodes);
    if (missing) return missing;
    if (/^[^/]*[.:][^/]*\/.+@sha256:[0-9a-f]{64}$/.test(m[1]) || /^localhost\/.+@sha256:/.test(m[1])) {
      // A pushed image: Engine 20.10 reports any failed pull so; the registry's answer follows in the details.
      return (
        `the node could not pull ${m[1]} ("${err}"): the pull failed (credentials, a registry the node can't reach, or a manifest gone). ` +
        'A private registry needs `docker login REGISTRY` where the deploy runs (withRegistryAuth, on by default, then sends the credentials to the nodes).'
      );
    }
    return (
      `the node has no image ${m[1]} ("${err}"). A local-only image exists only on the engine that built it: ` +
      `push it to a registry (docker-image with push: true) for multi-node swarms, or run the image target against this engine first.`
    );
  }
  if (
    /pull access denied|manifest unknown|unauthorized|no basic auth credentials|denied:|not found: manifest|repository does not exist|toomanyrequests/i.test(
      err,
    )
  ) {
    return (
      `the node could not pull ${image} ("${err}"). Push the image to the registry it names; for a private registry ` +
      `\`docker login REGISTRY\` where the deploy runs (withRegistryAuth, on by default, then sends the credentials to the nodes; not with "withRegistryAuth": false).`
    );
  }
  if (/invalid (bind )?mount (config|source).*(not found|does not exist)|source path not found/i.test(err)) {
    return `a mount could not be set up ("${err}"): a bind-mount source must exist on every node that may run the task (create it, or constrain the service to nodes that have it).`;
  }
  if (isUnhealthy(task)) {
    return `the container's health check failed ("${/unhealthy container/i.test(err) ? err : task.Status.Message}"), so swarm stopped it.`;
  }
  if (/port is already allocated|address already in use/i.test(err)) {
    return (
      `a published port is held by another process on the node ("${err}"). Stop that process or container, or choose ` +
      `another published port${input.publishedPorts?.length ? ` than ${input.publishedPorts.join(', ')}` : ''}.`
    );
  }
  if ((m = /non-zero exit \((\d+)\)/.exec(err))) {
    return `the container exited with code ${m[1]} ("${err}").`;
  }
  if ((m = /no suitable node \((.*)\)/.exec(err))) return explainNoSuitableNode(m[1], input, nodes);
  return `"${err}"`;
}

/**
 * Engine 20.10 reports a pull that found no image for the node's platform in a pushed index as
 * "No such image: REF@sha256:…". Swarm placed the task there because an open-architecture entry
 * (the index's 32-bit arm, see placementPlatforms) matches any node: when the node's platform is
 * none of the index's named ones, and not arm, say so. Undefined otherwise.
 */
function platformMissing(task: TaskLike, ref: string, platforms: Platform[] | undefined, nodes?: NodeLike[]): string | undefined {
  const node = nodes?.find((n) => n.ID === task.NodeID);
  const named = (platforms ?? []).filter((p) => p.Architecture);
  if (!/@sha256:/.test(ref) || !node || !platforms?.length || named.length === platforms.length) return undefined;
  const p = nodePlatform(node);
  if (!p || p.includes('/arm/') || platformFits(named, node)) return undefined;
  return (
    `${nodeLabel(node.ID, nodes)} is ${p}, and the image index has only ${[...named.map(platformName), '32-bit arm'].join(', ')}: ` +
    `the node found no image for its platform ("${task.Status.Err || task.Status.Message}"). Build the image for ${p} too: add it to the build ` +
    "target's matrix (go-cross-build `targets`) or to docker-image's `platforms` option, then deploy again."
  );
}

/** "nxlab3 (192.168.213.13)", or the short node ID when the node is unknown. */
export function nodeLabel(nodeId: string | undefined, nodes?: NodeLike[]): string {
  const n = nodes?.find((x) => x.ID === nodeId);
  const name = n?.Description?.Hostname || short(nodeId) || 'an unknown node';
  const addr = n?.Status?.Addr && n.Status.Addr !== '0.0.0.0' ? ` (${n.Status.Addr})` : '';
  return `${name}${addr}`;
}

/** Nodes that can't take tasks: down, disconnected or unknown (drained/paused ones are the user's choice). */
export function unavailableNodes(nodes?: NodeLike[]): NodeLike[] {
  return (nodes ?? []).filter((n) => n.Status?.State && n.Status.State !== 'ready');
}

function describeNodes(nodes: NodeLike[], all?: NodeLike[]): string {
  return nodes.map((n) => `${nodeLabel(n.ID, all ?? nodes)} is ${n.Status?.State}`).join(', ');
}

/** The task named in an UpdateStatus message ("… failure or early termination of task ID"). */
export function namedTaskId(message?: string): string | undefined {
  return (message && /\btask ([a-z0-9]{10,})/i.exec(message)?.[1]) || undefined;
}

/**
 * A node's platform as an OCI platform string: engines report uname's machine ("x86_64", "aarch64",
 * "armv7l"), images and Placement.Platforms use GOARCH names. Undefined when the node doesn't say.
 */
export function nodePlatform(n: NodeLike): string | undefined {
  const p = n.Description?.Platform;
  if (!p?.Architecture && !p?.OS) return undefined;
  const arch = (p.Architecture ?? '').toLowerCase();
  const armVariant = /^armv(\d)/.exec(arch)?.[1];
  const named = ARCH_NAMES[arch] ?? (armVariant ? `arm/v${armVariant}` : arch);
  return `${(p.OS ?? 'linux').toLowerCase()}/${named}`;
}
const ARCH_NAMES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', arm64: 'arm64', i386: '386', i686: '386' };

/** "linux/amd64" for a Placement.Platforms entry ("linux" when it leaves the architecture open). */
export function platformName(p: Platform): string {
  return p.Architecture ? `${p.OS || '*'}/${ARCH_NAMES[p.Architecture] ?? p.Architecture}` : p.OS || '*';
}

/**
 * Can swarm place a task with these Placement.Platforms on the node? The scheduler's own rule
 * (swarmkit's PlatformFilter): x86_64 = amd64, aarch64 = arm64, an empty field matches anything,
 * otherwise the strings must be equal (so an "arm" entry doesn't match an "armv7l" node).
 */
export function platformFits(platforms: Platform[], n: NodeLike): boolean {
  if (!platforms.length) return true;
  const p = n.Description?.Platform;
  if (!p) return false;
  const norm = (a?: string) => (a === 'x86_64' ? 'amd64' : a === 'aarch64' ? 'arm64' : a);
  return platforms.some((x) => (!x.Architecture || norm(x.Architecture) === norm(p.Architecture)) && (!x.OS || x.OS === p.OS));
}

/** The nodes the index has no image for, grouped by their platform: "nxlab1 (…) and nxlab2 (…) are linux/amd64". */
function describeMisfits(misfits: NodeLike[], all: NodeLike[]): string {
  const byPlatform = new Map<string, string[]>();
  for (const n of misfits) {
    const p = nodePlatform(n) ?? 'of an unknown platform';
    byPlatform.set(p, [...(byPlatform.get(p) ?? []), nodeLabel(n.ID, all)]);
  }
  return [...byPlatform]
    .map(([p, names]) => `${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are` : `${names[0]} is`} ${p}`)
    .join('; ');
}

/**
 * The diagnosis of "unsupported platform on N nodes": which nodes, their platform, what the index
 * has, and the fix (pure).
 */
export function explainPlatformMismatch(platforms: Platform[] | undefined, nodes?: NodeLike[]): string {
  const known = (nodes ?? []).filter((n) => n.Description?.Platform);
  const has = platforms?.length ? platforms.map(platformName).join(', ') : undefined;
  if (!known.length) {
    return `The image${has ? ` index has only ${has}` : "'s platform"}, which the nodes don't run (\`docker node inspect --format '{{.Description.Platform}}' NODE\`): build the image for the nodes' platform.`;
  }
  const misfits = (platforms?.length ? known.filter((n) => !platformFits(platforms, n)) : known).sort((a, b) =>
    nodeLabel(a.ID, nodes).localeCompare(nodeLabel(b.ID, nodes)),
  );
  const missing = [...new Set(misfits.map(nodePlatform).filter((p): p is string => Boolean(p)))];
  const where = misfits.length === known.length ? 'so no node can run it' : 'so swarm places no task there';
  const head = has
    ? `The image index has only ${has}; ${describeMisfits(misfits, nodes!)}, ${where}.`
    : `The image's platform doesn't match the nodes (${describeMisfits(misfits, nodes!)}).`;
  const fix = missing.length
    ? `Build the image for ${missing.join(' and ')} too: add ${missing.length > 1 ? 'them' : 'it'} to the build target's matrix (go-cross-build \`targets\`) or to docker-image's \`platforms\` option, then deploy again.`
    : "Build the image for the nodes' platform.";
  return `${head} ${fix}`;
}

/** The scheduler's "no suitable node (…)" reasons, explained. */
export function explainNoSuitableNode(
  reason: string,
  input: Pick<ConvergenceInput, 'constraints' | 'publishedPorts' | 'platforms'>,
  nodes?: NodeLike[],
): string {
  const parts: string[] = [`no node can run the task (scheduler: "${reason}").`];
  const gone = unavailableNodes(nodes);
  const notAvailable = /not available/i.test(reason);
  if (notAvailable) {
    parts.push(
      gone.length
        ? `Node ${describeNodes(gone, nodes)}, so swarm can't place tasks there until it returns (\`docker node ls\`).`
        : 'Some nodes are not available for new tasks (down, drained or paused: check `docker node ls`).',
    );
  }
  if (/constraint/i.test(reason)) {
    parts.push(
      input.constraints?.length
        ? `No node satisfies the placement constraints ${input.constraints.map((c) => `"${c}"`).join(', ')}: check them against \`docker node ls\` / \`docker node inspect\` (labels are set with \`docker node update --label-add\`).`
        : 'No node satisfies the placement constraints.',
    );
  }
  if (/host-mode port already in use/i.test(reason) && notAvailable && gone.length) {
    const ports = input.publishedPorts ?? [];
    parts.push(
      `The host-mode port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} ${ports.length > 1 ? 'are' : 'is'} already bound on every other node ` +
        `(one task per node for a fixed host-mode port, usually this service's own tasks), so this task waits for ${gone.map((n) => nodeLabel(n.ID, nodes)).join(', ')}. ` +
        'Bring the node back, add a node, or run fewer replicas than nodes.',
    );
  } else if (/host-mode port already in use/i.test(reason)) {
    parts.push(
      `The host-mode port${input.publishedPorts && input.publishedPorts.length > 1 ? 's' : ''} ${input.publishedPorts?.join(', ') ?? ''} ` +
        `${input.publishedPorts && input.publishedPorts.length > 1 ? 'are' : 'is'} already bound on every eligible node (by another service's task, or an old task of this one). ` +
        'Remove the other service, choose another published port, or add nodes.',
    );
  }
  if (/insufficient resources/i.test(reason))
    parts.push('The resource reservations (resources.reservations) exceed what any node has free: lower them or add capacity.');
  if (/max replicas per node/i.test(reason)) parts.push('maxReplicasPerNode leaves no room for another task: raise it or add nodes.');
  if (/unsupported platform/i.test(reason)) parts.push(explainPlatformMismatch(input.platforms, nodes));
  return parts.join(' ');
}

function describeState(task: TaskLike, hasHealthcheck: boolean): string {
  const s = task.Status.State;
  if (s === 'starting' && hasHealthcheck) return 'starting (waiting for the health check)';
  if (FAILED.includes(s)) return `${s}: ${task.Status.Err || task.Status.Message || ''}`.trim();
  if (s === 'pending' && task.Status.Err) return `pending: ${task.Status.Err}`;
  return s;
}

/** Follows one deploy. Feed it observations in time order. */
export class ConvergenceTracker {
  private readonly seen = new Map<string, string>();
  private lastSummary = '';
  private lastUpdateState = '';
  private firstFailure?: TaskLike;
  private settledSince?: number;
  private settledKey = '';
  private rollbackForced = false;
  private awaitingRollback = false;
  private observations = 0;
  private rollbackMessage?: string;
  /** Why the deployer put the previous spec back itself (markRollbackForced), for the verdict. */
  private forcedReason?: string;
  /** Every task of this deploy's image seen so far (last state), and which of them were seen running. */
  private readonly history = new Map<string, TaskLike>();
  private readonly sawRunning = new Set<string>();
  /** When each new task was first seen running (ms, the observation clock). */
  private readonly runningSince = new Map<string, number>();

  constructor(private readonly input: ConvergenceInput) {}

  /** When (observation clock) the running new tasks will have been watched long enough, if all run. */
  private watchEnds?: number;

  /**
   * How long until an observation could turn into "converged" by time alone (the watch window of the
   * running tasks ends); undefined when only a state change can. The deployer polls again no later.
   */
  msUntilWatched(now: number): number | undefined {
    return this.watchEnds === undefined ? undefined : Math.max(0, this.watchEnds - now);
  }

  /**
   * The deployer re-issued the previous spec (to unblock a stuck rollback, or because the new tasks
   * can't be placed anywhere: `reason`): its completion is a rollback.
   */
  markRollbackForced(reason?: string): void {
    this.rollbackForced = true;
    if (reason) this.forcedReason = reason;
  }

  observe(obs: Observation): Step {
    const lines: string[] = [];
    const { input } = this;
    const firstLook = this.observations++ === 0;
    const fresh = new Set(obs.upToDate);
    const newTasks = obs.tasks.filter((t) => fresh.has(t.ID));
    const wanted = newTasks.filter((t) => t.DesiredState === 'running' || t.DesiredState === undefined);
    const running = wanted.filter((t) => t.Status.State === 'running');
    const desired = input.desiredReplicas ?? Math.max(wanted.length, 1);

    // One line per task state change.
    const sorted = [...obs.tasks].sort((a, b) => (a.CreatedAt ?? '').localeCompare(b.CreatedAt ?? ''));
    for (const t of sorted) {
      const state = describeState(t, input.hasHealthcheck);
      const key = `${t.Status.State}|${t.Status.Err ?? ''}`;
      if (this.seen.get(t.ID) === key) continue;
      const first = !this.seen.has(t.ID);
      this.seen.set(t.ID, key);
      // Don't narrate history: old tasks that were already finished when we started watching.
      if (first && firstLook && t.DesiredState === 'shutdown' && !ACTIVE.includes(t.Status.State)) continue;
      const image = t.Spec?.ContainerSpec?.Image;
      lines.push(`  ${input.serviceName}.${t.Slot ?? short(t.NodeID)} ${short(t.ID)}${image ? ` ${image}` : ''}: ${state}`);
      if (fresh.has(t.ID) && FAILED.includes(t.Status.State) && !this.firstFailure) this.firstFailure = t;
    }
    for (const t of obs.tasks) {
      if (!this.isOurs(t)) continue;
      this.history.set(t.ID, t);
      if (t.Status.State === 'running') this.sawRunning.add(t.ID);
      // A task of this deploy that ended on its own ("complete": exit 0, e.g. stopped as unhealthy and
      // exiting cleanly on SIGTERM) is as much a failure as a non-zero exit.
      if (fresh.has(t.ID) && !this.firstFailure && this.endedEarly(t)) this.firstFailure = t;
    }

    const us = obs.service.UpdateStatus;
    const usKey = us?.State ? `${us.State}|${us.Message ?? ''}` : '';
    if (usKey && usKey !== this.lastUpdateState) {
      lines.push(`  update ${us!.State}${us!.Message ? `: ${us!.Message}` : ''}`);
    }
    this.lastUpdateState = usKey;

    const summary = `  replicas ${running.length}/${desired} running`;
    if (summary !== this.lastSummary) {
      lines.push(summary);
      this.lastSummary = summary;
    }

    const base = { running: running.length, desired };
    const fail = (failure: Failure): Step => ({ lines, verdict: { status: 'failed', ...base, failure } });

    // 0. Still our spec? Another deploy may have replaced it (the last writer wins). A rollback
    // legitimately puts the previous spec back (rollback_*), as does a forced re-issue of it.
    if (us?.State === 'rollback_started' && us.Message) this.rollbackMessage = us.Message;
    const currentImage = obs.service.Spec?.TaskTemplate?.ContainerSpec?.Image;
    const ours = obs.specIsOurs ?? (currentImage === undefined || currentImage === input.image);
    if (!ours && !this.rollbackForced && !us?.State?.startsWith('rollback')) {
      const what =
        currentImage && currentImage !== input.image
          ? `${input.serviceName} now runs ${currentImage} (not ours)`
          : `${input.serviceName} now has other settings for the same image (not ours)`;
      return fail({
        kind: 'superseded',
        message:
          `Deploy of ${input.image} was superseded: another deploy replaced this one, and ${what}. ` +
          `Stopped following it: the last deploy wins and reports its own outcome (\`docker service ps ${input.serviceName}\`).`,
      });
    }

    // 1. The updater's verdicts.
    const prior = input.priorUpdateStatus;
    const leftOver = Boolean(prior?.State && us?.State === prior.State && us?.StartedAt === prior.StartedAt);
    const state =
      this.rollbackForced && us?.State === 'completed'
        ? 'rollback_completed'
        : leftOver && us?.State === 'rollback_completed'
          ? 'completed'
          : us?.State;
    const usMessage = state === 'rollback_completed' && this.rollbackForced ? this.rollbackMessage : us?.Message;
    if (state === 'rollback_completed' || state === 'rollback_paused') {
      // "rollback_completed" says swarm's updater is done, not that the previous version runs: when
      // the restart policy already replaced the failed task with one of the rolled-back spec, the
      // updater finds nothing to do and completes while that task is still starting (seen on Engine
      // 26). Those are the up-to-date tasks now: wait for them, up to the deadline.
      const back = currentImage ?? input.previousImage ?? 'the previous image';
      const backRunning = running.length >= desired && wanted.length === running.length;
      if (state === 'rollback_completed' && !backRunning && obs.now < input.deadlineMs) {
        if (!this.awaitingRollback) lines.push(`  rolled back; waiting for ${back} to run again`);
        this.awaitingRollback = true;
        return { lines, verdict: { status: 'converging', ...base } };
      }
      const cause = this.forcedReason ? undefined : this.causeTask(obs, usMessage);
      const why = this.forcedReason ? ` ${this.forcedReason}` : cause ? ` The new task failed: ${this.explainCause(cause, obs)}` : '';
      const states = this.taskStates(wanted);
      const now =
        state !== 'rollback_completed'
          ? `${input.serviceName}'s rollback paused ("${usMessage ?? ''}"): the service is half way between versions; inspect it with \`docker service ps ${input.serviceName}\`.`
          : backRunning
            ? `${input.serviceName} was rolled back: ${back} is running again.`
            : `${input.serviceName} was rolled back to ${back}, but only ${running.length}/${desired} of its tasks were running at the deadline${states ? ` (${states})` : ''}: inspect them with \`docker service ps ${input.serviceName} --no-trunc\`.`;
      return fail({
        kind: state === 'rollback_completed' ? 'rolled-back' : 'rollback-paused',
        message: `Deploy of ${input.image} failed and ${now}${why} (swarm: "${usMessage ?? state}")`,
        task: cause,
        exitCode: exitCodeOf(cause),
        wantLogs: cause ? this.wantsLogs(cause) : false,
        wantHealthLog: cause ? this.healthSuspect(cause) : false,
        runningImage: state === 'rollback_completed' ? currentImage : undefined,
      });
    }
    if (state === 'paused') {
      const cause = this.causeTask(obs, us?.Message);
      return fail({
        kind: 'update-paused',
        message:
          `The update of ${input.serviceName} to ${input.image} paused ("${us?.Message ?? ''}").` +
          (cause ? ` The new task failed: ${this.explainCause(cause, obs)}` : '') +
          ` The service is stuck between versions: fix the image and deploy again (it resumes the update), or roll back with \`docker service rollback ${input.serviceName}\`.`,
        task: cause,
        exitCode: exitCodeOf(cause),
        wantLogs: cause ? this.wantsLogs(cause) : false,
        wantHealthLog: cause ? this.healthSuspect(cause) : false,
      });
    }
    const rollingBack = state === 'rollback_started';

    // 2. A failed new task, when nothing else will turn it into a verdict (create, or failureAction continue).
    const waitForUpdater = input.kind === 'update' && input.failureAction !== 'continue' && (state === 'updating' || rollingBack || !state);
    if (this.firstFailure && !waitForUpdater) {
      const t = this.firstFailure;
      const rejected = t.Status.State === 'rejected';
      const retry =
        input.kind === 'create'
          ? ' Swarm keeps retrying; the service stays created so you can inspect it (`docker service ps ' + input.serviceName + ' --no-trunc`).'
          : '';
      return fail({
        kind: this.healthSuspect(t) ? 'unhealthy' : rejected ? 'task-rejected' : 'task-failed',
        message: `Task ${input.serviceName}.${t.Slot ?? ''} (${short(t.ID)}) of ${input.image} ${rejected ? 'was rejected' : 'failed'}: ${this.explainCause(t, obs)}${retry}`,
        task: t,
        exitCode: exitCodeOf(t),
        wantLogs: this.wantsLogs(t),
        wantHealthLog: this.healthSuspect(t),
      });
    }

    // 2b. The index lacks the platform of every node: the new tasks stay pending forever (swarm's
    // updater doesn't count that as a failure), so say so now instead of at the deadline.
    const misplaced = this.rollbackForced ? undefined : this.unplaceable(wanted, obs);
    if (misplaced) {
      const why = `${misplaced.task.Status.Err}`;
      const explained = explainNoSuitableNode(/no suitable node \((.*)\)/.exec(why)?.[1] ?? why, input, obs.nodes);
      const rollBack = input.kind === 'update' && input.failureAction === 'rollback';
      const next =
        input.kind === 'create'
          ? ` The service stays created with its tasks pending (\`docker service ps ${input.serviceName} --no-trunc\`).`
          : rollBack
            ? ''
            : ` Swarm's update waits for the pending task forever: roll back with \`docker service rollback ${input.serviceName}\`, or deploy an image built for the nodes.`;
      return fail({
        kind: 'unschedulable',
        message: `Task ${input.serviceName}.${misplaced.task.Slot ?? ''} (${short(misplaced.task.ID)}) of ${input.image} can't be placed on any node: ${explained}${next}`,
        task: misplaced.task,
        wantRollback: rollBack,
        detail: explained,
      });
    }

    // 3. Converged?
    const stale = obs.tasks.filter((t) => !fresh.has(t.ID) && t.DesiredState === 'running');
    const allRunning = running.length >= desired && wanted.length === running.length && stale.length === 0;
    for (const t of running) if (!this.runningSince.has(t.ID)) this.runningSince.set(t.ID, obs.now);
    // Swarm's updater acts on a new task's failure only within Monitor of it running; after the last
    // batch it also waits out Delay and one more Monitor before saying "completed". Once every new task
    // has been watched running for the monitor period (settleMs), no failure can turn into a rollback
    // any more: converged, without waiting for the updater's Delay after the last batch.
    const watched = running.length > 0 && running.every((t) => obs.now - this.runningSince.get(t.ID)! >= input.settleMs);
    this.watchEnds = allRunning && running.length ? Math.max(...running.map((t) => this.runningSince.get(t.ID)!)) + input.settleMs : undefined;
    // Not after a forced re-issue of the rolled-back spec: that "update" is the rollback, and its end is
    // a failed deploy (state completed → rollback_completed above), never this deploy's success.
    const monitoredOut = input.kind === 'update' && state === 'updating' && allRunning && watched && ours && !this.rollbackForced;
    const updaterDone = input.kind === 'create' ? true : state === 'completed' || (!state && allRunning) || monitoredOut;
    if (allRunning && updaterDone && !rollingBack) {
      const needSettle = input.kind === 'create' || !state;
      const key = running
        .map((t) => t.ID)
        .sort()
        .join(',');
      if (key !== this.settledKey) {
        this.settledKey = key;
        this.settledSince = obs.now;
      }
      if (needSettle) this.watchEnds = Math.max(this.watchEnds ?? 0, this.settledSince! + input.settleMs);
      if (!needSettle || obs.now - (this.settledSince ?? obs.now) >= input.settleMs) {
        return { lines, verdict: { status: 'converged', ...base, taskIds: running.map((t) => t.ID) } };
      }
    } else {
      this.settledKey = '';
      this.settledSince = undefined;
    }

    // 4. Deadline.
    if (obs.now >= input.deadlineMs) {
      const pending = wanted.find((t) => t.Status.State === 'pending' && /no suitable node/.test(t.Status.Err ?? t.Status.Message ?? ''));
      const where = this.leftAt(obs, state, Boolean(pending && /not available/i.test(pending.Status.Err ?? '')));
      if (pending) {
        return fail({
          kind: 'unschedulable',
          message: `${input.serviceName} did not converge in time: ${explainTaskError(pending, input, obs.nodes)}${where}`,
          task: pending,
        });
      }
      const starting = wanted.find((t) => t.Status.State === 'starting');
      const states = this.taskStates(wanted);
      return fail({
        kind: 'timeout',
        message:
          `${input.serviceName} did not converge before the deadline: ${running.length}/${desired} new tasks running` +
          (state ? `, update ${state}` : '') +
          (states ? ` (${states})` : '') +
          (starting && input.hasHealthcheck ? '. A task stuck in "starting" is waiting for its health check to pass.' : '') +
          (rollingBack ? '. A rollback is in progress.' : '') +
          (where ? `.${where}` : '') +
          ' Raise "timeout" if the service needs longer, or inspect it with `docker service ps ' +
          input.serviceName +
          ' --no-trunc`.',
        task: this.firstFailure,
        wantHealthLog: Boolean(starting && input.hasHealthcheck),
      });
    }
    return { lines, verdict: { status: 'converging', ...base } };
  }

  /**
   * The task that made the updater give up: the one named in the UpdateStatus message ("… failure or
   * early termination of task ID", also when it is gone from the list: the deployer looks it up), else
   * the first failed new task, else a task of this deploy's image that failed, or ended on its own
   * (Engine 20.10: a container stopped as unhealthy that exits 0 ends "complete", not "failed").
   */
  private causeTask(obs: Observation, message?: string): TaskLike | undefined {
    const id = namedTaskId(message) ?? namedTaskId(this.rollbackMessage);
    const named = id ? (obs.tasks.find((t) => t.ID === id || t.ID.startsWith(id)) ?? this.history.get(id)) : undefined;
    if (named) return named;
    if (this.firstFailure) return this.firstFailure;
    const mine = [...new Map([...this.history, ...obs.tasks.filter((t) => this.isOurs(t)).map((t) => [t.ID, t] as const)]).values()];
    return mine.find((t) => FAILED.includes(t.Status.State)) ?? mine.find((t) => this.endedEarly(t)) ?? mine.find((t) => isUnhealthy(t));
  }

  /** A new task pending for "unsupported platform" while no known node fits Placement.Platforms. */
  private unplaceable(wanted: TaskLike[], obs: Observation): { task: TaskLike } | undefined {
    const platforms = this.input.platforms;
    if (!platforms?.length || !obs.nodes?.length) return undefined;
    const task = wanted.find((t) => t.Status.State === 'pending' && /unsupported platform/i.test(t.Status.Err ?? ''));
    if (!task || obs.nodes.some((n) => platformFits(platforms, n))) return undefined;
    return { task };
  }

  /** "svc.1 running; svc.2 starting (waiting for the health check)" for messages. */
  private taskStates(tasks: TaskLike[]): string {
    return tasks.map((t) => `${this.input.serviceName}.${t.Slot ?? ''} ${describeState(t, this.input.hasHealthcheck)}`).join('; ');
  }

  private isOurs(t: TaskLike): boolean {
    return t.Spec?.ContainerSpec?.Image === this.input.image;
  }

  /** Ended without being told to (exit 0 counts: a service's task should keep running). */
  private endedEarly(t: TaskLike): boolean {
    return t.Status.State === 'complete' || (t.Status.State === 'shutdown' && isUnhealthy(t));
  }

  /** With a health check, a task that ended before it was ever seen running never passed it. */
  private healthSuspect(t: TaskLike): boolean {
    if (isUnhealthy(t)) return true;
    return this.input.hasHealthcheck && this.endedEarly(t) && !this.sawRunning.has(t.ID);
  }

  private wantsLogs(t: TaskLike): boolean {
    return this.healthSuspect(t) || isExit(t) || this.endedEarly(t);
  }

  /** explainTaskError, plus what only the history tells: a task that ended "complete". */
  private explainCause(t: TaskLike, obs: Observation): string {
    const where = t.NodeID ? ` on ${nodeLabel(t.NodeID, obs.nodes)}` : '';
    const status = `task ${short(t.ID)}${where}: ${t.Status.State} "${t.Status.Err || t.Status.Message || ''}"${t.Status.ContainerStatus?.ExitCode !== undefined ? `, exit code ${t.Status.ContainerStatus.ExitCode}` : ''}`;
    if (!isUnhealthy(t) && this.endedEarly(t)) {
      if (this.healthSuspect(t)) {
        return (
          `its health check never passed: the task stayed "starting" (waiting for the health check) until swarm stopped the unhealthy container, ` +
          `which then exited by itself (${status}). Check what the health check tests (healthcheck option or the image's HEALTHCHECK).`
        );
      }
      return `the container stopped by itself with exit code ${t.Status.ContainerStatus?.ExitCode ?? 0} while swarm watched it (${status}); a service's task must keep running.`;
    }
    return explainTaskError(t, this.input, obs.nodes);
  }

  /**
   * At the deadline: which versions run (a rollout left between versions), the nodes that are down,
   * and what swarm will do about it. Empty when there is nothing to add.
   */
  private leftAt(obs: Observation, state: string | undefined, namedAlready: boolean): string {
    const live = obs.tasks.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');
    const byImage = new Map<string, number>();
    for (const t of live) {
      const image = t.Spec?.ContainerSpec?.Image ?? '?';
      byImage.set(image, (byImage.get(image) ?? 0) + 1);
    }
    const gone = unavailableNodes(obs.nodes);
    const parts: string[] = [];
    if (byImage.size > 1) {
      const versions = [...byImage]
        .map(([image, n]) => `${n} task${n > 1 ? 's' : ''} of ${image === this.input.image ? `${image} (new)` : image}`)
        .join(', ');
      parts.push(`The rollout is left between versions: ${versions} running${state ? ` (update ${state})` : ''}.`);
    } else if (state === 'updating') {
      parts.push('The update is still in progress.');
    }
    if (gone.length) {
      const names = gone.map((n) => nodeLabel(n.ID, obs.nodes)).join(', ');
      parts.push(
        (namedAlready ? '' : `Node ${describeNodes(gone, obs.nodes)}. `) +
          `When ${names} ${gone.length > 1 ? 'are' : 'is'} back, swarm resumes the update (or rolls it back, if it counts the returning node's old task as failed); ` +
          `deploy again once \`docker node ls\` shows ${gone.length > 1 ? 'them' : 'it'} Ready and swarm has finished with the update ` +
          `(\`docker service inspect --format '{{.UpdateStatus.State}}'\` no longer says updating) to finish the rollout.`,
      );
    } else if (byImage.size > 1 || state === 'updating') {
      parts.push(
        'Swarm keeps the update going; deploy again to follow it to the end, or roll back with `docker service rollback ' +
          this.input.serviceName +
          '`.',
      );
    }
    return parts.length ? ` ${parts.join(' ')}` : '';
  }
}

function isUnhealthy(t: TaskLike): boolean {
  return /unhealthy container/i.test(`${t.Status.Err ?? ''} ${t.Status.Message ?? ''}`);
}
function isExit(t: TaskLike): boolean {
  return /non-zero exit/.test(t.Status.Err ?? '');
}
function exitCodeOf(t?: TaskLike): number | undefined {
  if (!t) return undefined;
  const m = /non-zero exit \((\d+)\)/.exec(t.Status.Err ?? '');
  return m ? Number(m[1]) : t.Status.ContainerStatus?.ExitCode || undefined;
}

/**
 * The no-op check (nothing to write): is the service idle on its current spec? `upToDateRunning` are
 * the tasks with desired state running that are up to date with the spec (one tasks call with the
 * `desired-state` and `_up-to-date` filters). Idle when all of them run and there are as many as
 * wanted. UpdateStatus alone can't tell: swarm resets it on every update, before the rollout begins.
 */
export function isIdle(upToDateRunning: TaskLike[], wanted: number): boolean {
  return upToDateRunning.every((t) => t.Status.State === 'running') && upToDateRunning.length >= wanted;
}

/**
 * A swarmkit race seen on Engine 20.10: during a stop-first rollback, the restart policy's replacement
 * task stays PENDING forever (never scheduled, desired shutdown) while the rollback's task waits in
 * READY for it to stop. Nothing moves until the spec is issued again.
 */
export function isStuckRollback(service: ServiceLike, tasks: TaskLike[]): boolean {
  if (service.UpdateStatus?.State !== 'rollback_started') return false;
  const ghost = tasks.some((t) => t.DesiredState === 'shutdown' && t.Status.State === 'pending' && !t.NodeID);
  const waiting = tasks.some((t) => t.DesiredState === 'ready' && t.Status.State === 'ready');
  return ghost && waiting;
}
