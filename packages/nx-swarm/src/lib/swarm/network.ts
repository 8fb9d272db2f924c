/** Ensures the service's overlay networks exist (attachable, swarm scope) and maps names to IDs. */
import { daemonMessage } from '../common/http-status';
import { MANAGED_LABEL } from './service-spec';
import type { SwarmApi } from './swarm-api';

export interface EnsuredNetworks {
  /** name → ID */
  ids: Record<string, string>;
  /** Created (or, with dryRun, to be created). */
  created: string[];
}

/** Looks the networks up by exact name; creates missing ones as attachable overlays (unless dryRun). */
export async function ensureNetworks(api: SwarmApi, names: string[], dryRun = false): Promise<EnsuredNetworks> {
  const ids: Record<string, string> = {};
  const created: string[] = [];
  if (!names.length) return { ids, created };
  const list = await api.listNetworks(names);
  for (const name of names) {
    const found = list.find((n) => n.Name === name || n.Id === name);
    if (found) {
      if (found.Scope !== 'swarm') {
        throw new Error(
          `Network "${name}" exists but is a ${found.Scope}-scoped ${found.Driver} network; swarm services need an overlay ` +
            `(swarm scope) network. Use another name, or remove it and let swarm-deploy create "${name}" as an attachable overlay.`,
        );
      }
      ids[name] = found.Id;
      continue;
    }
    if (dryRun) {
      created.push(name);
      continue;
    }
    try {
      ids[name] = await api.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, Labels: { [MANAGED_LABEL]: 'nx-swarm' } });
      created.push(name);
    } catch (error) {
      // Created concurrently by another deploy: use it.
      const hit = (await api.listNetworks([name])).find((n) => n.Name === name && n.Scope === 'swarm');
      if (!hit) throw new Error(`Could not create the overlay network "${name}": ${daemonMessage(error)}`);
      ids[name] = hit.Id;
    }
  }
  return { ids, created };
}
