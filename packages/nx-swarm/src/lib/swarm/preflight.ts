/**
 * Preflight checks before touching a service: the engine is a swarm manager, and (for a local engine)
 * the kernel can do what ingress ports and VIP endpoints need (IPVS). Pure: the caller passes the
 * engine's `Info` and file probes.
 */
import { SwarmDeployOptions } from './options';

export interface SwarmInfo {
  Swarm?: {
    LocalNodeState?: string;
    ControlAvailable?: boolean;
    NodeID?: string;
    Nodes?: number;
    Managers?: number;
    Error?: string;
    RemoteManagers?: { NodeID?: string; Addr?: string }[] | null;
  };
  Name?: string;
}

/** Why this engine can't take a service deploy, or undefined when it is a reachable swarm manager. */
export function swarmManagerProblem(info: SwarmInfo, engine: string): string | undefined {
  const s = info.Swarm ?? {};
  const state = s.LocalNodeState || 'inactive';
  if (state === 'inactive') {
    return (
      `The Docker Engine at ${engine} is not part of a swarm (Swarm: inactive), so it can't run services. ` +
      `Create a single-node swarm with \`docker swarm init --advertise-addr 127.0.0.1\` (or the node's IP), ` +
      `or point DOCKER_HOST (or \`docker context use\`) at a manager of an existing swarm.`
    );
  }
  if (state === 'pending') return `The Docker Engine at ${engine} is still joining a swarm (Swarm: pending). Try again in a moment.`;
  if (state === 'error' || state === 'locked') {
    return (
      `The swarm on ${engine} is ${state}${s.Error ? ` (${s.Error})` : ''}. ` +
      (state === 'locked' ? 'Unlock it with `docker swarm unlock`.' : 'Check `docker info` on that node.')
    );
  }
  if (!s.ControlAvailable) {
    const managers = (s.RemoteManagers ?? []).map((m) => m.Addr).filter(Boolean);
    return (
      `The Docker Engine at ${engine} is a swarm worker, not a manager: services can only be created from a manager. ` +
      `Point DOCKER_HOST at a manager${managers.length ? ` (managers: ${managers.join(', ')})` : ''}, ` +
      `or promote this node with \`docker node promote <node>\` on a manager.`
    );
  }
  return undefined;
}

/** File probes for IPVS detection (injected: tests pass fakes). */
export interface KernelProbe {
  exists(path: string): boolean;
  readText(path: string): string | undefined;
  /** `uname -r` (os.release()). */
  release: string;
}

export type IpvsSupport = 'available' | 'missing';

/**
 * Does the kernel have IPVS (needed by the routing mesh and by VIP endpoints)? Loaded (/proc/net/ip_vs,
 * /sys/module/ip_vs), built in (modules.builtin), or loadable (a module file under /lib/modules/$(uname -r)).
 */
export function detectIpvs(probe: KernelProbe): IpvsSupport {
  if (probe.exists('/proc/net/ip_vs') || probe.exists('/sys/module/ip_vs')) return 'available';
  const dir = `/lib/modules/${probe.release}`;
  const builtin = probe.readText(`${dir}/modules.builtin`);
  if (builtin && /(^|\/)ip_vs\.ko(\.\w+)?$/m.test(builtin)) return 'available';
  const deps = probe.readText(`${dir}/modules.dep`);
  if (deps && /(^|\/)ip_vs\.ko(\.\w+)?:/m.test(deps)) return 'available';
  for (const ext of ['', '.xz', '.zst', '.gz']) {
    if (probe.exists(`${dir}/kernel/net/netfilter/ipvs/ip_vs.ko${ext}`)) return 'available';
  }
  return 'missing';
}

/** Ingress ports and VIP endpoints need IPVS: explain, before deploying, why they can't work here. */
export function ipvsProblem(options: SwarmDeployOptions, support: IpvsSupport): string | undefined {
  if (support === 'available') return undefined;
  const ingress = (options.ports ?? []).filter((p) => (p.mode ?? 'ingress') === 'ingress');
  const vip = (options.endpointMode ?? 'vip') === 'vip';
  if (!ingress.length && !vip) return undefined;
  const what = [
    ingress.length ? `port${ingress.length > 1 ? 's' : ''} ${ingress.map((p) => `${p.published ?? '(auto)'}->${p.target}`).join(', ')} published in ingress mode` : '',
    vip ? `endpointMode "vip"${options.endpointMode ? '' : ' (the default)'}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return (
    `This kernel has no IPVS (no /proc/net/ip_vs, no /sys/module/ip_vs, no ip_vs module for this kernel), and the engine is local: ` +
    `${what} can't work here. Swarm's routing mesh and service virtual IPs are IPVS load balancers; without IPVS the engine only logs ` +
    `"Failed to create an ipvs handle" and the ports silently don't answer. Publish the ports with "mode": "host" ` +
    `(the node running the task binds the port itself) and use "endpointMode": "dnsrr" (service DNS returns the task IPs), e.g. ` +
    `"ports": [{ "target": 6767, "published": 6767, "mode": "host" }], "endpointMode": "dnsrr".`
  );
}
