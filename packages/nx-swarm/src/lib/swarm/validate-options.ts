/**
 * What schema.json can't say about swarm-deploy options: the rules between options, the syntax of
 * free-form strings (constraints, env entries), and the rules that depend on the swarm (its node
 * count). Types, enums and ranges are schema.json's (Nx validates them before the executor runs).
 * Every problem at once, each in the user's terms (the option path, the value, what to do). Pure.
 */
import type { DeployOptions } from './deploy-options';
import type { SwarmDeployOptions } from './options';

/** Swarm service names are DNS labels: letters, digits and dashes, at most 63, no leading/trailing dash. */
export const SERVICE_NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** The options against each other (no engine needed). */
export function crossFieldProblems(options: SwarmDeployOptions, serviceName: string): string[] {
  const errors: string[] = [];
  if (!SERVICE_NAME_RE.test(serviceName)) {
    errors.push(
      `service "${serviceName}" is not a valid swarm service name: use letters, digits and dashes ` +
        `(at most 63, not starting or ending with a dash). Set the \`service\` option, e.g. "service": "accountservice".`,
    );
  }
  const mode = options.mode ?? 'replicated';
  if (options.replicas !== undefined && mode === 'global') {
    errors.push(`replicas (${options.replicas}) can't be combined with mode "global": a global service runs one task on every eligible node`);
  }
  if (options.maxReplicasPerNode !== undefined && mode === 'global') errors.push('maxReplicasPerNode only applies to mode "replicated"');
  if (options.networks?.includes('ingress')) {
    errors.push(
      'networks: "ingress" is the routing-mesh network; services are not attached to it directly. Use an overlay network such as "my_network"',
    );
  }

  const endpointMode = options.endpointMode ?? 'vip';
  const seen = new Set<string>();
  (options.ports ?? []).forEach((p, i) => {
    const at = `ports[${i}]`;
    const protocol = p.protocol ?? 'tcp';
    if (p.published) {
      const key = `${p.published}/${protocol}`;
      if (seen.has(key)) errors.push(`${at}: port ${key} is published twice`);
      seen.add(key);
    }
    if ((p.mode ?? 'ingress') === 'ingress' && endpointMode === 'dnsrr') {
      errors.push(
        `${at}: port ${p.published ?? '(auto)'}->${p.target} is published in ingress mode, which can't be used with endpointMode "dnsrr" ` +
          `(the routing mesh forwards to the service's virtual IP, and dnsrr has none). Publish it with "mode": "host", or use endpointMode "vip".`,
      );
    }
  });

  (options.mounts ?? []).forEach((m, i) => {
    const at = `mounts[${i}]`;
    if (typeof m.target !== 'string' || !m.target.startsWith('/')) {
      errors.push(`${at}.target must be an absolute path in the container, got ${JSON.stringify(m.target)}`);
    }
    if (m.type === 'bind' && (typeof m.source !== 'string' || !m.source.startsWith('/'))) {
      errors.push(
        `${at}: a bind mount needs an absolute host path as source (it must exist on every node that runs a task), got ${JSON.stringify(m.source)}`,
      );
    }
    if (m.type === 'tmpfs' && m.source) errors.push(`${at}: a tmpfs mount has no source`);
    if (m.type !== 'tmpfs' && (m.tmpfsSize !== undefined || m.tmpfsMode !== undefined)) {
      errors.push(`${at}: tmpfsSize/tmpfsMode only apply to type "tmpfs"`);
    }
    if (m.type !== 'volume' && (m.volumeNoCopy !== undefined || m.volumeDriver !== undefined || m.volumeLabels !== undefined)) {
      errors.push(`${at}: volumeNoCopy/volumeDriver/volumeLabels only apply to type "volume"`);
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
  const hc = options.healthcheck;
  if (hc?.disable && hc.test !== undefined) errors.push('healthcheck: use either "disable": true or "test", not both');
  if (Array.isArray(hc?.test) && hc.test.length === 0) errors.push('healthcheck.test must not be empty');
  if (options.tryPath !== undefined && !options.tryPath.startsWith('/'))
    errors.push(`tryPath must start with "/", got ${JSON.stringify(options.tryPath)}`);
  return errors;
}

/**
 * Rules that depend on the swarm: start-first needs room for the new task next to the old one; a
 * fixed host-mode port allows one task per node, so on a single node (or when every node already
 * runs one) it can never start.
 */
export function engineProblems(o: DeployOptions, nodes: number | undefined): string[] {
  const errors: string[] = [];
  const hostPorts = o.ports.filter((p) => p.mode === 'host' && p.published).map((p) => p.published!);
  if (!hostPorts.length) return errors;
  for (const [key, policy] of [
    ['updateConfig', o.update],
    ['rollbackConfig', o.rollback],
  ] as const) {
    if (policy.order !== 'start-first') continue;
    const impossible = o.mode === 'global' || (nodes !== undefined && o.replicas >= nodes);
    if (impossible) {
      errors.push(
        `${key}.order "start-first" can't work with the fixed host-mode port${hostPorts.length > 1 ? 's' : ''} ${hostPorts.join(', ')}: ` +
          `only one task per node can bind it, and ${o.mode === 'global' ? 'a global service already runs one task on every node' : `${o.replicas} replica(s) on ${nodes} node(s) leave no free node`}, ` +
          `so the new task would wait forever for the port. Use "order": "stop-first", or publish in ingress mode.`,
      );
      break; // a rollback order inherited from updateConfig says nothing new
    }
  }
  return errors;
}
