/**
 * The apply side of secrets and configs (objects.ts has the plan): read which of the wanted
 * objects exist, create the missing versions, and delete the versions nothing uses any more.
 * Secret content goes to `createObject` and nowhere else.
 */
import { daemonMessage, isConflict } from '../common/http-status';
import { DeployError } from './deploy-error';
import {
  OBJECT_LABELS,
  ObjectKind,
  ObjectPlan,
  ObjectReferenceSpec,
  ObjectSummary,
  ResolvedObject,
  namesInSpec,
  planObjects,
  prunable,
} from './objects';
import { RELEASES_LABEL, decodeReleases, namesInReleases } from './releases';
import type { ServiceInspect, SwarmApi } from './swarm-api';

const KINDS: ObjectKind[] = ['secret', 'config'];

/** The wanted objects that exist (one list call per kind, by name). */
async function existing(api: SwarmApi, wanted: ResolvedObject[]): Promise<ObjectSummary[]> {
  const out: ObjectSummary[] = [];
  for (const kind of KINDS) {
    const names = wanted.filter((o) => o.kind === kind).map((o) => o.name);
    if (!names.length) continue;
    const listed = await api.listObjects(kind, { name: names });
    out.push(...listed.filter((o) => names.includes(o.Spec.Name))); // the name filter matches prefixes
  }
  return out;
}

/** The objects' plan against the swarm; missing external objects fail the deploy before any write. */
export async function readObjectPlan(api: SwarmApi, wanted: ResolvedObject[], current?: ServiceInspect): Promise<ObjectPlan> {
  const cs = current?.Spec.TaskTemplate.ContainerSpec;
  const mounted = [...(cs?.Secrets ?? []), ...(cs?.Configs ?? [])] as ObjectReferenceSpec[];
  const plan = planObjects(wanted, await existing(api, wanted), mounted);
  if (plan.missing.length) {
    throw new DeployError(
      `The external ${plan.missing.map((o) => `${o.kind} ${o.name} (${o.kind}s: ${o.source})`).join(', ')} ` +
        `${plan.missing.length > 1 ? "don't" : "doesn't"} exist on the swarm.`,
      [
        `Create ${plan.missing.length > 1 ? 'them' : 'it'} first (\`docker ${plan.missing[0].kind} create NAME FILE\` on a manager), or give the content with "file" or "env" instead of "external".`,
      ],
    );
  }
  return plan;
}

/** Creates the plan's missing versions; fills in their IDs. A concurrent deploy's identical object (409) is used as is. */
export async function createObjects(api: SwarmApi, plan: ObjectPlan, log: (line: string) => void): Promise<void> {
  for (const o of plan.create) {
    try {
      plan.ids[o.name] = await api.createObject(o.kind, { Name: o.name, Labels: o.labels, data: o.data! });
      log(`Created ${o.kind} ${o.name} (${o.source}, from ${o.origin}).`);
    } catch (error) {
      if (isConflict(error)) {
        const found = (await api.listObjects(o.kind, { name: [o.name] })).find((x) => x.Spec.Name === o.name);
        if (found) {
          plan.ids[o.name] = found.ID;
          continue;
        }
      }
      throw new DeployError(`Could not create ${o.kind} ${o.name} (${o.kind}s: ${o.source}): ${daemonMessage(error)}`);
    }
  }
  plan.create = [];
}

/**
 * Deletes this service's object versions that no service uses (Spec or PreviousSpec, any service:
 * one mid-rollback still needs the old version) and no release in any service's history keeps.
 * Returns the names deleted; a version the engine refuses to delete is a warning, not a failure.
 */
export async function pruneObjects(api: SwarmApi, service: string, log: (line: string) => void, warn: (line: string) => void): Promise<string[]> {
  const ours: { kind: ObjectKind; o: ObjectSummary }[] = [];
  for (const kind of KINDS) {
    for (const o of await api.listObjects(kind, { label: [`${OBJECT_LABELS.service}=${service}`] })) ours.push({ kind, o });
  }
  if (!ours.length) return [];
  const services = await api.listServices();
  const inUse = new Set<string>(
    services.flatMap((s) => [
      ...namesInSpec(s.Spec),
      ...namesInSpec(s.PreviousSpec),
      ...namesInReleases(decodeReleases(s.Spec.Labels?.[RELEASES_LABEL]).releases),
    ]),
  );
  const deleted: string[] = [];
  for (const { kind, o } of ours) {
    if (!prunable([o], inUse).length) continue;
    try {
      await api.removeObject(kind, o.ID);
      deleted.push(`${kind} ${o.Spec.Name}`);
    } catch (error) {
      warn(`Could not delete the unused ${kind} ${o.Spec.Name}: ${daemonMessage(error)} (the next deploy tries again).`);
    }
  }
  if (deleted.length)
    log(`Deleted ${deleted.length} version${deleted.length > 1 ? 's' : ''} that no service or recorded release uses: ${deleted.join(', ')}.`);
  return deleted;
}
