/** Ensures the service's overlay networks exist (attachable, swarm scope) and maps names to IDs. */
import type Docker from 'dockerode';
import { daemonMessage } from '../docker/engine';
import { MANAGED_LABEL } from './service-spec';

export interface EnsuredNetworks {
  /** name → ID */
  ids: Record<string, string>;
  created: string[];
}

interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Attachable?: boolean;
}

/** Looks the networks up by exact name; creates missing ones as attachable overlays (unless dryRun). */
export async function ensureNetworks(docker: Docker, names: string[], dryRun = false): Promise<EnsuredNetworks> {
  const ids: Record<string, string> = {};
  const created: string[] = [];
  if (!names.length) return { ids, created };
  const list = (await docker.listNetworks({ filters: JSON.stringify({ name: names }) })) as unknown as NetworkSummary[];
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
      const net = await docker.createNetwork({
        Name: name,
        Driver: 'overlay',
        Attachable: true,
        CheckDuplicate: true,
        Labels: { [MANAGED_LABEL]: 'nx-swarm' },
      });
      ids[name] = net.id;
      created.push(name);
    } catch (error) {
      // Created concurrently by another deploy: use it.
      const again = (await docker.listNetworks({ filters: JSON.stringify({ name: [name] }) })) as unknown as NetworkSummary[];
      const hit = again.find((n) => n.Name === name && n.Scope === 'swarm');
      if (!hit) throw new Error(`Could not create the overlay network "${name}": ${daemonMessage(error)}`);
      ids[name] = hit.Id;
    }
  }
  return { ids, created };
}
