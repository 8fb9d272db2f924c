/**
 * Current vs desired ServiceSpec, after normalising what the engine fills in or stores differently
 * (defaults, empty objects, "default" isolation, port protocol…). Pure.
 */
import { formatDuration } from './options';
import { RELEASES_LABEL } from './releases';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const SWARM_UPDATE_DEFAULTS = { Parallelism: 1, Delay: 0, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' };

function fillUpdateConfig(v: Json | undefined): Obj {
  if (!isObj(v)) return { ...SWARM_UPDATE_DEFAULTS };
  return {
    Parallelism: (v.Parallelism as number) ?? 0,
    Delay: (v.Delay as number) ?? 0,
    FailureAction: (v.FailureAction as string) || 'pause',
    Monitor: (v.Monitor as number) ?? 0,
    MaxFailureRatio: (v.MaxFailureRatio as number) ?? 0,
    Order: (v.Order as string) || 'stop-first',
  };
}

/** Removes undefined/null, false, "", {} and [] recursively (the engine omits or adds these freely). */
function prune(v: Json | undefined): Json | undefined {
  if (v === null || v === undefined || v === false || v === '') return undefined;
  if (Array.isArray(v)) {
    const out = v.map(prune).filter((x) => x !== undefined) as Json[];
    return out.length ? out : undefined;
  }
  if (isObj(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v).sort()) {
      const p = prune(v[k]);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

const byJson = (a: Json, b: Json) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0);

/**
 * Normalises a ServiceSpec (as sent, or as returned by `GET /services/{id}`) so equal intents compare
 * equal: engine defaults made explicit on both sides, then empties pruned, unordered lists sorted.
 */
export function normalizeSpec(input: unknown): Obj {
  const spec = JSON.parse(JSON.stringify(input ?? {})) as Obj;
  const tt = (isObj(spec.TaskTemplate) ? spec.TaskTemplate : (spec.TaskTemplate = {})) as Obj;
  // Deprecated top-level Networks (API < 1.25 clients) mean the same as TaskTemplate.Networks.
  if (Array.isArray(spec.Networks) && !tt.Networks) tt.Networks = spec.Networks;
  delete spec.Networks;

  // The release history rides along in the spec's labels; a new history alone is no change.
  if (isObj(spec.Labels)) delete spec.Labels[RELEASES_LABEL];

  const cs = (isObj(tt.ContainerSpec) ? tt.ContainerSpec : (tt.ContainerSpec = {})) as Obj;
  if (cs.Isolation === 'default') delete cs.Isolation;
  // Secrets and configs are compared by name (content-addressed) and file; IDs follow the names.
  for (const [k, name] of [
    ['Secrets', 'SecretName'],
    ['Configs', 'ConfigName'],
  ] as const) {
    if (Array.isArray(cs[k])) {
      cs[k] = (cs[k] as Obj[])
        .map((r) => {
          const c = { ...r };
          delete c.SecretID;
          delete c.ConfigID;
          return c;
        })
        .sort((a, b) => String(a[name]).localeCompare(String(b[name])));
    }
  }
  if (Array.isArray(cs.Ulimits)) cs.Ulimits = [...(cs.Ulimits as Obj[])].sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
  if (cs.StopGracePeriod === 10e9) delete cs.StopGracePeriod;
  if (tt.Runtime === 'container') delete tt.Runtime;
  if (!tt.ForceUpdate) delete tt.ForceUpdate;
  if (Array.isArray(cs.Mounts)) {
    cs.Mounts = (cs.Mounts as Obj[]).map((m) => {
      const c = { ...m };
      if (c.Consistency === 'default') delete c.Consistency;
      return c;
    });
  }

  const rp = isObj(tt.RestartPolicy) ? tt.RestartPolicy : {};
  tt.RestartPolicy = {
    Condition: (rp.Condition as string) || 'any',
    Delay: (rp.Delay as number) ?? 5e9,
    MaxAttempts: (rp.MaxAttempts as number) ?? 0,
    Window: (rp.Window as number) ?? 0,
  };
  for (const k of ['MaxAttempts', 'Window'] as const) if (!(tt.RestartPolicy as Obj)[k]) delete (tt.RestartPolicy as Obj)[k];

  if (isObj(tt.Placement)) {
    const pl = tt.Placement;
    if (!pl.MaxReplicas) delete pl.MaxReplicas;
    if (Array.isArray(pl.Constraints)) pl.Constraints = (pl.Constraints as string[]).map((c) => c.replace(/\s+/g, '')).sort();
  }
  if (isObj(tt.Resources)) {
    for (const k of ['Limits', 'Reservations']) {
      const r = tt.Resources[k];
      if (isObj(r)) for (const f of Object.keys(r)) if (r[f] === 0) delete r[f];
    }
  }
  if (Array.isArray(tt.Networks)) {
    tt.Networks = (tt.Networks as Obj[])
      .map((n) => ({ ...n, ...(Array.isArray(n.Aliases) ? { Aliases: [...(n.Aliases as string[])].sort() } : {}) }))
      .sort(byJson);
  }

  const mode: Obj = isObj(spec.Mode) ? spec.Mode : { Replicated: {} };
  if (isObj(mode.Replicated)) mode.Replicated = { Replicas: (mode.Replicated.Replicas as number) ?? 1 };
  // Replicas: 0 is meaningful; protect it from pruning.
  if (isObj(mode.Replicated)) mode.Replicated = { Replicas: String(mode.Replicated.Replicas) };
  if (isObj(mode.Global)) mode.Global = { global: true };
  spec.Mode = mode;

  spec.UpdateConfig = fillUpdateConfig(spec.UpdateConfig);
  spec.RollbackConfig = fillUpdateConfig(spec.RollbackConfig);
  for (const k of ['UpdateConfig', 'RollbackConfig']) {
    // Parallelism 0 means "all at once": keep it distinguishable from absent.
    (spec[k] as Obj).Parallelism = String((spec[k] as Obj).Parallelism);
  }

  const ep = isObj(spec.EndpointSpec) ? spec.EndpointSpec : {};
  spec.EndpointSpec = {
    Mode: (ep.Mode as string) || 'vip',
    Ports: ((Array.isArray(ep.Ports) ? ep.Ports : []) as Obj[])
      .map((p) => ({
        Protocol: (p.Protocol as string) || 'tcp',
        TargetPort: p.TargetPort,
        PublishedPort: (p.PublishedPort as number) || 0,
        PublishMode: (p.PublishMode as string) || 'ingress',
      }))
      .sort(byJson),
  };

  return (prune(spec) as Obj) ?? {};
}

export interface SpecChange {
  /** The option name users know (image, replicas, env…), or the raw spec path for fields the plugin doesn't manage. */
  field: string;
  /** Dotted path in the ServiceSpec. */
  path: string;
  from: unknown;
  to: unknown;
}

const FIELD_NAMES: [string, string][] = [
  ['Name', 'service'],
  ['Labels', 'labels'],
  ['TaskTemplate.ContainerSpec.Image', 'image'],
  ['TaskTemplate.ContainerSpec.Env', 'env'],
  ['TaskTemplate.ContainerSpec.Mounts', 'mounts'],
  ['TaskTemplate.ContainerSpec.Healthcheck', 'healthcheck'],
  ['TaskTemplate.ContainerSpec.Secrets', 'secrets'],
  ['TaskTemplate.ContainerSpec.Configs', 'configs'],
  ['TaskTemplate.ContainerSpec.User', 'user'],
  ['TaskTemplate.ContainerSpec.Groups', 'groups'],
  ['TaskTemplate.ContainerSpec.ReadOnly', 'readOnly'],
  ['TaskTemplate.ContainerSpec.CapabilityAdd', 'capAdd'],
  ['TaskTemplate.ContainerSpec.CapabilityDrop', 'capDrop'],
  ['TaskTemplate.ContainerSpec.Init', 'init'],
  ['TaskTemplate.ContainerSpec.StopSignal', 'stopSignal'],
  ['TaskTemplate.ContainerSpec.StopGracePeriod', 'stopGracePeriod'],
  ['TaskTemplate.ContainerSpec.Sysctls', 'sysctls'],
  ['TaskTemplate.ContainerSpec.Ulimits', 'ulimits'],
  ['TaskTemplate.Resources', 'resources'],
  ['TaskTemplate.RestartPolicy', 'restartPolicy'],
  ['TaskTemplate.Placement.Constraints', 'constraints'],
  ['TaskTemplate.Placement.Preferences', 'placementPreferences'],
  ['TaskTemplate.Placement.MaxReplicas', 'maxReplicasPerNode'],
  ['TaskTemplate.Networks', 'networks'],
  ['TaskTemplate.ForceUpdate', 'forceUpdate'],
  ['Mode.Replicated.Replicas', 'replicas'],
  ['Mode', 'mode'],
  ['UpdateConfig', 'updateConfig'],
  ['RollbackConfig', 'rollbackConfig'],
  ['EndpointSpec.Mode', 'endpointMode'],
  ['EndpointSpec.Ports', 'ports'],
];

function fieldName(path: string): string {
  for (const [prefix, name] of FIELD_NAMES) {
    if (path === prefix) return name;
    if (path.startsWith(prefix + '.')) return `${name}${path.slice(prefix.length)}`;
  }
  return path;
}

function walk(a: Json | undefined, b: Json | undefined, path: string, out: SpecChange[]): void {
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      walk(a[k], b[k], path ? `${path}.${k}` : k, out);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field: fieldName(path), path, from: a, to: b });
}

/** The fields that differ between the current and the desired spec (empty: nothing to do). */
export function diffSpecs(current: unknown, desired: unknown): SpecChange[] {
  const out: SpecChange[] = [];
  walk(normalizeSpec(current), normalizeSpec(desired), '', out);
  // Undo the normalisation's string protection of numbers for display.
  return out.map((c) => ({ ...c, from: unprotect(c.path, c.from), to: unprotect(c.path, c.to) }));
}

function unprotect(path: string, v: unknown): unknown {
  if (/(Replicas|Parallelism)$/.test(path) && typeof v === 'string') return Number(v);
  return v;
}

/** A change is only possible by removing and re-creating the service (mode or name). */
export function needsRecreate(changes: SpecChange[]): SpecChange | undefined {
  return changes.find((c) => c.path === 'Name' || (c.path.startsWith('Mode') && c.path !== 'Mode.Replicated.Replicas'));
}

const DURATION_KEYS = /(Delay|Monitor|Interval|Timeout|StartPeriod|Window|StopGracePeriod)$/;

function show(path: string, v: unknown, names: Record<string, string>): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'number' && DURATION_KEYS.test(path)) return formatDuration(v);
  if (path === 'TaskTemplate.Networks' && Array.isArray(v)) {
    return (v as { Target: string }[]).map((n) => names[n.Target] ?? n.Target).join(', ');
  }
  if (path === 'EndpointSpec.Ports' && Array.isArray(v)) {
    return (v as { PublishedPort?: number; TargetPort: number; Protocol?: string; PublishMode?: string }[])
      .map((p) => `${p.PublishedPort || '(auto)'}:${p.TargetPort}/${p.Protocol ?? 'tcp'} ${p.PublishMode ?? 'ingress'}`)
      .join(', ');
  }
  if (/ContainerSpec\.(Secrets|Configs)$/.test(path) && Array.isArray(v)) {
    return (v as { SecretName?: string; ConfigName?: string; File?: { Name?: string } }[])
      .map((r) => `${r.SecretName ?? r.ConfigName} at ${r.File?.Name ?? '?'}`)
      .join(', ');
  }
  if (path === 'TaskTemplate.ContainerSpec.Env' && Array.isArray(v)) {
    return (v as string[]).map((e) => e.split('=')[0] + '=…').join(' ');
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One line per change: `image: repo:c-1 → repo:c-2`. Env values are hidden (they may be secrets). */
export function describeChanges(changes: SpecChange[], networkNames: Record<string, string> = {}): string[] {
  return changes.map((c) => {
    if (c.path === 'TaskTemplate.ContainerSpec.Env') {
      const from = new Set((c.from as string[] | undefined) ?? []);
      const to = new Set((c.to as string[] | undefined) ?? []);
      const key = (e: string) => e.split('=')[0];
      const added = [...to].filter((e) => !from.has(e)).map(key);
      const removed = [...from].filter((e) => !to.has(e)).map(key);
      const changed = added.filter((k) => removed.includes(k));
      const parts = [
        ...changed.map((k) => `~${k}`),
        ...added.filter((k) => !changed.includes(k)).map((k) => `+${k}`),
        ...removed.filter((k) => !changed.includes(k)).map((k) => `-${k}`),
      ];
      return `env: ${parts.join(' ') || 'order changed'}`;
    }
    return `${c.field}: ${show(c.path, c.from, networkNames)} → ${show(c.path, c.to, networkNames)}`;
  });
}
