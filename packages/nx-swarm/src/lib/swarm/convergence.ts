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
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
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
  /** Give up at this time (ms since start). */
  deadlineMs: number;
  /**
   * A create has no update monitor: the new tasks must stay running this long before the deploy
   * counts as converged (catches a crash right after start). Use UpdateConfig.Monitor.
   */
  settleMs: number;
}

export type FailureKind =
  | 'task-failed'
  | 'task-rejected'
  | 'unhealthy'
  | 'update-paused'
  | 'rolled-back'
  | 'rollback-paused'
  | 'unschedulable'
  | 'timeout';

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
export function explainTaskError(task: TaskLike, input: Pick<ConvergenceInput, 'image' | 'constraints' | 'publishedPorts'>): string {
  const err = task.Status.Err || task.Status.Message || task.Status.State;
  const image = task.Spec?.ContainerSpec?.Image ?? input.image;
  let m: RegExpExecArray | null;
  if ((m = /No such image: ?(\S+)/i.exec(err))) {
    return (
      `the node has no image ${m[1]} ("${err}"). A local-only image exists only on the engine that built it: ` +
      `push it to a registry (docker-image with push: true) for multi-node swarms, or run the image target against this engine first.`
    );
  }
  if (/pull access denied|manifest unknown|unauthorized|no basic auth credentials|denied:|not found: manifest|repository does not exist|toomanyrequests/i.test(err)) {
    return (
      `the node could not pull ${image} ("${err}"). Push the image to the registry it names; for a private registry ` +
      `\`docker login\` and deploy with "withRegistryAuth": true so the nodes get the credentials.`
    );
  }
  if (/invalid (bind )?mount (config|source).*(not found|does not exist)|source path not found/i.test(err)) {
    return `a mount could not be set up ("${err}"): a bind-mount source must exist on every node that may run the task (create it, or constrain the service to nodes that have it).`;
  }
  if (/unhealthy container/i.test(err)) {
    return `the container's health check failed ("${err}"), so swarm stopped it.`;
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
  if ((m = /no suitable node \((.*)\)/.exec(err))) return explainNoSuitableNode(m[1], input);
  return `"${err}"`;
}

/** The scheduler's "no suitable node (…)" reasons, explained. */
export function explainNoSuitableNode(reason: string, input: Pick<ConvergenceInput, 'constraints' | 'publishedPorts'>): string {
  const parts: string[] = [`no node can run the task (scheduler: "${reason}").`];
  if (/constraint/i.test(reason)) {
    parts.push(
      input.constraints?.length
        ? `No node satisfies the placement constraints ${input.constraints.map((c) => `"${c}"`).join(', ')}: check them against \`docker node ls\` / \`docker node inspect\` (labels are set with \`docker node update --label-add\`).`
        : 'No node satisfies the placement constraints.',
    );
  }
  if (/host-mode port already in use/i.test(reason)) {
    parts.push(
      `The host-mode port${input.publishedPorts && input.publishedPorts.length > 1 ? 's' : ''} ${input.publishedPorts?.join(', ') ?? ''} ` +
        `${input.publishedPorts && input.publishedPorts.length > 1 ? 'are' : 'is'} already bound on every eligible node (by another service's task, or an old task of this one). ` +
        'Remove the other service, choose another published port, or add nodes.',
    );
  }
  if (/insufficient resources/i.test(reason)) parts.push('The resource reservations (resources.reservations) exceed what any node has free: lower them or add capacity.');
  if (/max replicas per node/i.test(reason)) parts.push('maxReplicasPerNode leaves no room for another task: raise it or add nodes.');
  if (/platform/i.test(reason)) parts.push("The image's platform doesn't match any node (build for the nodes' OS/architecture).");
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
  private observations = 0;
  private rollbackMessage?: string;

  constructor(private readonly input: ConvergenceInput) {}

  /** The deployer re-issued the previous spec to unblock a stuck rollback: its completion is a rollback. */
  markRollbackForced(): void {
    this.rollbackForced = true;
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

    // 1. The updater's verdicts.
    if (us?.State === 'rollback_started' && us.Message) this.rollbackMessage = us.Message;
    const state = this.rollbackForced && us?.State === 'completed' ? 'rollback_completed' : us?.State;
    const usMessage = state === 'rollback_completed' && this.rollbackForced ? this.rollbackMessage : us?.Message;
    const currentImage = obs.service.Spec?.TaskTemplate?.ContainerSpec?.Image;
    if (state === 'rollback_completed' || state === 'rollback_paused') {
      const cause = this.causeTask(obs, usMessage);
      const why = cause ? ` The new task failed: ${explainTaskError(cause, input)}` : '';
      const now =
        state === 'rollback_completed'
          ? `${input.serviceName} was rolled back: ${currentImage ?? input.previousImage ?? 'the previous image'} is running again.`
          : `${input.serviceName}'s rollback paused ("${usMessage ?? ''}"): the service is half way between versions; inspect it with \`docker service ps ${input.serviceName}\`.`;
      return fail({
        kind: state === 'rollback_completed' ? 'rolled-back' : 'rollback-paused',
        message: `Deploy of ${input.image} failed and ${now}${why} (swarm: "${usMessage ?? state}")`,
        task: cause,
        exitCode: exitCodeOf(cause),
        wantLogs: cause ? !isUnhealthy(cause) && isExit(cause) : false,
        wantHealthLog: cause ? isUnhealthy(cause) : false,
        runningImage: state === 'rollback_completed' ? currentImage : undefined,
      });
    }
    if (state === 'paused') {
      const cause = this.causeTask(obs, us?.Message);
      return fail({
        kind: 'update-paused',
        message:
          `The update of ${input.serviceName} to ${input.image} paused ("${us?.Message ?? ''}").` +
          (cause ? ` The new task failed: ${explainTaskError(cause, input)}` : '') +
          ` The service is stuck between versions: fix the image and deploy again (it resumes the update), or roll back with \`docker service rollback ${input.serviceName}\`.`,
        task: cause,
        exitCode: exitCodeOf(cause),
        wantLogs: cause ? isExit(cause) && !isUnhealthy(cause) : false,
        wantHealthLog: cause ? isUnhealthy(cause) : false,
      });
    }
    const rollingBack = state === 'rollback_started';

    // 2. A failed new task, when nothing else will turn it into a verdict (create, or failureAction continue).
    const waitForUpdater = input.kind === 'update' && input.failureAction !== 'continue' && (state === 'updating' || rollingBack || !state);
    if (this.firstFailure && !waitForUpdater) {
      const t = this.firstFailure;
      const rejected = t.Status.State === 'rejected';
      const retry = input.kind === 'create' ? ' Swarm keeps retrying; the service stays created so you can inspect it (`docker service ps ' + input.serviceName + ' --no-trunc`).' : '';
      return fail({
        kind: isUnhealthy(t) ? 'unhealthy' : rejected ? 'task-rejected' : 'task-failed',
        message: `Task ${input.serviceName}.${t.Slot ?? ''} (${short(t.ID)}) of ${input.image} ${rejected ? 'was rejected' : 'failed'}: ${explainTaskError(t, input)}${retry}`,
        task: t,
        exitCode: exitCodeOf(t),
        wantLogs: isExit(t) && !isUnhealthy(t),
        wantHealthLog: isUnhealthy(t),
      });
    }

    // 3. Converged?
    const stale = obs.tasks.filter((t) => !fresh.has(t.ID) && t.DesiredState === 'running');
    const allRunning = running.length >= desired && wanted.length === running.length && stale.length === 0;
    const updaterDone = input.kind === 'create' ? true : state === 'completed' || (!state && allRunning);
    if (allRunning && updaterDone && !rollingBack) {
      const needSettle = input.kind === 'create' || !state;
      const key = running.map((t) => t.ID).sort().join(',');
      if (key !== this.settledKey) {
        this.settledKey = key;
        this.settledSince = obs.now;
      }
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
      if (pending) {
        return fail({
          kind: 'unschedulable',
          message: `${input.serviceName} did not converge in time: ${explainTaskError(pending, input)}`,
          task: pending,
        });
      }
      const starting = wanted.find((t) => t.Status.State === 'starting');
      const states = wanted.map((t) => `${input.serviceName}.${t.Slot ?? ''} ${describeState(t, input.hasHealthcheck)}`).join('; ');
      return fail({
        kind: 'timeout',
        message:
          `${input.serviceName} did not converge before the deadline: ${running.length}/${desired} new tasks running` +
          (state ? `, update ${state}` : '') +
          (states ? ` (${states})` : '') +
          (starting && input.hasHealthcheck ? '. A task stuck in "starting" is waiting for its health check to pass.' : '') +
          (rollingBack ? '. A rollback is in progress.' : '') +
          ' Raise "timeout" if the service needs longer, or inspect it with `docker service ps ' + input.serviceName + ' --no-trunc`.',
        task: this.firstFailure,
        wantHealthLog: Boolean(starting && input.hasHealthcheck),
      });
    }
    return { lines, verdict: { status: 'converging', ...base } };
  }

  /** The task named in an UpdateStatus message ("… failure or early termination of task ID"), else the first failed new task. */
  private causeTask(obs: Observation, message?: string): TaskLike | undefined {
    const id = message && /task (\w+)/.exec(message)?.[1];
    return (id && obs.tasks.find((t) => t.ID === id)) || this.firstFailure || obs.tasks.find((t) => FAILED.includes(t.Status.State) && t.Spec?.ContainerSpec?.Image === this.input.image);
  }
}

function isUnhealthy(t: TaskLike): boolean {
  return /unhealthy container/i.test(t.Status.Err ?? '');
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
