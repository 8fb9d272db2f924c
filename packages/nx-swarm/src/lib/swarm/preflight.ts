/**
 * Preflight: everything checked before a plan is made. The engine is a swarm manager, the options
 * fit this swarm, (for a local engine) the kernel can do what ingress ports and VIP endpoints need
 * (IPVS), the image exists, no other service holds the ports, the networks exist. The checks are
 * pure functions (the caller passes the engine's `Info` and file probes); `preflight()` does the I/O.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { readTextOrUndefined } from '../common/fs';
import { DeployError } from './deploy-error';
import type { DeployOptions, DeployPort } from './deploy-options';
import type { ChosenImage } from './image-ref';
import { ensureNetworks } from './network';
import type { HealthConfigSpec } from './service-spec';
import type { EngineInfo, ServiceInspect, SwarmApi } from './swarm-api';
import { engineProblems } from './validate-options';

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
export function ipvsProblem(options: { ports: DeployPort[]; endpointMode: string }, support: IpvsSupport): string | undefined {
  if (support === 'available') return undefined;
  const ingress = options.ports.filter((p) => p.mode === 'ingress');
  const vip = options.endpointMode === 'vip';
  if (!ingress.length && !vip) return undefined;
  const what = [
    ingress.length
      ? `port${ingress.length > 1 ? 's' : ''} ${ingress.map((p) => `${p.published ?? '(auto)'}->${p.target}`).join(', ')} published in ingress mode`
      : '',
    vip ? 'endpointMode "vip"' : '',
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

/* ------------------------------------------------------------------------------------------------
 * The preflight stage (I/O): everything checked before a plan is made. Nothing is written, except
 * missing overlay networks outside dryRun.
 */

export interface PreflightInput {
  options: DeployOptions;
  image: ChosenImage;
  /** For messages: where the engine is, and is it this machine? */
  engine: { describe: string; local: boolean };
  /** For messages: the receipt file (relative) and the project. */
  receiptFile: string;
  projectName: string;
  env: NodeJS.ProcessEnv;
  kernelProbe?: KernelProbe;
  log: (line: string) => void;
  warn: (line: string) => void;
}

export interface PreflightResult {
  info: EngineInfo;
  nodes: number;
  imageId?: string;
  /** The health check the tasks will run (the option's, else the image's). */
  healthcheck?: HealthConfigSpec;
  networkIds: Record<string, string>;
  /** ID → name, for the change lines. */
  networkNames: Record<string, string>;
  /** X-Registry-Auth (withRegistryAuth, outside dryRun). */
  authHeaders: Record<string, string>;
}

function kernelProbe(): KernelProbe {
  return { exists: (p) => fs.existsSync(p), readText: readTextOrUndefined, release: os.release() };
}

/** Published ports that another service already holds (swarm rejects ingress clashes, but host-mode ones just stay pending). */
export function portConflicts(ports: DeployPort[], service: string, services: ServiceInspect[]): string[] {
  const wanted = ports.filter((p) => p.published);
  const out: string[] = [];
  for (const s of services) {
    if (s.Spec.Name === service) continue;
    const theirs = [...(s.Endpoint?.Ports ?? []), ...(s.Spec.EndpointSpec?.Ports ?? [])];
    for (const p of wanted) {
      const hit = theirs.find((q) => q.PublishedPort === p.published && (q.Protocol ?? 'tcp') === p.protocol);
      if (hit && !out.some((o) => o.startsWith(`port ${p.published}/`))) {
        out.push(
          `port ${p.published}/${p.protocol} is already published by service "${s.Spec.Name}" (mode ${hit.PublishMode ?? 'ingress'}). ` +
            `Remove that service (\`docker service rm ${s.Spec.Name}\`, or its swarm-service-rm target) or choose another "published" port.`,
        );
      }
    }
  }
  return out;
}

/** X-Registry-Auth for the image's registry from the docker config; `auto`: silent when there are none. */
export async function registryAuthHeader(
  image: string,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
  auto: boolean,
): Promise<Record<string, string>> {
  const auth = require('../docker/registry-auth') as typeof import('../docker/registry-auth');
  const reference = require('../docker/reference') as typeof import('../docker/reference');
  const domain = reference.parseReference(image).domain ?? reference.DOCKER_HUB_DOMAIN;
  const resolved = await auth.resolveRegistryAuth(domain, env as never, readTextOrUndefined);
  if (!resolved.credentials) {
    if (auto) return {}; // a public image: nothing to send, nothing to say
    log(`withRegistryAuth: no credentials for ${domain} (docker login ${domain} first); nodes will pull anonymously.`);
    return {};
  }
  log(`withRegistryAuth${auto ? ' (auto)' : ''}: sending credentials for ${resolved.server} from ${resolved.source}, so every node can pull.`);
  return { 'X-Registry-Auth': auth.encodeRegistryAuth(resolved.credentials) };
}

/** The health check a task runs: the image's, with the option's fields over it (as the engine merges them). Pure. */
/**
 * The health check of an image that is not on the manager (pushed by the OCI builder, or named by
 * reference): the receipt's record of it, else the image config read from its registry, as the
 * nodes will pull it. Unknown (undefined) when the registry can't be read: the deploy goes on, the
 * diagnosis just knows less.
 */
async function remoteHealthcheck(input: PreflightInput): Promise<HealthConfigSpec | undefined> {
  if (input.image.receipt?.healthcheck) return receiptHealthcheck(input.image.receipt.healthcheck);
  if (input.image.receipt && !input.image.pushed) return undefined;
  try {
    const { RegistryClient } = require('../oci/registry') as typeof import('../oci/registry');
    const { baseLocation, fetchBaseImage } = require('../oci/build') as typeof import('../oci/build');
    const auth = require('../docker/registry-auth') as typeof import('../docker/registry-auth');
    const { parseReference } = require('../docker/reference') as typeof import('../docker/reference');
    // Only a registry the reference names (a private or local one); Docker Hub names stay unknown.
    if (!parseReference(input.image.ref).domain) return undefined;
    const { domain } = baseLocation(input.image.ref);
    const resolved = await auth.resolveRegistryAuth(domain, input.env as never, readTextOrUndefined);
    const { declaredInsecure } = require('../oci/registry') as typeof import('../oci/registry');
    const client = new RegistryClient({ domain, credentials: resolved.credentials, insecure: declaredInsecure(domain, input.env) });
    for (const architecture of ['amd64', 'arm64']) {
      try {
        return receiptHealthcheck((await fetchBaseImage(client, input.image.ref, { os: 'linux', architecture })).config.config.Healthcheck);
      } catch {
        /* not that platform; try the next */
      }
    }
  } catch {
    /* registry unreadable from here: unknown */
  }
  return undefined;
}

/** The receipt's HEALTHCHECK as the Engine reports one: none for NONE or an empty test. */
export function receiptHealthcheck(hc: { Test: string[] } | undefined): HealthConfigSpec | undefined {
  return hc?.Test?.length && hc.Test[0] !== 'NONE' ? (hc as HealthConfigSpec) : undefined;
}

export function effectiveHealthcheck(image: HealthConfigSpec | undefined, option: HealthConfigSpec | undefined): HealthConfigSpec | undefined {
  if (option?.Test?.[0] === 'NONE') return undefined;
  const merged: HealthConfigSpec = { ...(image ?? {}) };
  for (const [k, v] of Object.entries(option ?? {})) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return merged.Test?.length ? merged : undefined;
}

export async function preflight(api: SwarmApi, input: PreflightInput): Promise<PreflightResult> {
  const o = input.options;
  const info = await api.info();
  const notManager = swarmManagerProblem(info, input.engine.describe);
  if (notManager) throw new DeployError(notManager);
  const nodes = info.Swarm?.Nodes ?? 1;
  const problems = engineProblems(o, nodes);
  if (problems.length) throw new DeployError(`Invalid swarm-deploy options for ${o.service}:`, problems);
  if (input.engine.local) {
    const problem = ipvsProblem(o, detectIpvs(input.kernelProbe ?? kernelProbe()));
    if (problem) throw new DeployError(problem);
  }

  const wantsServices = o.ports.some((p) => p.published);
  const [image, services] = await Promise.all([api.inspectImage(input.image.localRefs), wantsServices ? api.listServices() : Promise.resolve([])]);
  if (!image) {
    // A receipt of a pushed image is pinned by digest: the nodes pull it (the daemonless builder
    // pushes straight to the registry, so this engine may never have had it).
    if (input.image.source === 'receipt' && !input.image.pushed) {
      throw new DeployError(
        `The image ${input.image.ref} named by ${input.receiptFile} is not on the engine at ${input.engine.describe} ` +
          `(removed, or built against another engine). Run the image target first (\`nx run ${input.projectName}:image\`).`,
      );
    }
    input.warn(`Image ${input.image.ref} is not on the engine at ${input.engine.describe}; every node will pull it from its registry.`);
  }
  const conflicts = portConflicts(o.ports, o.service, services);
  if (conflicts.length) throw new DeployError(`Can't deploy ${o.service}:`, conflicts);

  const nets = await ensureNetworks(api, o.networks, o.dryRun).catch((e: Error) => {
    throw new DeployError(e.message);
  });
  for (const n of nets.created) input.log(`${o.dryRun ? 'Would create' : 'Created'} overlay network ${n} (attachable).`);
  return {
    info,
    nodes,
    imageId: image?.Id,
    healthcheck: effectiveHealthcheck(image ? image.healthcheck : await remoteHealthcheck(input), o.healthcheck),
    networkIds: nets.ids,
    networkNames: Object.fromEntries(Object.entries(nets.ids).map(([n, id]) => [id, n])),
    authHeaders:
      o.withRegistryAuth !== false && !o.dryRun ? await registryAuthHeader(input.image.ref, input.env, input.log, o.withRegistryAuth === 'auto') : {},
  };
}
