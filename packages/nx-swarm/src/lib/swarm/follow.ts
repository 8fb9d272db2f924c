/**
 * Follows a rollout until the convergence tracker has a verdict: polls the service and its tasks,
 * looks up the task the updater blames when it is gone from the list, lists the nodes only when an
 * explanation may need them, and unblocks swarmkit's stuck stop-first rollback by re-issuing the
 * rolled-back spec. Converged: returns what the report needs; failed: throws DeployError with the
 * task's log lines and health output.
 */
import { daemonMessage } from '../common/http-status';
import { sleep as realSleep } from '../common/sleep';
import { ConvergenceInput, ConvergenceTracker, Failure, Observation, ServiceLike, TaskLike, isStuckRollback, namedTaskId } from './convergence';
import { DeployError } from './deploy-error';
import { ServiceSpec } from './service-spec';
import { diffSpecs } from './spec-diff';
import type { ServiceInspect, SwarmApi, SwarmView } from './swarm-api';

/** Three small API calls per poll: cheap for the manager, and a state change is seen within 250 ms. */
export const DEFAULT_POLL_MS = 250;

export interface FollowContext {
  serviceId: string;
  /** The spec this deploy wrote (to tell a superseding deploy from ours). */
  desired: ServiceSpec;
  tracker: ConvergenceInput;
  view: SwarmView;
  log: (line: string) => void;
  warn: (line: string) => void;
  pollMs?: number;
  /** A stuck rollback is re-issued after this long (ms). */
  stuckMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** When a task could not pull a pushed image: the registry's own answer, as a line (registry-probe.ts). */
  pullProbe?: (ref: string) => Promise<string | undefined>;
}

export interface Followed {
  service: ServiceInspect;
  running: number;
  desired: number;
  /** The converged tasks. */
  tasks: TaskLike[];
}

export async function follow(api: SwarmApi, ctx: FollowContext): Promise<Followed> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? realSleep;
  // The index's platforms (Placement.Platforms of the spec written) name the nodes it has no image for.
  const tracker = new ConvergenceTracker({ platforms: ctx.desired.TaskTemplate?.Placement?.Platforms, ...ctx.tracker });
  const t0 = now();
  let stuckSince: number | undefined;
  let forcedRollback = false;
  const named = new Map<string, TaskLike | undefined>(); // tasks named by UpdateStatus, looked up by ID
  const view = ctx.view;
  for (;;) {
    const svc = await api.inspectService(ctx.serviceId);
    if (!svc) throw new DeployError(`Service ${ctx.tracker.serviceName} disappeared while deploying (removed by someone else?).`);
    const [tasks, fresh] = await Promise.all([api.listTasks({ service: [svc.ID] }), api.listTasks({ service: [svc.ID], '_up-to-date': ['true'] })]);
    // The task the updater blames may already be gone from the list (task history limit): GET it.
    const blamed = namedTaskId(svc.UpdateStatus?.Message);
    if (blamed && !tasks.some((t) => t.ID === blamed)) {
      if (!named.has(blamed)) named.set(blamed, await api.inspectTask(blamed));
      const t = named.get(blamed);
      if (t) tasks.push(t);
    }
    const elapsed = now() - t0;
    if (wantsNodes(svc, tasks, elapsed >= ctx.tracker.deadlineMs)) view.nodes = (await api.listNodes()) ?? view.nodes;
    const obs: Observation = {
      now: elapsed,
      service: svc,
      tasks,
      upToDate: fresh.map((t) => t.ID),
      nodes: view.nodes,
      // Still the spec this deploy wrote (or an identical one)? Otherwise another deploy replaced it.
      specIsOurs: diffSpecs(svc.Spec, ctx.desired).length === 0,
    };
    const step = tracker.observe(obs);
    step.lines.forEach((l) => ctx.log(l));

    // swarmkit race (seen on 20.10): the restart policy's replacement task stays PENDING (never
    // scheduled, desired shutdown) while a stop-first rollback's task waits in READY for it to stop.
    // Nothing ever moves; re-issuing the rolled-back spec (ForceUpdate + 1) unblocks the slot.
    if (step.verdict.status === 'converging' && !forcedRollback) {
      if (isStuckRollback(svc, tasks)) {
        stuckSince ??= now();
        if (now() - stuckSince > (ctx.stuckMs ?? 5000)) {
          ctx.warn(
            "Swarm's rollback is stuck behind a task that can never be scheduled (swarmkit race between the restart policy and a stop-first rollback); re-issuing the previous spec to unblock it.",
          );
          const spec = { ...svc.Spec, TaskTemplate: { ...svc.Spec.TaskTemplate, ForceUpdate: (svc.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 } };
          await api
            .updateService(svc.ID, svc.Version.Index, spec)
            .catch((e) => ctx.warn(`Could not re-issue the previous spec: ${daemonMessage(e)}`));
          forcedRollback = true;
          tracker.markRollbackForced();
        }
      } else stuckSince = undefined;
    }

    const verdict = step.verdict;
    if (verdict.status === 'converged') {
      const extra = extraTasksNote(tasks, ctx.tracker.desiredReplicas, ctx.tracker.serviceName);
      if (extra) ctx.warn(extra);
      return { service: svc, running: verdict.running, desired: verdict.desired, tasks: tasks.filter((t) => verdict.taskIds.includes(t.ID)) };
    }
    // No node can run the new tasks (the index lacks every node's platform): swarm's updater would
    // wait for them forever. With failureAction rollback, put the previous spec back and follow that.
    if (verdict.status === 'failed' && verdict.failure.wantRollback && !forcedRollback && svc.PreviousSpec) {
      ctx.warn(
        `No node can run the new tasks of ${ctx.tracker.image} (unsupported platform): putting the previous spec back (failureAction rollback).`,
      );
      const rolledBack = await api
        .updateService(svc.ID, svc.Version.Index, svc.PreviousSpec)
        .then(() => true)
        .catch((e) => (ctx.warn(`Could not put the previous spec back: ${daemonMessage(e)}`), false));
      if (rolledBack) {
        forcedRollback = true;
        tracker.markRollbackForced(`The new tasks can't be placed on any node: ${verdict.failure.detail ?? verdict.failure.message}`);
        await sleep(Math.min(ctx.pollMs ?? DEFAULT_POLL_MS, 250));
        continue;
      }
    }
    if (verdict.status === 'failed') {
      const failure = verdict.failure;
      if (failure.task?.NodeID && !view.nodes?.some((n) => n.ID === failure.task!.NodeID)) view.nodes = (await api.listNodes()) ?? view.nodes;
      throw new DeployError(failure.message, await failureDetails(api, failure, view, ctx.pullProbe));
    }
    // Poll again after pollMs, or right when the running tasks' watch window ends if that is sooner.
    const untilWatched = tracker.msUntilWatched(now() - t0);
    await sleep(Math.max(10, Math.min(ctx.pollMs ?? DEFAULT_POLL_MS, untilWatched ?? Infinity)));
  }
}

/**
 * After a manager or engine restart swarm may run a second task for a slot for a while (both desired
 * running) until its reconciliation removes one. The deploy is done either way; say so rather than
 * let `docker service ps` surprise the user. undefined: no slot with two running tasks.
 */
export function extraTasksNote(tasks: TaskLike[], desiredReplicas: number | undefined, serviceName: string): string | undefined {
  if (desiredReplicas === undefined) return undefined; // global: one per node, no slots
  const running = tasks.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');
  if (running.length <= desiredReplicas) return undefined;
  const bySlot = new Map<number, string[]>();
  for (const t of running) if (t.Slot !== undefined) bySlot.set(t.Slot, [...(bySlot.get(t.Slot) ?? []), t.ID.slice(0, 12)]);
  const doubled = [...bySlot]
    .filter(([, ids]) => ids.length > 1)
    .sort(([a], [b]) => a - b)
    .map(([slot, ids]) => `slot ${slot}: ${ids.join(', ')}`);
  // More tasks than replicas in distinct slots is a scale-down still under way, not this.
  if (!doubled.length) return undefined;
  return (
    `Swarm runs ${running.length} tasks of ${serviceName} for ${desiredReplicas} replica${desiredReplicas === 1 ? '' : 's'} (${doubled.join('; ')})` +
    '. This happens for a while after a manager or engine restart, until swarm removes the extra ones by itself; ' +
    `check with \`docker service ps ${serviceName}\`.`
  );
}

/** Poll the nodes only when an explanation may need them (a placement problem, a verdict, the deadline). */
function wantsNodes(svc: ServiceLike, tasks: TaskLike[], deadline: boolean): boolean {
  if (deadline) return true;
  if (/paused|rollback/.test(svc.UpdateStatus?.State ?? '')) return true;
  return tasks.some((t) => t.DesiredState === 'running' && /not available|no suitable node/i.test(t.Status.Err ?? ''));
}

async function failureDetails(api: SwarmApi, failure: Failure, view: SwarmView, pullProbe?: FollowContext['pullProbe']): Promise<string[]> {
  const out: string[] = [];
  const missing = /No such image: ?(\S+@sha256:[0-9a-f]{64})/i.exec(failure.task?.Status.Err ?? '');
  if (missing && pullProbe) {
    const line = await pullProbe(missing[1]).catch(() => undefined);
    if (line) out.push(line);
  }
  if (failure.task && failure.wantHealthLog) {
    const h = await api.healthLog(failure.task, view);
    if (h.length) out.push('Health check of the failed container:', ...h.map((l) => `  ${l}`));
  }
  if (failure.task && (failure.wantLogs || failure.wantHealthLog)) {
    const lines = await api.taskLogs(failure.task, 20);
    out.push(
      lines.length
        ? `Last ${lines.length} log line${lines.length > 1 ? 's' : ''} of task ${failure.task.ID.slice(0, 12)}${failure.exitCode !== undefined && !failure.wantHealthLog ? ` (exit code ${failure.exitCode})` : ''}:`
        : `Task ${failure.task.ID.slice(0, 12)} wrote no log output.`,
      ...lines.map((l) => `  | ${l}`),
    );
  }
  return out;
}
