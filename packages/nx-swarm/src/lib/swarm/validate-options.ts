/**
 * Cross-option validation for swarm-deploy: every problem found at once, each message in the
 * user's terms (the option path, the value, what to do). Pure.
 */
import { Duration, SwarmDeployOptions, parseCpus, parseDuration, parseMemory } from './options';

/** Swarm service names are DNS labels: letters, digits and dashes, at most 63, no leading/trailing dash. */
export const SERVICE_NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export interface ValidationContext {
  /** Number of nodes in the swarm, when known (enables the start-first / host-port check). */
  nodes?: number;
}

export interface ValidationResult {
  errors: string[];
  warnings: string[];
}

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);
const oneOf = <T extends string>(v: unknown, values: readonly T[]): v is T => values.includes(v as T);

function checkDuration(errors: string[], value: Duration | undefined, what: string): void {
  if (value === undefined) return;
  try {
    parseDuration(value, what);
  } catch (e) {
    errors.push((e as Error).message);
  }
}

/** A fixed host-mode published port: only one task per node can hold it. */
export function fixedHostPorts(options: SwarmDeployOptions): number[] {
  return (options.ports ?? []).filter((p) => p.mode === 'host' && p.published).map((p) => p.published as number);
}

/** Validates the options against the schema's rules and against each other. */
export function validateOptions(
  options: SwarmDeployOptions,
  serviceName: string,
  ctx: ValidationContext = {},
): ValidationResult {
  const errors: string[] = [];
  const warnings: string[] = [];

  if (!SERVICE_NAME_RE.test(serviceName)) {
    errors.push(
      `service "${serviceName}" is not a valid swarm service name: use letters, digits and dashes ` +
        `(at most 63, not starting or ending with a dash). Set the \`service\` option, e.g. "service": "accountservice".`,
    );
  }

  const mode = options.mode ?? 'replicated';
  if (!oneOf(mode, ['replicated', 'global'] as const)) errors.push(`mode must be "replicated" or "global", got "${mode}"`);
  if (options.replicas !== undefined) {
    if (!isInt(options.replicas) || options.replicas < 0) {
      errors.push(`replicas must be a whole number >= 0, got ${JSON.stringify(options.replicas)}`);
    } else if (mode === 'global') {
      errors.push(`replicas (${options.replicas}) can't be combined with mode "global": a global service runs one task on every eligible node`);
    }
  }
  if (options.maxReplicasPerNode !== undefined) {
    if (!isInt(options.maxReplicasPerNode) || options.maxReplicasPerNode < 0) {
      errors.push(`maxReplicasPerNode must be a whole number >= 0, got ${JSON.stringify(options.maxReplicasPerNode)}`);
    } else if (mode === 'global') {
      errors.push('maxReplicasPerNode only applies to mode "replicated"');
    }
  }

  const endpointMode = options.endpointMode ?? 'vip';
  if (!oneOf(endpointMode, ['vip', 'dnsrr'] as const)) {
    errors.push(`endpointMode must be "vip" or "dnsrr", got "${endpointMode}"`);
  }

  if (options.networks !== undefined) {
    if (!Array.isArray(options.networks) || options.networks.some((n) => typeof n !== 'string' || !n)) {
      errors.push('networks must be a list of network names, e.g. ["my_network"]');
    } else if (options.networks.includes('ingress')) {
      errors.push('networks: "ingress" is the routing-mesh network; services are not attached to it directly. Use an overlay network such as "my_network"');
    }
  }

  const seen = new Set<string>();
  (options.ports ?? []).forEach((p, i) => {
    const at = `ports[${i}]`;
    if (!isInt(p.target) || p.target < 1 || p.target > 65535) {
      errors.push(`${at}.target must be a port between 1 and 65535, got ${JSON.stringify(p.target)}`);
    }
    if (p.published !== undefined && (!isInt(p.published) || p.published < 1 || p.published > 65535)) {
      errors.push(`${at}.published must be a port between 1 and 65535 (or omitted to let the engine pick), got ${JSON.stringify(p.published)}`);
    }
    const protocol = p.protocol ?? 'tcp';
    if (!oneOf(protocol, ['tcp', 'udp', 'sctp'] as const)) errors.push(`${at}.protocol must be tcp, udp or sctp, got "${protocol}"`);
    const pmode = p.mode ?? 'ingress';
    if (!oneOf(pmode, ['ingress', 'host'] as const)) errors.push(`${at}.mode must be "ingress" or "host", got "${pmode}"`);
    if (p.published) {
      const key = `${p.published}/${protocol}`;
      if (seen.has(key)) errors.push(`${at}: port ${key} is published twice`);
      seen.add(key);
    }
    if (pmode === 'ingress' && endpointMode === 'dnsrr') {
      errors.push(
        `${at}: port ${p.published ?? '(auto)'}->${p.target} is published in ingress mode, which can't be used with endpointMode "dnsrr" ` +
          `(the routing mesh forwards to the service's virtual IP, and dnsrr has none). Publish it with "mode": "host", or use endpointMode "vip".`,
      );
    }
  });

  (options.mounts ?? []).forEach((m, i) => {
    const at = `mounts[${i}]`;
    if (!oneOf(m.type, ['volume', 'bind', 'tmpfs'] as const)) {
      errors.push(`${at}.type must be volume, bind or tmpfs, got ${JSON.stringify(m.type)}`);
      return;
    }
    if (typeof m.target !== 'string' || !m.target.startsWith('/')) {
      errors.push(`${at}.target must be an absolute path in the container, got ${JSON.stringify(m.target)}`);
    }
    if (m.type === 'bind' && (typeof m.source !== 'string' || !m.source.startsWith('/'))) {
      errors.push(`${at}: a bind mount needs an absolute host path as source (it must exist on every node that runs a task), got ${JSON.stringify(m.source)}`);
    }
    if (m.type === 'tmpfs' && m.source) errors.push(`${at}: a tmpfs mount has no source`);
    if (m.type !== 'tmpfs' && (m.tmpfsSize !== undefined || m.tmpfsMode !== undefined)) {
      errors.push(`${at}: tmpfsSize/tmpfsMode only apply to type "tmpfs"`);
    }
    if (m.type !== 'volume' && (m.volumeNoCopy !== undefined || m.volumeDriver !== undefined || m.volumeLabels !== undefined)) {
      errors.push(`${at}: volumeNoCopy/volumeDriver/volumeLabels only apply to type "volume"`);
    }
    if (m.tmpfsSize !== undefined) {
      try {
        parseMemory(m.tmpfsSize, `${at}.tmpfsSize`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (m.tmpfsMode !== undefined && !/^[0-7]{3,4}$/.test(typeof m.tmpfsMode === 'number' ? m.tmpfsMode.toString(8) : m.tmpfsMode)) {
      errors.push(`${at}.tmpfsMode must be an octal mode such as "1777"`);
    }
  });

  if (options.env !== undefined) {
    const keys = Array.isArray(options.env) ? options.env.map((e) => String(e).split('=')[0]) : Object.keys(options.env);
    if (Array.isArray(options.env) && options.env.some((e) => !String(e).includes('='))) {
      errors.push('env entries must look like "KEY=value" (or use an object { "KEY": "value" })');
    }
    for (const k of keys) if (!/^[^=\s]+$/.test(k)) errors.push(`env: "${k}" is not a valid variable name`);
  }

  for (const c of options.constraints ?? []) {
    if (!/^\s*[\w.-]+(?:\.[\w.-]+)*\s*(==|!=)\s*\S.*$/.test(c)) {
      errors.push(`constraints: "${c}" is not a constraint; use e.g. "node.role==manager" or "node.labels.zone!=eu"`);
    }
  }
  for (const p of options.placementPreferences ?? []) {
    if (!/^spread=\S+$/.test(p)) errors.push(`placementPreferences: "${p}" is not a preference; use e.g. "spread=node.labels.zone"`);
  }

  const res = options.resources;
  for (const kind of ['limits', 'reservations'] as const) {
    const r = res?.[kind];
    if (!r) continue;
    try {
      if (r.cpus !== undefined) parseCpus(r.cpus, `resources.${kind}.cpus`);
    } catch (e) {
      errors.push((e as Error).message);
    }
    try {
      if (r.memory !== undefined) parseMemory(r.memory, `resources.${kind}.memory`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (res?.limits?.pids !== undefined && (!isInt(res.limits.pids) || res.limits.pids < 0)) {
    errors.push('resources.limits.pids must be a whole number >= 0');
  }

  const rp = options.restartPolicy;
  if (rp) {
    if (rp.condition !== undefined && !oneOf(rp.condition, ['none', 'on-failure', 'any'] as const)) {
      errors.push(`restartPolicy.condition must be none, on-failure or any, got "${rp.condition}"`);
    }
    if (rp.maxAttempts !== undefined && (!isInt(rp.maxAttempts) || rp.maxAttempts < 0)) {
      errors.push('restartPolicy.maxAttempts must be a whole number >= 0 (0: unlimited)');
    }
    checkDuration(errors, rp.delay, 'restartPolicy.delay');
    checkDuration(errors, rp.window, 'restartPolicy.window');
  }

  const hc = options.healthcheck;
  if (hc) {
    checkDuration(errors, hc.interval, 'healthcheck.interval');
    checkDuration(errors, hc.timeout, 'healthcheck.timeout');
    checkDuration(errors, hc.startPeriod, 'healthcheck.startPeriod');
    if (hc.retries !== undefined && (!isInt(hc.retries) || hc.retries < 0)) errors.push('healthcheck.retries must be a whole number >= 0');
    if (hc.disable && hc.test !== undefined) errors.push('healthcheck: use either "disable": true or "test", not both');
    if (Array.isArray(hc.test) && hc.test.length === 0) errors.push('healthcheck.test must not be empty');
  }

  for (const [key, actions] of [
    ['updateConfig', ['rollback', 'pause', 'continue']],
    ['rollbackConfig', ['pause', 'continue']],
  ] as const) {
    const uc = options[key];
    if (!uc) continue;
    if (uc.parallelism !== undefined && (!isInt(uc.parallelism) || uc.parallelism < 0)) {
      errors.push(`${key}.parallelism must be a whole number >= 0 (0: all at once)`);
    }
    if (uc.order !== undefined && !oneOf(uc.order, ['start-first', 'stop-first'] as const)) {
      errors.push(`${key}.order must be "start-first" or "stop-first", got "${uc.order}"`);
    }
    if (uc.failureAction !== undefined && !oneOf(uc.failureAction, actions as readonly string[])) {
      errors.push(`${key}.failureAction must be one of ${actions.join(', ')}, got "${uc.failureAction}"`);
    }
    if (uc.maxFailureRatio !== undefined && (typeof uc.maxFailureRatio !== 'number' || uc.maxFailureRatio < 0 || uc.maxFailureRatio > 1)) {
      errors.push(`${key}.maxFailureRatio must be between 0 and 1, got ${JSON.stringify(uc.maxFailureRatio)}`);
    }
    checkDuration(errors, uc.delay, `${key}.delay`);
    checkDuration(errors, uc.monitor, `${key}.monitor`);
  }

  checkDuration(errors, options.timeout, 'timeout');
  if (options.timeout !== undefined && parseSafe(options.timeout) === 0) errors.push('timeout must be greater than 0');

  // start-first needs room for the new task next to the old one; a fixed host-mode port allows one
  // task per node, so on a single node (or when every node already runs one) it can never start.
  const hostPorts = fixedHostPorts(options);
  if (hostPorts.length) {
    for (const key of ['updateConfig', 'rollbackConfig'] as const) {
      if (options[key]?.order !== 'start-first') continue;
      const replicas = options.replicas ?? 1;
      const impossible = mode === 'global' || (ctx.nodes !== undefined && replicas >= ctx.nodes);
      if (impossible) {
        errors.push(
          `${key}.order "start-first" can't work with the fixed host-mode port${hostPorts.length > 1 ? 's' : ''} ${hostPorts.join(', ')}: ` +
            `only one task per node can bind it, and ${mode === 'global' ? 'a global service already runs one task on every node' : `${replicas} replica(s) on ${ctx.nodes} node(s) leave no free node`}, ` +
            `so the new task would wait forever for the port. Use "order": "stop-first", or publish in ingress mode.`,
        );
      }
    }
  }
  return { errors, warnings };
}

function parseSafe(d: Duration): number | undefined {
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
}
