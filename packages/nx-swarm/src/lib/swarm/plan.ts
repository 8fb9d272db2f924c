/**
 * Current vs desired → what the deploy will do. Pure and table-tested: the deployer prints this plan
 * for dryRun, and applies it otherwise.
 *
 *   create    no such service
 *   update    the spec differs (or an identical spec re-issued to resume a paused update)
 *   noop      same spec, every task runs it: nothing is written
 *   follow    same spec, but a rollout (someone else's, or a restart) is still going: watch it
 *   recreate  the change needs a remove + create (mode, name): refused, with the way out
 */
import { TaskLike, isIdle } from './convergence';
import { ObjectReferenceSpec, referencedName, sameSource } from './objects';
import { RELEASES_LABEL } from './releases';
import { MANAGED_LABEL, MountSpec, ServiceSpec } from './service-spec';
import { SpecChange, describeChanges, diffSpecs, needsRecreate } from './spec-diff';
import type { ServiceInspect } from './swarm-api';

/** What the engine has now. */
export interface CurrentState {
  service?: ServiceInspect;
  /** The tasks with desired state running that are up to date with the service's spec. */
  upToDateRunning: TaskLike[];
  /** Global mode: how many tasks the orchestrator wants running (replicated: from the spec). */
  wantedTasks?: number;
  /** Tasks of the service that failed to pull the image ("No such image"), read when not all run. */
  pullFailures?: number;
}

/** What this deploy wants. */
export interface DesiredState {
  spec: ServiceSpec;
  /** Said when the plan writes: why the update order is stop-first. */
  orderNote?: string;
  /** The image was pushed (else it exists only on the engine that built it). */
  imagePushed: boolean;
  /** network ID → name, for the change lines. */
  networkNames?: Record<string, string>;
  /** The secrets' and configs' lines (objects.ts planObjects: added, content changed). */
  objectLines?: string[];
  /** This deploy sends registry credentials with its write (withRegistryAuth). */
  sendsRegistryAuth?: boolean;
}

export type PlanAction = 'create' | 'update' | 'noop' | 'follow' | 'recreate';

export interface DeployPlan {
  action: PlanAction;
  service: string;
  image: string;
  desired: ServiceSpec;
  current?: ServiceInspect;
  changes: SpecChange[];
  /** The changes, one line each, in the user's terms (env values hidden). */
  changeLines: string[];
  /** Said once, before anything is written. */
  notes: string[];
  /** Said as warnings. */
  warnings: string[];
  /** The up-to-date running tasks the plan was made from (a noop's replica count). */
  upToDateRunning: TaskLike[];
  /** What the update removes that the options don't have (added with the CLI, or dropped from the options). */
  removals: string[];
  /** The release the write records (set by the deployer on create and update). */
  release?: import('./releases').Release;
}

const envKey = (e: string) => e.split('=')[0];

/**
 * What the desired spec drops from the current one, in the user's words: secrets and configs (an
 * older version of one the options still have is a change, not a removal), mounts, labels, env
 * variables. The plugin can't tell whether the CLI added them or the options lost them, so both are
 * said. Pure.
 */
export function driftRemovals(current: ServiceSpec | undefined, desired: ServiceSpec): string[] {
  if (!current) return [];
  const out: string[] = [];
  const cc = current.TaskTemplate?.ContainerSpec ?? ({} as ServiceSpec['TaskTemplate']['ContainerSpec']);
  const dc = desired.TaskTemplate.ContainerSpec;
  for (const [kind, key] of [
    ['secret', 'Secrets'],
    ['config', 'Configs'],
  ] as const) {
    const want = (dc[key] ?? []) as ObjectReferenceSpec[];
    const wantNames = new Set(want.map(referencedName));
    for (const r of (cc[key] ?? []) as ObjectReferenceSpec[]) {
      const name = referencedName(r);
      if (wantNames.has(name) || [...wantNames].some((w) => sameSource(name, w))) continue;
      out.push(`${kind} ${name} (at ${r.File?.Name ?? '?'})`);
    }
  }
  const wantTargets = new Set(((dc.Mounts ?? []) as MountSpec[]).map((m) => m.Target));
  for (const m of (cc.Mounts ?? []) as MountSpec[])
    if (!wantTargets.has(m.Target)) out.push(`mount ${m.Source ? `${m.Source} → ` : ''}${m.Target} (${m.Type})`);
  const wantLabels = desired.Labels ?? {};
  for (const k of Object.keys(current.Labels ?? {})) if (!(k in wantLabels) && k !== RELEASES_LABEL && k !== MANAGED_LABEL) out.push(`label ${k}`);
  const wantEnv = new Set((dc.Env ?? []).map(envKey));
  for (const e of (cc.Env ?? []) as string[]) if (!wantEnv.has(envKey(e))) out.push(`env ${envKey(e)}`);
  return out;
}

/** The note said before a write that removes things the options don't have. */
export function removalNote(service: string, removals: string[]): string | undefined {
  if (!removals.length) return undefined;
  return (
    `This deploy removes from ${service} what its options don't have: ${removals.join('; ')}. ` +
    `If they were added outside nx-swarm (docker service update), add them to the deploy options to keep them.`
  );
}

const OBJECT_PATHS = ['TaskTemplate.ContainerSpec.Secrets', 'TaskTemplate.ContainerSpec.Configs'];

const BUSY = ['updating', 'rollback_started'];
const PAUSED = ['paused', 'rollback_paused'];

export function planDeploy(current: CurrentState, desired: DesiredState, nodes: number): DeployPlan {
  const spec = desired.spec;
  const name = spec.Name;
  const image = spec.TaskTemplate.ContainerSpec.Image;
  const svc = current.service;
  const warnings =
    !desired.imagePushed && nodes > 1
      ? [
          `Image ${image} was never pushed: it exists only on this engine, and tasks scheduled on the other ${nodes - 1} node(s) ` +
            `will be REJECTED with "No such image". Push it (docker-image with push: true) for multi-node swarms.`,
        ]
      : [];
  const removals = driftRemovals(svc?.Spec, spec);
  const base = { service: name, image, desired: spec, current: svc, warnings, upToDateRunning: current.upToDateRunning, removals };
  const removal = removalNote(name, removals);
  const writes = [...(desired.orderNote ? [desired.orderNote] : []), ...(removal ? [removal] : [])];
  if (!svc) return { ...base, action: 'create', changes: [], changeLines: [...(desired.objectLines ?? [])], notes: writes };

  const changes = diffSpecs(svc.Spec, spec);
  // Secrets and configs: the object lines say it in the user's words (added, content changed), the
  // removals what goes; the raw reference list only when neither explains the change (a new target or mode).
  const objectLines = desired.objectLines ?? [];
  const explained = objectLines.length > 0 || removals.some((r) => /^(secret|config) /.test(r));
  const shown = changes.filter((c) => !(explained && OBJECT_PATHS.includes(c.path)));
  const changeLines = [
    ...describeChanges(shown, desired.networkNames),
    ...objectLines,
    ...removals.filter((r) => /^(secret|config) /.test(r)).map((r) => `removes ${r}`),
  ];
  const recreate = needsRecreate(changes);
  if (recreate) {
    return {
      ...base,
      action: 'recreate',
      changes,
      changeLines,
      notes: [
        `${name} can't be updated in place: ${recreate.field} changes (${describeChanges([recreate], desired.networkNames)[0]}). ` +
          `Swarm can't change a service's mode or name; remove it first (swarm-service-rm target, or \`docker service rm ${name}\`) and deploy again.`,
      ],
    };
  }
  if (changes.length) return { ...base, action: 'update', changes, changeLines, notes: writes };

  const state = svc.UpdateStatus?.State ?? '';
  if (PAUSED.includes(state)) {
    // Same spec, but an earlier update is stuck paused: swarm resumes only on a new update.
    return {
      ...base,
      action: 'update',
      changes,
      changeLines,
      notes: [`${name}'s previous update is ${state} ("${svc.UpdateStatus?.Message ?? ''}"); re-issuing the spec to resume it.`, ...writes],
    };
  }
  if (BUSY.includes(state)) {
    return { ...base, action: 'follow', changes, changeLines, notes: [`${name} already has this spec; a rollout is in progress, following it.`] };
  }
  // Swarm resets UpdateStatus right after an update, so an idle UpdateStatus isn't enough: the
  // running tasks must be up to date with the spec, and all there.
  const wanted = spec.Mode.Replicated ? (spec.Mode.Replicated.Replicas ?? 1) : (current.wantedTasks ?? current.upToDateRunning.length);
  if (isIdle(current.upToDateRunning, wanted)) return { ...base, action: 'noop', changes, changeLines, notes: [] };
  if (desired.sendsRegistryAuth && (current.pullFailures ?? 0) > 0) {
    // The credentials go to swarm only with a write: without one its retries pull without them forever.
    const forced = { ...spec, TaskTemplate: { ...spec.TaskTemplate, ForceUpdate: (svc.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 } };
    return {
      ...base,
      desired: forced,
      action: 'update',
      changes,
      changeLines,
      notes: [
        `${name} already has this spec, but its tasks could not pull the image (${current.pullFailures} attempt${current.pullFailures === 1 ? '' : 's'}); ` +
          're-issuing it with the registry credentials this deploy sends (withRegistryAuth), so the nodes can pull.',
        ...writes,
      ],
    };
  }
  return {
    ...base,
    action: 'follow',
    changes,
    changeLines,
    notes: [
      `${name} already has this spec, but its tasks are not all running it yet (another deploy's rollout, tasks restarting, or a node that was down); following it.`,
    ],
  };
}

/** The dry-run's lines: the plan in words. */
export function describePlan(plan: DeployPlan): string[] {
  switch (plan.action) {
    case 'create':
      return [
        `Plan: create service ${plan.service} from ${plan.image}.`,
        ...plan.changeLines.map((l) => `  ${l}`),
        `  spec: ${JSON.stringify(plan.desired)}`,
      ];
    case 'update':
      return plan.changes.length
        ? [`Plan: update service ${plan.service}:`, ...plan.changeLines.map((l) => `  ${l}`)]
        : [`Plan: re-issue the spec of ${plan.service} (its previous update is ${plan.current?.UpdateStatus?.State}).`];
    case 'follow':
      return [`Plan: nothing to write; ${plan.service} has this spec and its rollout is still going (a deploy would follow it).`];
    case 'recreate':
      return [`Plan: can't deploy: ${plan.notes[0]}`];
    default:
      return [`Plan: nothing to do, ${plan.service} is up to date.`];
  }
}
