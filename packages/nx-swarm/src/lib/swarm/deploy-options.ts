/**
 * swarm-deploy options → one parsed `DeployOptions`: defaults applied once (the values schema.json
 * declares; deploy-options.spec checks they agree), durations in nanoseconds, sizes in bytes, the
 * update order resolved once. Types, enums and ranges are schema.json's job (Nx validates before the
 * executor runs); what is checked here is what a schema can't say: the cross-field rules
 * (validate-options.ts) and values that must parse. Pure.
 */
import * as fs from 'node:fs';
import { ResolvedObject, resolveObjects } from './objects';
import { SwarmDeployOptions, UlimitOption, parseCpus, parseDuration, parseMemory } from './options';
import { HealthConfigSpec, MountSpec } from './service-spec';
import { crossFieldProblems } from './validate-options';

/** Defaults, exactly as schema.json states them (nanoseconds where schema.json says a duration). */
export const DEPLOY_DEFAULTS = {
  replicas: 1,
  mode: 'replicated' as const,
  networks: ['my_network'],
  protocol: 'tcp' as const,
  publishMode: 'ingress' as const,
  endpointMode: 'vip' as const,
  restartCondition: 'any' as const,
  restartDelayNs: 5e9,
  restartMaxAttempts: 0,
  update: { parallelism: 1, delayNs: 0, failureAction: 'rollback', monitorNs: 10e9, maxFailureRatio: 0 },
  rollback: { parallelism: 0, delayNs: 0, failureAction: 'pause', monitorNs: 5e9, maxFailureRatio: 0 },
  withRegistryAuth: 'auto' as boolean | 'auto',
  timeoutNs: 120e9,
  dryRun: false,
};

export type Order = 'start-first' | 'stop-first';

export interface UpdatePolicy {
  parallelism: number;
  delayNs: number;
  order: Order;
  failureAction: string;
  monitorNs: number;
  maxFailureRatio: number;
}

export interface DeployPort {
  target: number;
  published?: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode: 'ingress' | 'host';
}

/** The one options object the deployer works from. */
export interface DeployOptions {
  service: string;
  /** Explicit image; undefined: the image target's receipt. */
  image?: string;
  mode: 'replicated' | 'global';
  /** Replicated mode only. */
  replicas: number;
  networks: string[];
  ports: DeployPort[];
  env?: string[];
  labels: Record<string, string>;
  constraints: string[];
  placementPreferences: string[];
  maxReplicasPerNode?: number;
  resources?: {
    limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
    reservations?: { NanoCPUs?: number; MemoryBytes?: number };
  };
  restartPolicy?: { condition: string; delayNs: number; maxAttempts: number; windowNs?: number };
  /** Engine API form; { Test: ['NONE'] } when disabled. */
  healthcheck?: HealthConfigSpec;
  mounts: MountSpec[];
  update: UpdatePolicy;
  rollback: UpdatePolicy;
  /** The user set updateConfig.monitor (else the deployer may size it from the image's health check). */
  monitorSet: boolean;
  /** Said once when the plugin chose stop-first over its start-first default. */
  orderNote?: string;
  endpointMode: 'vip' | 'dnsrr';
  withRegistryAuth: boolean | 'auto';
  timeoutNs: number;
  dryRun: boolean;
  /** Path for the summary's `try curl` (default: the image's health path when known, else /). */
  tryPath?: string;
  /** Secrets and configs, content read and hashed (objects.ts). */
  secrets: ResolvedObject[];
  configs: ResolvedObject[];
  /** Hardening (ContainerSpec fields). */
  hardening: Hardening;
}

/** The `docker service create` hardening flags, in Engine API form (only what was set). */
export interface Hardening {
  User?: string;
  Groups?: string[];
  ReadOnly?: boolean;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Init?: boolean;
  StopSignal?: string;
  StopGracePeriod?: number;
  Sysctls?: Record<string, string>;
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
}

/** Options that can't be deployed as given; every problem at once. */
export class DeployOptionsError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`Invalid swarm-deploy options for ${service}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'DeployOptionsError';
  }
}

/** A fixed host-mode published port: only one task per node can hold it. */
export function fixedHostPorts(options: Pick<SwarmDeployOptions, 'ports'>): number[] {
  return (options.ports ?? []).filter((p) => p.mode === 'host' && p.published).map((p) => p.published as number);
}

/** Update order: start-first (no gap) unless a fixed host-mode port prevents it. */
export function resolveOrder(options: SwarmDeployOptions): { update: Order; rollback: Order; note?: string } {
  const hostPorts = fixedHostPorts(options);
  const fallback: Order = hostPorts.length ? 'stop-first' : 'start-first';
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

/** Collects parse errors instead of throwing at the first. */
function parser(problems: string[]) {
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      problems.push((e as Error).message);
      return undefined;
    }
  };
  return {
    ns: (v: string | number | undefined, what: string, dflt: number): number =>
      v === undefined ? dflt : (attempt(() => parseDuration(v, what)) ?? dflt),
    nsOpt: (v: string | number | undefined, what: string): number | undefined =>
      v === undefined ? undefined : attempt(() => parseDuration(v, what)),
    bytes: (v: string | number | undefined, what: string): number | undefined => (v === undefined ? undefined : attempt(() => parseMemory(v, what))),
    cpus: (v: string | number | undefined, what: string): number | undefined => (v === undefined ? undefined : attempt(() => parseCpus(v, what))),
  };
}

const compact = <T extends Record<string, unknown>>(o: T): T | undefined => {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length ? out : undefined;
};

function healthcheckSpec(hc: SwarmDeployOptions['healthcheck'], p: ReturnType<typeof parser>): HealthConfigSpec | undefined {
  if (!hc) return undefined;
  if (hc.disable) return { Test: ['NONE'] };
  const out: HealthConfigSpec = {};
  if (hc.test !== undefined) {
    out.Test =
      typeof hc.test === 'string' ? ['CMD-SHELL', hc.test] : ['CMD', 'CMD-SHELL', 'NONE'].includes(hc.test[0]) ? [...hc.test] : ['CMD', ...hc.test];
  }
  const interval = p.nsOpt(hc.interval, 'healthcheck.interval');
  const timeout = p.nsOpt(hc.timeout, 'healthcheck.timeout');
  const startPeriod = p.nsOpt(hc.startPeriod, 'healthcheck.startPeriod');
  if (interval !== undefined) out.Interval = interval;
  if (timeout !== undefined) out.Timeout = timeout;
  if (hc.retries !== undefined) out.Retries = hc.retries;
  if (startPeriod !== undefined) out.StartPeriod = startPeriod;
  return out;
}

function mountSpec(m: NonNullable<SwarmDeployOptions['mounts']>[number], p: ReturnType<typeof parser>, at: string): MountSpec {
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
    const size = p.bytes(m.tmpfsSize, `${at}.tmpfsSize`);
    out.TmpfsOptions = {
      ...(size !== undefined ? { SizeBytes: size } : {}),
      ...(m.tmpfsMode !== undefined ? { Mode: typeof m.tmpfsMode === 'number' ? m.tmpfsMode : parseInt(m.tmpfsMode, 8) } : {}),
    };
  }
  return out;
}

function updatePolicy(
  given: SwarmDeployOptions['updateConfig'] | SwarmDeployOptions['rollbackConfig'],
  dflt: typeof DEPLOY_DEFAULTS.update,
  order: Order,
  key: string,
  p: ReturnType<typeof parser>,
): UpdatePolicy {
  const g = given ?? {};
  return {
    parallelism: g.parallelism ?? dflt.parallelism,
    delayNs: p.ns(g.delay, `${key}.delay`, dflt.delayNs),
    order,
    failureAction: g.failureAction ?? dflt.failureAction,
    monitorNs: p.ns(g.monitor, `${key}.monitor`, dflt.monitorNs),
    maxFailureRatio: g.maxFailureRatio ?? dflt.maxFailureRatio,
  };
}

export interface NormalizeDeployContext {
  /** The Nx project: the default service name. */
  projectName: string;
  /** Where secrets' and configs' `file`s are read from (default the current directory). */
  workspaceRoot?: string;
  /** Where their `env` values come from (default: none set). */
  env?: NodeJS.ProcessEnv;
  /** File reader (default node:fs; undefined: missing). */
  readFile?: (absolutePath: string) => Buffer | undefined;
}

const readFileOrUndefined = (file: string): Buffer | undefined => {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
};

/** Capabilities as the engine stores them: upper case, with the CAP_ prefix. */
const capName = (c: string) => (/^CAP_/i.test(c) || c.toUpperCase() === 'ALL' ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);

function hardeningSpec(options: SwarmDeployOptions, p: ReturnType<typeof parser>, problems: string[]): Hardening {
  const h: Hardening = {};
  if (options.user) h.User = options.user;
  if (options.groups?.length) h.Groups = [...options.groups];
  if (options.readOnly) h.ReadOnly = true;
  if (options.capAdd?.length) h.CapabilityAdd = options.capAdd.map(capName);
  if (options.capDrop?.length) h.CapabilityDrop = options.capDrop.map(capName);
  if (options.init !== undefined) h.Init = options.init;
  if (options.stopSignal) h.StopSignal = options.stopSignal;
  const grace = p.nsOpt(options.stopGracePeriod, 'stopGracePeriod');
  if (grace !== undefined) h.StopGracePeriod = grace;
  if (options.sysctls && Object.keys(options.sysctls).length)
    h.Sysctls = Object.fromEntries(Object.entries(options.sysctls).map(([k, v]) => [k, String(v)]));
  if (options.ulimits && Object.keys(options.ulimits).length) {
    h.Ulimits = Object.entries(options.ulimits)
      .map(([Name, v]: [string, UlimitOption]) => (typeof v === 'number' ? { Name, Soft: v, Hard: v } : { Name, Soft: v.soft, Hard: v.hard }))
      .sort((a, b) => a.Name.localeCompare(b.Name));
    for (const u of h.Ulimits) if (u.Soft > u.Hard) problems.push(`ulimits.${u.Name}: soft limit ${u.Soft} is above the hard limit ${u.Hard}`);
  }
  return h;
}

/** Options (schema-validated by Nx) → DeployOptions. Throws DeployOptionsError with every problem. */
export function normalizeDeployOptions(options: SwarmDeployOptions, ctx: NormalizeDeployContext): DeployOptions {
  const service = options.service ?? ctx.projectName;
  const problems = crossFieldProblems(options, service);
  const p = parser(problems);
  const d = DEPLOY_DEFAULTS;
  const order = resolveOrder(options);

  const r = options.resources;
  const resources = r
    ? compact({
        limits: r.limits
          ? compact({
              NanoCPUs: p.cpus(r.limits.cpus, 'resources.limits.cpus'),
              MemoryBytes: p.bytes(r.limits.memory, 'resources.limits.memory'),
              Pids: r.limits.pids,
            })
          : undefined,
        reservations: r.reservations
          ? compact({
              NanoCPUs: p.cpus(r.reservations.cpus, 'resources.reservations.cpus'),
              MemoryBytes: p.bytes(r.reservations.memory, 'resources.reservations.memory'),
            })
          : undefined,
      })
    : undefined;
  const rp = options.restartPolicy;
  const timeoutNs = p.ns(options.timeout, 'timeout', d.timeoutNs);
  if (options.timeout !== undefined && timeoutNs === 0) problems.push('timeout must be greater than 0');

  const out: DeployOptions = {
    service,
    image: options.image || undefined,
    mode: options.mode ?? d.mode,
    replicas: options.replicas ?? d.replicas,
    networks: options.networks ?? [...d.networks],
    ports: (options.ports ?? []).map((port) => ({
      target: port.target,
      ...(port.published ? { published: port.published } : {}),
      protocol: port.protocol ?? d.protocol,
      mode: port.mode ?? d.publishMode,
    })),
    env:
      options.env === undefined
        ? undefined
        : Array.isArray(options.env)
          ? options.env.map(String)
          : Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
    labels: { ...(options.labels ?? {}) },
    constraints: (options.constraints ?? []).map((c) => c.trim()),
    placementPreferences: options.placementPreferences ?? [],
    maxReplicasPerNode: options.maxReplicasPerNode || undefined,
    resources,
    restartPolicy: rp
      ? {
          condition: rp.condition ?? d.restartCondition,
          delayNs: p.ns(rp.delay, 'restartPolicy.delay', d.restartDelayNs),
          maxAttempts: rp.maxAttempts ?? d.restartMaxAttempts,
          windowNs: p.nsOpt(rp.window, 'restartPolicy.window'),
        }
      : undefined,
    healthcheck: healthcheckSpec(options.healthcheck, p),
    mounts: (options.mounts ?? []).map((m, i) => mountSpec(m, p, `mounts[${i}]`)),
    update: updatePolicy(options.updateConfig, d.update, order.update, 'updateConfig', p),
    rollback: updatePolicy(options.rollbackConfig, d.rollback, order.rollback, 'rollbackConfig', p),
    monitorSet: options.updateConfig?.monitor !== undefined,
    orderNote: order.note,
    endpointMode: options.endpointMode ?? d.endpointMode,
    withRegistryAuth: options.withRegistryAuth ?? d.withRegistryAuth,
    timeoutNs,
    dryRun: options.dryRun ?? d.dryRun,
    tryPath: options.tryPath,
    secrets: [],
    configs: [],
    hardening: hardeningSpec(options, p, problems),
  };
  const resolveCtx = {
    service,
    projectName: ctx.projectName,
    workspaceRoot: ctx.workspaceRoot ?? process.cwd(),
    env: ctx.env ?? {},
    readFile: ctx.readFile ?? readFileOrUndefined,
  };
  for (const kind of ['secret', 'config'] as const) {
    const r = resolveObjects(kind, kind === 'secret' ? options.secrets : options.configs, resolveCtx);
    out[`${kind}s`] = r.objects;
    problems.push(...r.problems);
  }
  if (problems.length) throw new DeployOptionsError(service, problems);
  return out;
}
