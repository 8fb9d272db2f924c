/**
 * Options → the desired swarm ServiceSpec (Engine API shape), with the plugin's safe defaults.
 * Pure: network names are resolved to IDs by the caller (the engine stores IDs).
 */
import {
  DEFAULT_NETWORKS,
  SwarmDeployOptions,
  parseCpus,
  parseDuration,
  parseMemory,
} from './options';
import { fixedHostPorts } from './validate-options';

/* Engine API shapes (the subset the plugin writes; the engine may return more). */
export interface UpdateConfigSpec {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: string;
}
export interface PortSpec {
  Protocol?: string;
  TargetPort: number;
  PublishedPort?: number;
  PublishMode?: string;
}
export interface MountSpec {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}
export interface HealthConfigSpec {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}
export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Env?: string[];
      Mounts?: MountSpec[];
      Healthcheck?: HealthConfigSpec;
      [k: string]: unknown;
    };
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number };
    };
    RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number };
    Placement?: {
      Constraints?: string[];
      Preferences?: { Spread: { SpreadDescriptor: string } }[];
      MaxReplicas?: number;
      [k: string]: unknown;
    };
    Networks?: { Target: string; Aliases?: string[] }[];
    ForceUpdate?: number;
    [k: string]: unknown;
  };
  Mode: { Replicated?: { Replicas?: number }; Global?: Record<string, never> };
  UpdateConfig?: UpdateConfigSpec;
  RollbackConfig?: UpdateConfigSpec;
  EndpointSpec?: { Mode?: string; Ports?: PortSpec[] };
  [k: string]: unknown;
}

/** The plugin's defaults, and why. */
export const DEFAULTS = {
  /** Catch a crash or a failing health check of the new task before moving on; 5 s (swarm's) misses
   * services that die a few seconds after start (e.g. after connection retries) and is shorter than a
   * typical health-check interval + start period. 10 s costs 10 s per batch. */
  monitorNs: 10e9,
  /** Rollback restores only the tasks that were updated: do it all at once, it's the known-good version. */
  rollbackParallelism: 0,
  rollbackMonitorNs: 5e9,
};

/** Label that marks services (and networks) managed by this plugin. */
export const MANAGED_LABEL = 'io.nx-swarm.managed-by';

export interface ResolvedOrder {
  update: 'start-first' | 'stop-first';
  rollback: 'start-first' | 'stop-first';
  /** Said once when the plugin chose stop-first over its start-first default. */
  note?: string;
}

/** Update order: start-first (no gap) unless a fixed host-mode port prevents it. */
export function resolveOrder(options: SwarmDeployOptions): ResolvedOrder {
  const hostPorts = fixedHostPorts(options);
  const fallback = hostPorts.length ? 'stop-first' : 'start-first';
  const update = options.updateConfig?.order ?? fallback;
  const rollback = options.rollbackConfig?.order ?? update;
  const note =
    hostPorts.length && !options.updateConfig?.order
      ? `Updates use order stop-first: port${hostPorts.length > 1 ? 's' : ''} ${hostPorts.join(', ')} ` +
        `${hostPorts.length > 1 ? 'are' : 'is'} published in host mode, where only one task per node can bind it, so a new task ` +
        `can't start before the old one stops (expect a short gap per node; publish in ingress mode or run more replicas than ` +
        `tasks per node to avoid it).`
      : undefined;
  return { update, rollback, note };
}

export interface BuildSpecInput {
  serviceName: string;
  image: string;
  /** network name → ID (the engine stores IDs); unknown names are used as given. */
  networkIds?: Record<string, string>;
  /** Carried over from the current service so an unchanged spec does not redeploy. */
  forceUpdate?: number;
}

function envList(env: SwarmDeployOptions['env']): string[] | undefined {
  if (env === undefined) return undefined;
  if (Array.isArray(env)) return env.map(String);
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function healthcheck(options: SwarmDeployOptions): HealthConfigSpec | undefined {
  const hc = options.healthcheck;
  if (!hc) return undefined;
  if (hc.disable) return { Test: ['NONE'] };
  const out: HealthConfigSpec = {};
  if (hc.test !== undefined) {
    out.Test = typeof hc.test === 'string'
      ? ['CMD-SHELL', hc.test]
      : ['CMD', 'CMD-SHELL', 'NONE'].includes(hc.test[0]) ? [...hc.test] : ['CMD', ...hc.test];
  }
  if (hc.interval !== undefined) out.Interval = parseDuration(hc.interval);
  if (hc.timeout !== undefined) out.Timeout = parseDuration(hc.timeout);
  if (hc.retries !== undefined) out.Retries = hc.retries;
  if (hc.startPeriod !== undefined) out.StartPeriod = parseDuration(hc.startPeriod);
  return out;
}

/** Builds the desired ServiceSpec. Assumes `validateOptions` passed. */
export function buildServiceSpec(options: SwarmDeployOptions, input: BuildSpecInput): ServiceSpec {
  const order = resolveOrder(options);
  const uc = options.updateConfig ?? {};
  const rc = options.rollbackConfig ?? {};
  const networks = options.networks ?? DEFAULT_NETWORKS;

  const containerSpec: ServiceSpec['TaskTemplate']['ContainerSpec'] = { Image: input.image };
  const env = envList(options.env);
  if (env?.length) containerSpec.Env = env;
  if (options.mounts?.length) {
    containerSpec.Mounts = options.mounts.map((m) => {
      const out: MountSpec = { Type: m.type, Target: m.target };
      if (m.source) out.Source = m.source;
      if (m.readOnly) out.ReadOnly = true;
      if (m.type === 'volume' && (m.volumeNoCopy || m.volumeLabels || m.volumeDriver)) {
        out.VolumeOptions = {
          ...(m.volumeNoCopy ? { NoCopy: true } : {}),
          ...(m.volumeLabels ? { Labels: { ...m.volumeLabels } } : {}),
          ...(m.volumeDriver ? { DriverConfig: { Name: m.volumeDriver } } : {}),
        };
      }
      if (m.type === 'tmpfs' && (m.tmpfsSize !== undefined || m.tmpfsMode !== undefined)) {
        out.TmpfsOptions = {
          ...(m.tmpfsSize !== undefined ? { SizeBytes: parseMemory(m.tmpfsSize) } : {}),
          ...(m.tmpfsMode !== undefined
            ? { Mode: typeof m.tmpfsMode === 'number' ? m.tmpfsMode : parseInt(m.tmpfsMode, 8) }
            : {}),
        };
      }
      return out;
    });
  }
  const hc = healthcheck(options);
  if (hc) containerSpec.Healthcheck = hc;

  const taskTemplate: ServiceSpec['TaskTemplate'] = { ContainerSpec: containerSpec };

  const r = options.resources;
  if (r?.limits || r?.reservations) {
    const res: NonNullable<ServiceSpec['TaskTemplate']['Resources']> = {};
    if (r.limits) {
      res.Limits = {
        ...(r.limits.cpus !== undefined ? { NanoCPUs: parseCpus(r.limits.cpus) } : {}),
        ...(r.limits.memory !== undefined ? { MemoryBytes: parseMemory(r.limits.memory) } : {}),
        ...(r.limits.pids !== undefined ? { Pids: r.limits.pids } : {}),
      };
    }
    if (r.reservations) {
      res.Reservations = {
        ...(r.reservations.cpus !== undefined ? { NanoCPUs: parseCpus(r.reservations.cpus) } : {}),
        ...(r.reservations.memory !== undefined ? { MemoryBytes: parseMemory(r.reservations.memory) } : {}),
      };
    }
    taskTemplate.Resources = res;
  }

  const rp = options.restartPolicy;
  if (rp) {
    taskTemplate.RestartPolicy = {
      Condition: rp.condition ?? 'any',
      Delay: rp.delay !== undefined ? parseDuration(rp.delay) : 5e9,
      MaxAttempts: rp.maxAttempts ?? 0,
      ...(rp.window !== undefined ? { Window: parseDuration(rp.window) } : {}),
    };
  }

  if (options.constraints?.length || options.placementPreferences?.length || options.maxReplicasPerNode) {
    taskTemplate.Placement = {
      ...(options.constraints?.length ? { Constraints: options.constraints.map((c) => c.trim()) } : {}),
      ...(options.placementPreferences?.length
        ? { Preferences: options.placementPreferences.map((p) => ({ Spread: { SpreadDescriptor: p.slice('spread='.length) } })) }
        : {}),
      ...(options.maxReplicasPerNode ? { MaxReplicas: options.maxReplicasPerNode } : {}),
    };
  }

  taskTemplate.Networks = networks.map((n) => ({ Target: input.networkIds?.[n] ?? n }));
  taskTemplate.ForceUpdate = input.forceUpdate ?? 0;

  const spec: ServiceSpec = {
    Name: input.serviceName,
    Labels: { ...(options.labels ?? {}), [MANAGED_LABEL]: 'nx-swarm' },
    TaskTemplate: taskTemplate,
    Mode: (options.mode ?? 'replicated') === 'global' ? { Global: {} } : { Replicated: { Replicas: options.replicas ?? 1 } },
    UpdateConfig: {
      Parallelism: uc.parallelism ?? 1,
      Delay: uc.delay !== undefined ? parseDuration(uc.delay) : 0,
      FailureAction: uc.failureAction ?? 'rollback',
      Monitor: uc.monitor !== undefined ? parseDuration(uc.monitor) : DEFAULTS.monitorNs,
      MaxFailureRatio: uc.maxFailureRatio ?? 0,
      Order: order.update,
    },
    RollbackConfig: {
      Parallelism: rc.parallelism ?? DEFAULTS.rollbackParallelism,
      Delay: rc.delay !== undefined ? parseDuration(rc.delay) : 0,
      FailureAction: rc.failureAction ?? 'pause',
      Monitor: rc.monitor !== undefined ? parseDuration(rc.monitor) : DEFAULTS.rollbackMonitorNs,
      MaxFailureRatio: rc.maxFailureRatio ?? 0,
      Order: order.rollback,
    },
    EndpointSpec: {
      Mode: options.endpointMode ?? 'vip',
      Ports: (options.ports ?? []).map((p) => ({
        Protocol: p.protocol ?? 'tcp',
        TargetPort: p.target,
        ...(p.published ? { PublishedPort: p.published } : {}),
        PublishMode: p.mode ?? 'ingress',
      })),
    },
  };
  return spec;
}

/** Image-level facts that matter for the summary and for convergence. */
export function specImage(spec: { TaskTemplate?: { ContainerSpec?: { Image?: string } } } | undefined): string | undefined {
  return spec?.TaskTemplate?.ContainerSpec?.Image;
}

/** The number of tasks the spec asks for, when knowable without the node list (global: undefined). */
export function desiredReplicas(spec: ServiceSpec): number | undefined {
  return spec.Mode.Global ? undefined : spec.Mode.Replicated?.Replicas ?? 1;
}
