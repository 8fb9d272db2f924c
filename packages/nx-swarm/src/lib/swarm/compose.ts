/**
 * Compose/stack files as a source for swarm-deploy: one service of a `docker-compose.yml` /
 * `docker-stack.yml` translated into `SwarmDeployOptions`. Pure: the caller reads the file and hands
 * in the environment; `readFile` is only asked for `env_file`s.
 *
 * Conventions:
 * - Paths. `baseDir` is the compose file's folder, as the caller knows it (workspace-relative or
 *   absolute). Paths in the file (`env_file`, a secret's or config's `file:`) are relative to that
 *   folder, as in Compose; they come back joined onto `baseDir` (normalised, POSIX separators), i.e.
 *   workspace-relative when `baseDir` is, so the deployer reads them from the workspace root as it
 *   reads `file` options written in project.json. Absolute paths are kept. A relative bind-mount
 *   source is made absolute only when `baseDir` is absolute; otherwise it is a problem (a bind source
 *   is a path on the node).
 * - Interpolation is Compose's, applied to every string value (never to keys) of the service and of
 *   the top-level networks/volumes/secrets/configs it uses, after the YAML parse (merge keys
 *   resolved) and before the mapping: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
 *   `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (a problem naming the variable),
 *   `${VAR:+alt}` / `${VAR+alt}`, `$$` for a literal `$`; defaults may nest. An unset variable
 *   without a default becomes "" with a note, as Compose warns. Only `env` is read: like
 *   `docker stack deploy`, no `.env` file. `env_file` lines are taken literally (no interpolation).
 * - Numbers written with a leading zero (`mode: 0440`) are octal, as Compose's YAML reader does.
 * - `problems` are fields (or values) the deployer cannot honour: the caller must refuse to deploy.
 *   `notes` are harmless in a swarm and ignored, as `docker stack deploy` itself ignores them
 *   ("Ignoring unsupported options: build"): build, container_name, depends_on, expose, restart…
 *   plus unset-variable warnings. Nothing in the service is dropped without one or the other.
 * - The file's `image` comes back as `composeImage`, not as an option: the deployer uses the image
 *   target's pinned reference instead.
 * - Names: a stack deploy prefixes networks and volumes with the stack name; swarm-deploy has no
 *   stack, so names are taken as written, or the top-level `name:` when set (external or not).
 * - A service without `networks:` leaves `networks` unset (the option's default applies), where
 *   a stack would attach it to `{stack}_default`.
 */
import * as path from 'node:path';
import { parseDocument, type Tags } from 'yaml';
import {
  parseCpus,
  parseDuration,
  parseMemory,
  type Duration,
  type HealthcheckOption,
  type MountOption,
  type ObjectRefOption,
  type PortOption,
  type ResourcesOption,
  type RestartPolicyOption,
  type RollbackConfigOption,
  type SwarmDeployOptions,
  type UlimitOption,
  type UpdateConfigOption,
} from './options';

export interface ComposeSourceOptions {
  /** The compose file as named in messages (e.g. its workspace-relative path). */
  file: string;
  /** The service to read. */
  service: string;
  /** Variables for interpolation and for bare `environment` entries (usually process.env). */
  env: Record<string, string | undefined>;
  /** The compose file's folder, workspace-relative or absolute; file paths are resolved against it. */
  baseDir: string;
  /** Reads an `env_file` (path as resolved against baseDir); undefined when it does not exist. */
  readFile?: (file: string) => string | undefined;
}

export interface ComposeServiceResult {
  options: Partial<SwarmDeployOptions>;
  /** The service's `image:` as written (interpolated); the deployer replaces it by the pinned reference. */
  composeImage?: string;
  /** What the deployer can't honour: refuse to deploy while there is any. */
  problems: string[];
  /** What is ignored as docker stack deploy ignores it, and interpolation warnings. */
  notes: string[];
}

type Dict = Record<string, unknown>;

/** Fields docker stack deploy ignores too, and whose absence changes nothing in a swarm. */
const IGNORED_SERVICE_FIELDS: Record<string, string> = {
  build: 'the image target builds the image',
  container_name: 'swarm names the tasks',
  depends_on: 'swarm starts services independently; readiness comes from health checks',
  expose: 'services on the same network reach each other on any port',
  restart: 'swarm restarts by deploy.restart_policy',
  profiles: 'the service is deployed by its own target',
  pull_policy: 'the deployer pins the image by digest',
  platform: 'the image target decides the platform',
  develop: 'compose watch only',
};

/** Fields the deployer can't honour, with the way out where there is one. */
const UNSUPPORTED_SERVICE_FIELDS: Record<string, string> = {
  labels: 'container labels are not supported; service labels go in deploy.labels',
  command: 'overriding the command is not supported; set CMD/ENTRYPOINT in the image',
  entrypoint: 'overriding the entrypoint is not supported; set ENTRYPOINT in the image',
  working_dir: 'set WORKDIR in the image',
  hostname: 'not supported by swarm-deploy',
  dns: 'not supported by swarm-deploy',
  dns_search: 'not supported by swarm-deploy',
  dns_opt: 'not supported by swarm-deploy',
  extra_hosts: 'not supported by swarm-deploy',
  logging: 'a log driver is not supported by swarm-deploy; the engine default applies',
  tmpfs: 'use volumes with type: tmpfs',
  scale: 'use deploy.replicas',
  extends: 'not supported (docker stack deploy refuses it too)',
  volumes_from: 'not supported in a swarm; share a named volume',
  volume_driver: 'define the volume at the top level with its driver',
  privileged: 'not possible in a swarm service (docker stack deploy ignores it; the service would run unprivileged)',
  devices: 'not possible in a swarm service on engine API 1.41',
  links: 'not supported in a swarm; services reach each other by name on a shared network',
  external_links: 'not supported in a swarm',
  network_mode: 'not supported by swarm-deploy; use networks',
  security_opt: 'not supported in a swarm service',
  cgroup_parent: 'not supported in a swarm service',
  cgroupns_mode: 'not supported in a swarm service',
  ipc: 'not supported in a swarm service',
  pid: 'not supported in a swarm service',
  userns_mode: 'not supported in a swarm service',
  shm_size: 'not supported in a swarm service',
  mac_address: 'not supported in a swarm service',
  domainname: 'not supported in a swarm service',
  isolation: 'not supported by swarm-deploy',
  credential_spec: 'not supported by swarm-deploy',
  cpu_shares: 'set deploy.resources',
  cpu_quota: 'set deploy.resources',
  cpu_period: 'set deploy.resources',
  cpus: 'set deploy.resources.limits.cpus',
  cpuset: 'set deploy.resources',
  mem_limit: 'set deploy.resources.limits.memory',
  mem_reservation: 'set deploy.resources.reservations.memory',
  memswap_limit: 'set deploy.resources',
  pids_limit: 'set deploy.resources.limits.pids',
};

const TOP_LEVEL_KNOWN = new Set(['services', 'networks', 'volumes', 'secrets', 'configs', 'version', 'name']);

/** Go's strconv.ParseInt(s, 0, 64), as Compose's YAML reader: a leading zero means octal. */
const leadingZeroOctal = {
  identify: (value: unknown) => typeof value === 'number' && Number.isInteger(value),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?0[0-7]+$/,
  resolve: (str: string) => parseInt(str, 8),
};

class Ctx {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  constructor(
    readonly src: ComposeSourceOptions,
    readonly root: Dict,
  ) {}
  problem(where: string, message: string): void {
    const line = `${this.src.file}: ${where}: ${message}`;
    if (!this.problems.includes(line)) this.problems.push(line);
  }
  note(where: string, message: string): void {
    const line = `${this.src.file}: ${where}: ${message}`;
    if (!this.notes.includes(line)) this.notes.push(line);
  }
  /** A path from the compose file, re-expressed against baseDir (see the module's conventions). */
  resolvePath(file: string): string {
    if (path.posix.isAbsolute(file)) return path.posix.normalize(file);
    return path.posix.normalize(path.posix.join(this.src.baseDir.replace(/\\/g, '/'), file));
  }
}

// ---------------------------------------------------------------------------------------------
// Interpolation

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Interpolates one string the way Compose does. Throws an Error whose message is for people
 * (a missing required variable, an invalid template); `onUnset` hears of variables used without a
 * default while unset.
 */
export function interpolate(text: string, env: Record<string, string | undefined>, onUnset: (name: string) => void = () => undefined): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new Error(`invalid interpolation format in "${text}": "\${" without "}"`);
      out += braced(text.slice(i + 2, end), text, env, onUnset);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m) {
      throw new Error(`invalid interpolation format in "${text}": a lone "$"; write "$$" for a literal dollar sign`);
    }
    out += lookup(m[0], env, onUnset);
    i += 1 + m[0].length;
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '$' && text[j + 1] === '$') {
      j++;
    } else if (text[j] === '$' && text[j + 1] === '{') {
      depth++;
      j++;
    } else if (text[j] === '}' && --depth === 0) {
      return j;
    }
  }
  return -1;
}

function lookup(name: string, env: Record<string, string | undefined>, onUnset: (name: string) => void): string {
  const v = env[name];
  if (v === undefined) {
    onUnset(name);
    return '';
  }
  return v;
}

function braced(inner: string, whole: string, env: Record<string, string | undefined>, onUnset: (name: string) => void): string {
  const m = NAME.exec(inner);
  if (!m) throw new Error(`invalid interpolation format in "${whole}": "\${${inner}}" does not start with a variable name`);
  const name = m[0];
  const rest = inner.slice(name.length);
  if (rest === '') return lookup(name, env, onUnset);
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[1];
  if (!op) throw new Error(`invalid interpolation format in "${whole}": "\${${inner}}"`);
  const arg = rest.slice(op.length);
  const value = env[name];
  const unset = value === undefined;
  const empty = unset || value === '';
  const sub = () => interpolate(arg, env, onUnset);
  switch (op) {
    case ':-':
      return empty ? sub() : (value as string);
    case '-':
      return unset ? sub() : (value as string);
    case ':+':
      return empty ? '' : sub();
    case '+':
      return unset ? '' : sub();
    default: {
      // ':?' and '?'
      if (op === ':?' ? empty : unset) {
        const msg = sub();
        throw new Error(`required variable ${name} is missing a value${msg ? `: ${msg}` : ''}`);
      }
      return value as string;
    }
  }
}

/** Interpolates every string value in a tree (not keys), reporting each failure as a problem at its path. */
function interpolateTree(ctx: Ctx, value: unknown, where: string): unknown {
  if (typeof value === 'string') {
    try {
      return interpolate(value, ctx.src.env, (name) => ctx.note(where, `variable ${name} is not set; substituting an empty string`));
    } catch (e) {
      ctx.problem(where, (e as Error).message);
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(ctx, v, `${where}[${i}]`));
  if (isDict(value)) {
    const out: Dict = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(ctx, v, `${where}.${k}`);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Scalar helpers: each reports a problem at `where` and returns undefined when the value is wrong.

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(ctx: Ctx, v: unknown, where: string): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  ctx.problem(where, `expected a string, got ${describe(v)}`);
  return undefined;
}

function int(ctx: Ctx, v: unknown, where: string, min = 0): number | undefined {
  const n = typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min) return n;
  ctx.problem(where, `expected a whole number${min > 0 ? ` ≥ ${min}` : ''}, got ${describe(v)}`);
  return undefined;
}

function num(ctx: Ctx, v: unknown, where: string): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n)) return n;
  ctx.problem(where, `expected a number, got ${describe(v)}`);
  return undefined;
}

function bool(ctx: Ctx, v: unknown, where: string): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  ctx.problem(where, `expected true or false, got ${describe(v)}`);
  return undefined;
}

function duration(ctx: Ctx, v: unknown, where: string): Duration | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    ctx.problem(where, `expected a duration such as "10s", got ${describe(v)}`);
    return undefined;
  }
  try {
    parseDuration(v, where);
    return v;
  } catch (e) {
    ctx.problem(where, (e as Error).message);
    return undefined;
  }
}

function oneOf<T extends string>(ctx: Ctx, v: unknown, where: string, allowed: readonly T[]): T | undefined {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  ctx.problem(where, `expected one of ${allowed.join(', ')}, got ${describe(v)}`);
  return undefined;
}

function strList(ctx: Ctx, v: unknown, where: string): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) {
    ctx.problem(where, `expected a list, got ${describe(v)}`);
    return undefined;
  }
  const out: string[] = [];
  v.forEach((x, i) => {
    const s = str(ctx, x, `${where}[${i}]`);
    if (s !== undefined) out.push(s);
  });
  return out;
}

/** Compose's "mapping": `{ K: v }` or `["K=v"]` (a bare `K` maps to ""). */
function mapping(ctx: Ctx, v: unknown, where: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      const s = str(ctx, x, `${where}[${i}]`);
      if (s === undefined) return;
      const eq = s.indexOf('=');
      out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
    });
    return out;
  }
  if (isDict(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null || x === undefined) out[k] = '';
      else {
        const s = str(ctx, x, `${where}.${k}`);
        if (s !== undefined) out[k] = s;
      }
    }
    return out;
  }
  ctx.problem(where, `expected a map or a list of KEY=VALUE, got ${describe(v)}`);
  return undefined;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return JSON.stringify(v);
}

/** Reports keys of `obj` outside `allowed` (x- extensions pass) as problems; returns obj as a Dict or undefined. */
function section(ctx: Ctx, v: unknown, where: string, allowed: readonly string[], hints: Record<string, string> = {}): Dict | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isDict(v)) {
    ctx.problem(where, `expected a map, got ${describe(v)}`);
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (allowed.includes(k) || k.startsWith('x-')) continue;
    ctx.problem(`${where}.${k}`, hints[k] ?? 'not supported by swarm-deploy');
  }
  return v;
}

function setIf<K extends keyof SwarmDeployOptions>(out: Partial<SwarmDeployOptions>, key: K, value: SwarmDeployOptions[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

function compact<T extends object>(o: T): T | undefined {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as T) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The translator

/** Translates one service of a Compose/stack file into swarm-deploy options (see the module's conventions). */
export function parseComposeService(text: string, src: ComposeSourceOptions): ComposeServiceResult {
  const doc = parseDocument(text, {
    merge: true,
    schema: 'core',
    customTags: (tags: Tags) => [leadingZeroOctal, ...tags],
    prettyErrors: true,
  });
  if (doc.errors.length) {
    return {
      options: {},
      problems: doc.errors.map((e) => `${src.file}: not valid YAML: ${e.message}`),
      notes: [],
    };
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 10_000 });
  } catch (e) {
    return { options: {}, problems: [`${src.file}: not valid YAML: ${(e as Error).message}`], notes: [] };
  }
  if (!isDict(root)) {
    return { options: {}, problems: [`${src.file}: expected a Compose file (a map with services:)`], notes: [] };
  }
  const ctx = new Ctx(src, root);
  for (const k of Object.keys(root)) {
    if (!TOP_LEVEL_KNOWN.has(k) && !k.startsWith('x-')) ctx.problem(k, 'not supported by swarm-deploy');
  }
  const services = isDict(root.services) ? root.services : {};
  const raw = services[src.service];
  if (!isDict(raw)) {
    const names = Object.keys(services);
    ctx.problem(
      'services',
      raw === undefined
        ? `no service "${src.service}"; the file has ${names.length ? names.join(', ') : 'no services'}`
        : `service "${src.service}" is not a map`,
    );
    return { options: {}, problems: ctx.problems, notes: ctx.notes };
  }
  const where = `services.${src.service}`;
  const svc = interpolateTree(ctx, raw, where) as Dict;
  const options: Partial<SwarmDeployOptions> = {};
  let composeImage: string | undefined;

  const handlers: Record<string, (v: unknown, at: string) => void> = {
    image: (v, at) => (composeImage = str(ctx, v, at)),
    deploy: (v, at) => mapDeploy(ctx, v, at, options),
    ports: (v, at) => setIf(options, 'ports', mapPorts(ctx, v, at)),
    networks: (v, at) => setIf(options, 'networks', mapNetworks(ctx, v, at)),
    environment: () => undefined, // with env_file, below
    env_file: () => undefined,
    healthcheck: (v, at) => setIf(options, 'healthcheck', mapHealthcheck(ctx, v, at)),
    secrets: (v, at) => setIf(options, 'secrets', mapObjectRefs(ctx, v, at, 'secrets')),
    configs: (v, at) => setIf(options, 'configs', mapObjectRefs(ctx, v, at, 'configs')),
    volumes: (v, at) => setIf(options, 'mounts', mapVolumes(ctx, v, at)),
    user: (v, at) => setIf(options, 'user', str(ctx, v, at)),
    group_add: (v, at) => setIf(options, 'groups', strList(ctx, v, at)),
    read_only: (v, at) => setIf(options, 'readOnly', bool(ctx, v, at)),
    cap_add: (v, at) => setIf(options, 'capAdd', strList(ctx, v, at)),
    cap_drop: (v, at) => setIf(options, 'capDrop', strList(ctx, v, at)),
    init: (v, at) => setIf(options, 'init', bool(ctx, v, at)),
    stop_signal: (v, at) => setIf(options, 'stopSignal', str(ctx, v, at)),
    stop_grace_period: (v, at) => setIf(options, 'stopGracePeriod', duration(ctx, v, at)),
    sysctls: (v, at) => setIf(options, 'sysctls', mapping(ctx, v, at)),
    ulimits: (v, at) => setIf(options, 'ulimits', mapUlimits(ctx, v, at)),
  };
  for (const [k, v] of Object.entries(svc)) {
    const at = `${where}.${k}`;
    if (k.startsWith('x-')) continue;
    if (handlers[k]) handlers[k](v, at);
    else if (IGNORED_SERVICE_FIELDS[k]) ctx.note(at, `ignored, as docker stack deploy does (${IGNORED_SERVICE_FIELDS[k]})`);
    else ctx.problem(at, UNSUPPORTED_SERVICE_FIELDS[k] ?? 'not a field swarm-deploy knows; remove it or set the option in project.json');
  }
  setIf(options, 'env', mapEnvironment(ctx, svc, where));
  return { options, composeImage, problems: ctx.problems, notes: ctx.notes };
}

function mapDeploy(ctx: Ctx, v: unknown, at: string, out: Partial<SwarmDeployOptions>): void {
  const d = section(ctx, v, at, [
    'mode',
    'replicas',
    'placement',
    'resources',
    'update_config',
    'rollback_config',
    'restart_policy',
    'labels',
    'endpoint_mode',
  ]);
  if (!d) return;
  if (d.mode !== undefined) {
    if (d.mode === 'replicated-job' || d.mode === 'global-job') {
      ctx.problem(`${at}.mode`, `${d.mode}: jobs are not supported by swarm-deploy`);
    } else setIf(out, 'mode', oneOf(ctx, d.mode, `${at}.mode`, ['replicated', 'global'] as const));
  }
  if (d.replicas !== undefined) setIf(out, 'replicas', int(ctx, d.replicas, `${at}.replicas`));
  if (d.endpoint_mode !== undefined) {
    setIf(out, 'endpointMode', oneOf(ctx, d.endpoint_mode, `${at}.endpoint_mode`, ['vip', 'dnsrr'] as const));
  }
  if (d.labels !== undefined) setIf(out, 'labels', mapping(ctx, d.labels, `${at}.labels`));
  const p = section(ctx, d.placement, `${at}.placement`, ['constraints', 'preferences', 'max_replicas_per_node']);
  if (p) {
    if (p.constraints !== undefined) setIf(out, 'constraints', strList(ctx, p.constraints, `${at}.placement.constraints`));
    if (p.preferences !== undefined) {
      const prefs: string[] = [];
      const list = Array.isArray(p.preferences) ? p.preferences : [p.preferences];
      list.forEach((x, i) => {
        const pw = `${at}.placement.preferences[${i}]`;
        const s = section(ctx, x, pw, ['spread']);
        if (s && s.spread !== undefined) {
          const spread = str(ctx, s.spread, `${pw}.spread`);
          if (spread !== undefined) prefs.push(`spread=${spread}`);
        } else if (s && Object.keys(s).length === 0) ctx.problem(pw, 'expected { spread: <node label or attribute> }');
      });
      out.placementPreferences = prefs;
    }
    if (p.max_replicas_per_node !== undefined) {
      setIf(out, 'maxReplicasPerNode', int(ctx, p.max_replicas_per_node, `${at}.placement.max_replicas_per_node`));
    }
  }
  setIf(out, 'resources', mapResources(ctx, d.resources, `${at}.resources`));
  setIf(out, 'updateConfig', mapUpdateConfig(ctx, d.update_config, `${at}.update_config`, false));
  setIf(out, 'rollbackConfig', mapUpdateConfig(ctx, d.rollback_config, `${at}.rollback_config`, true));
  const r = section(ctx, d.restart_policy, `${at}.restart_policy`, ['condition', 'delay', 'max_attempts', 'window']);
  if (r) {
    const policy: RestartPolicyOption = {
      condition:
        r.condition === undefined ? undefined : oneOf(ctx, r.condition, `${at}.restart_policy.condition`, ['none', 'on-failure', 'any'] as const),
      delay: r.delay === undefined ? undefined : duration(ctx, r.delay, `${at}.restart_policy.delay`),
      maxAttempts: r.max_attempts === undefined ? undefined : int(ctx, r.max_attempts, `${at}.restart_policy.max_attempts`),
      window: r.window === undefined ? undefined : duration(ctx, r.window, `${at}.restart_policy.window`),
    };
    setIf(out, 'restartPolicy', compact(policy) ?? {});
  }
}

function mapResources(ctx: Ctx, v: unknown, at: string): ResourcesOption | undefined {
  const r = section(ctx, v, at, ['limits', 'reservations']);
  if (!r) return undefined;
  const set = (x: unknown, w: string, allowed: string[]) => {
    const s = section(ctx, x, w, allowed, {
      devices: 'device reservations (GPUs) are not supported by swarm-deploy',
      generic_resources: 'generic resources are not supported by swarm-deploy',
    });
    if (!s) return undefined;
    const cpus = s.cpus === undefined ? undefined : checked(ctx, s.cpus, `${w}.cpus`, parseCpus);
    const memory = s.memory === undefined ? undefined : checked(ctx, s.memory, `${w}.memory`, parseMemory);
    const pids = s.pids === undefined ? undefined : int(ctx, s.pids, `${w}.pids`);
    return compact({ cpus, memory, pids });
  };
  const limits = set(r.limits, `${at}.limits`, ['cpus', 'memory', 'pids']);
  const reservations = set(r.reservations, `${at}.reservations`, ['cpus', 'memory']);
  return compact({ limits, reservations });
}

/** Keeps a cpus/memory value as written after checking it parses. */
function checked(ctx: Ctx, v: unknown, at: string, parse: (value: string | number, what: string) => number): string | number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    ctx.problem(at, `expected a number or a string, got ${describe(v)}`);
    return undefined;
  }
  try {
    parse(v, at);
    return v;
  } catch (e) {
    ctx.problem(at, (e as Error).message);
    return undefined;
  }
}

function mapUpdateConfig(ctx: Ctx, v: unknown, at: string, rollback: true): RollbackConfigOption | undefined;
function mapUpdateConfig(ctx: Ctx, v: unknown, at: string, rollback: false): UpdateConfigOption | undefined;
function mapUpdateConfig(ctx: Ctx, v: unknown, at: string, rollback: boolean): UpdateConfigOption | RollbackConfigOption | undefined {
  const u = section(ctx, v, at, ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order']);
  if (!u) return undefined;
  const actions = rollback ? (['pause', 'continue'] as const) : (['rollback', 'pause', 'continue'] as const);
  const cfg: UpdateConfigOption = {
    parallelism: u.parallelism === undefined ? undefined : int(ctx, u.parallelism, `${at}.parallelism`),
    delay: u.delay === undefined ? undefined : duration(ctx, u.delay, `${at}.delay`),
    failureAction:
      u.failure_action === undefined
        ? undefined
        : (oneOf(ctx, u.failure_action, `${at}.failure_action`, actions) as UpdateConfigOption['failureAction']),
    monitor: u.monitor === undefined ? undefined : duration(ctx, u.monitor, `${at}.monitor`),
    maxFailureRatio: u.max_failure_ratio === undefined ? undefined : num(ctx, u.max_failure_ratio, `${at}.max_failure_ratio`),
    order: u.order === undefined ? undefined : oneOf(ctx, u.order, `${at}.order`, ['start-first', 'stop-first'] as const),
  };
  return compact(cfg) ?? {};
}

function port(ctx: Ctx, v: unknown, at: string): number | undefined {
  if (typeof v === 'string' && /^\d+-\d+$/.test(v.trim())) {
    ctx.problem(at, `port range "${v}" is not supported; list each port`);
    return undefined;
  }
  const n = int(ctx, v, at, 1);
  if (n !== undefined && n > 65535) {
    ctx.problem(at, `port ${n} is out of range 1-65535`);
    return undefined;
  }
  return n;
}

function mapPorts(ctx: Ctx, v: unknown, at: string): PortOption[] | undefined {
  if (!Array.isArray(v)) {
    ctx.problem(at, `expected a list, got ${describe(v)}`);
    return undefined;
  }
  const out: PortOption[] = [];
  v.forEach((x, i) => {
    const w = `${at}[${i}]`;
    if (typeof x === 'number' || typeof x === 'string') {
      const p = shortPort(ctx, String(x), w);
      if (p) out.push(p);
      return;
    }
    const l = section(ctx, x, w, ['target', 'published', 'protocol', 'mode', 'name', 'app_protocol'], {
      host_ip: 'binding to one address is not possible in a swarm (ports publish on every interface)',
    });
    if (!l) return;
    if (l.name !== undefined || l.app_protocol !== undefined) ctx.note(w, 'name and app_protocol are ignored');
    if (l.target === undefined) {
      ctx.problem(w, 'target (the container port) is missing');
      return;
    }
    const p: PortOption = { target: port(ctx, l.target, `${w}.target`) as number };
    if (l.published !== undefined && l.published !== '') p.published = port(ctx, l.published, `${w}.published`);
    if (l.protocol !== undefined) p.protocol = oneOf(ctx, l.protocol, `${w}.protocol`, ['tcp', 'udp', 'sctp'] as const);
    if (l.mode !== undefined) p.mode = oneOf(ctx, l.mode, `${w}.mode`, ['ingress', 'host'] as const);
    const c = compact(p);
    if (c && c.target !== undefined) out.push(c);
  });
  return out;
}

/** `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`. */
function shortPort(ctx: Ctx, s: string, at: string): PortOption | undefined {
  let rest = s.trim();
  let protocol: PortOption['protocol'];
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = oneOf(ctx, rest.slice(slash + 1), at, ['tcp', 'udp', 'sctp'] as const);
    if (!protocol) return undefined;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(':');
  if (!hostIp && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2 || (hostIp !== undefined && parts.length !== 2)) {
    ctx.problem(at, `"${s}" is not a port: use [HOST:]CONTAINER[/PROTOCOL]`);
    return undefined;
  }
  if (hostIp) {
    ctx.problem(at, `"${s}": binding to one address (${hostIp}) is not possible in a swarm (ports publish on every interface)`);
    return undefined;
  }
  const [pub, tgt] = parts.length === 2 ? parts : [undefined, parts[0]];
  const target = port(ctx, tgt, at);
  const published = pub === undefined || pub === '' ? undefined : port(ctx, pub, at);
  if (target === undefined || (pub && published === undefined)) return undefined;
  return compact({ target, published, protocol }) as PortOption;
}

function mapNetworks(ctx: Ctx, v: unknown, at: string): string[] | undefined {
  let names: string[];
  if (Array.isArray(v)) {
    names = strList(ctx, v, at) ?? [];
  } else if (isDict(v)) {
    names = [];
    for (const [n, cfg] of Object.entries(v)) {
      names.push(n);
      if (cfg === null || cfg === undefined) continue;
      section(ctx, cfg, `${at}.${n}`, [], {
        aliases: 'network aliases are not supported by swarm-deploy; services are reached by their name',
        ipv4_address: 'static addresses are not possible in a swarm service',
        ipv6_address: 'static addresses are not possible in a swarm service',
      });
    }
  } else {
    ctx.problem(at, `expected a list or a map, got ${describe(v)}`);
    return undefined;
  }
  const top = isDict(ctx.root.networks) ? ctx.root.networks : {};
  return names.map((n) => {
    const tw = `networks.${n}`;
    if (!(n in top)) {
      if (n !== 'default') ctx.problem(`${at}`, `network "${n}" is not defined in the top-level networks:`);
      return n;
    }
    const def = section(ctx, interpolateTree(ctx, top[n], tw), tw, ['name', 'external', 'driver', 'attachable', 'labels'], {
      driver_opts: 'swarm-deploy creates missing networks as plain attachable overlays; create this one beforehand and mark it external: true',
      ipam: 'swarm-deploy creates missing networks as plain attachable overlays; create this one beforehand and mark it external: true',
      internal: 'swarm-deploy creates missing networks as plain attachable overlays; create this one beforehand and mark it external: true',
      enable_ipv6: 'swarm-deploy creates missing networks as plain attachable overlays; create this one beforehand and mark it external: true',
    });
    if (!def) return n;
    if (def.driver !== undefined && def.driver !== 'overlay') {
      ctx.problem(`${tw}.driver`, `"${String(def.driver)}": swarm services attach to overlay networks only`);
    }
    if (def.labels !== undefined) ctx.note(`${tw}.labels`, 'ignored (networks are created without labels)');
    return externalName(ctx, def, tw) ?? n;
  });
}

/** The object's real name: top-level `name:`, or the old `external: { name }`. */
function externalName(ctx: Ctx, def: Dict, at: string): string | undefined {
  if (def.name !== undefined) return str(ctx, def.name, `${at}.name`);
  if (isDict(def.external) && def.external.name !== undefined) return str(ctx, def.external.name, `${at}.external.name`);
  return undefined;
}

function isExternal(ctx: Ctx, def: Dict, at: string): boolean {
  if (def.external === undefined) return false;
  if (isDict(def.external)) return true;
  return bool(ctx, def.external, `${at}.external`) ?? false;
}

function mapEnvironment(ctx: Ctx, svc: Dict, where: string): Record<string, string> | undefined {
  if (svc.environment === undefined && svc.env_file === undefined) return undefined;
  const env: Record<string, string> = {};
  if (svc.env_file !== undefined) {
    const at = `${where}.env_file`;
    const list = Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
    list.forEach((x, i) => {
      const w = Array.isArray(svc.env_file) ? `${at}[${i}]` : at;
      let file: string | undefined;
      let required = true;
      if (isDict(x)) {
        const l = section(ctx, x, w, ['path', 'required', 'format']);
        if (l?.format !== undefined) ctx.problem(`${w}.format`, 'only the KEY=VALUE format is supported');
        file = l?.path === undefined ? undefined : str(ctx, l.path, `${w}.path`);
        if (l?.required !== undefined) required = bool(ctx, l.required, `${w}.required`) ?? true;
        if (l && l.path === undefined) ctx.problem(w, 'path is missing');
      } else file = str(ctx, x, w);
      if (file === undefined) return;
      const resolved = ctx.resolvePath(file);
      const text = ctx.src.readFile?.(resolved);
      if (text === undefined) {
        if (required) ctx.problem(w, `env file ${resolved} can't be read`);
        return;
      }
      Object.assign(env, parseEnvFile(text, ctx.src.env));
    });
  }
  if (svc.environment !== undefined) {
    const at = `${where}.environment`;
    const set = (k: string, value: string | undefined, w: string) => {
      if (value !== undefined) env[k] = value;
      else if (ctx.src.env[k] !== undefined) env[k] = ctx.src.env[k] as string;
      else ctx.note(w, `${k} has no value and is not set in the environment; left out`);
    };
    if (Array.isArray(svc.environment)) {
      svc.environment.forEach((x, i) => {
        const s = str(ctx, x, `${at}[${i}]`);
        if (s === undefined) return;
        const eq = s.indexOf('=');
        set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? undefined : s.slice(eq + 1), `${at}[${i}]`);
      });
    } else if (isDict(svc.environment)) {
      for (const [k, x] of Object.entries(svc.environment)) {
        set(k, x === null || x === undefined ? undefined : str(ctx, x, `${at}.${k}`), `${at}.${k}`);
      }
    } else ctx.problem(at, `expected a map or a list of KEY=VALUE, got ${describe(svc.environment)}`);
  }
  return env;
}

/**
 * An env file: KEY=VALUE lines; blank lines and lines starting with # are skipped; a value wrapped in
 * matching quotes loses them; a bare KEY takes its value from `env` (left out when unset), as docker does.
 */
export function parseEnvFile(text: string, env: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) {
      const k = line.trim();
      if (env[k] !== undefined) out[k] = env[k] as string;
      continue;
    }
    const k = line.slice(0, eq).trim();
    let value = line.slice(eq + 1);
    const q = /^(["'])(.*)\1\s*$/.exec(value);
    if (q) value = q[2];
    out[k] = value;
  }
  return out;
}

function mapHealthcheck(ctx: Ctx, v: unknown, at: string): HealthcheckOption | undefined {
  const h = section(ctx, v, at, ['test', 'interval', 'timeout', 'retries', 'start_period', 'disable'], {
    start_interval: 'start_interval needs engine API 1.44; swarm-deploy talks 1.41',
  });
  if (!h) return undefined;
  const hc: HealthcheckOption = {};
  if (h.test !== undefined) hc.test = typeof h.test === 'string' ? h.test : strList(ctx, h.test, `${at}.test`);
  if (h.interval !== undefined) hc.interval = duration(ctx, h.interval, `${at}.interval`);
  if (h.timeout !== undefined) hc.timeout = duration(ctx, h.timeout, `${at}.timeout`);
  if (h.retries !== undefined) hc.retries = int(ctx, h.retries, `${at}.retries`);
  if (h.start_period !== undefined) hc.startPeriod = duration(ctx, h.start_period, `${at}.start_period`);
  if (h.disable !== undefined) hc.disable = bool(ctx, h.disable, `${at}.disable`);
  return compact(hc) ?? {};
}

function mapObjectRefs(ctx: Ctx, v: unknown, at: string, kind: 'secrets' | 'configs'): ObjectRefOption[] | undefined {
  if (!Array.isArray(v)) {
    ctx.problem(at, `expected a list, got ${describe(v)}`);
    return undefined;
  }
  const top = isDict(ctx.root[kind]) ? (ctx.root[kind] as Dict) : {};
  const out: ObjectRefOption[] = [];
  v.forEach((x, i) => {
    const w = `${at}[${i}]`;
    const ref: ObjectRefOption = { source: '' };
    if (typeof x === 'string') ref.source = x;
    else {
      const l = section(ctx, x, w, ['source', 'target', 'uid', 'gid', 'mode']);
      if (!l) return;
      if (l.source === undefined) {
        ctx.problem(w, 'source is missing');
        return;
      }
      ref.source = str(ctx, l.source, `${w}.source`) ?? '';
      if (l.target !== undefined) ref.target = str(ctx, l.target, `${w}.target`);
      if (l.uid !== undefined) ref.uid = str(ctx, l.uid, `${w}.uid`);
      if (l.gid !== undefined) ref.gid = str(ctx, l.gid, `${w}.gid`);
      if (l.mode !== undefined) {
        if (typeof l.mode === 'number' || typeof l.mode === 'string') ref.mode = l.mode;
        else ctx.problem(`${w}.mode`, `expected an octal mode such as 0440, got ${describe(l.mode)}`);
      }
    }
    if (!ref.source) return;
    const tw = `${kind}.${ref.source}`;
    if (!(ref.source in top)) {
      ctx.problem(w, `${kind.slice(0, -1)} "${ref.source}" is not defined in the top-level ${kind}:`);
      return;
    }
    const def = section(ctx, interpolateTree(ctx, top[ref.source], tw), tw, ['file', 'environment', 'external', 'name', 'labels'], {
      content: 'inline content is not supported; put it in a file and use file:',
      driver: 'secret drivers are not supported by swarm-deploy',
      driver_opts: 'secret drivers are not supported by swarm-deploy',
      template_driver: 'templated objects are not supported by swarm-deploy',
    });
    if (!def) {
      ctx.problem(tw, 'needs file:, environment: or external: true');
      return;
    }
    const external = isExternal(ctx, def, tw);
    const sources = [def.file !== undefined, def.environment !== undefined, external].filter(Boolean).length;
    if (sources === 0 && def.content !== undefined) return; // reported above
    if (sources !== 1) {
      ctx.problem(tw, sources ? 'give only one of file:, environment: and external:' : 'needs file:, environment: or external: true');
      return;
    }
    if (external) {
      ref.external = true;
      const name = externalName(ctx, def, tw);
      if (name !== undefined && name !== ref.source) ref.name = name;
    } else {
      if (def.name !== undefined) {
        ctx.note(`${tw}.name`, `ignored: swarm-deploy names the objects it creates by content ({service}_${ref.source}_{hash8})`);
      }
      if (def.file !== undefined) {
        const f = str(ctx, def.file, `${tw}.file`);
        if (f !== undefined) ref.file = ctx.resolvePath(f);
      } else {
        ref.env = str(ctx, def.environment, `${tw}.environment`);
      }
    }
    if (def.labels !== undefined) ctx.note(`${tw}.labels`, 'ignored: swarm-deploy labels the objects it creates itself');
    out.push(compact(ref) as ObjectRefOption);
  });
  return out;
}

function mapVolumes(ctx: Ctx, v: unknown, at: string): MountOption[] | undefined {
  if (!Array.isArray(v)) {
    ctx.problem(at, `expected a list, got ${describe(v)}`);
    return undefined;
  }
  const out: MountOption[] = [];
  v.forEach((x, i) => {
    const w = `${at}[${i}]`;
    const m = typeof x === 'string' ? shortVolume(ctx, x, w) : longVolume(ctx, x, w);
    if (m) out.push(m);
  });
  return out;
}

function shortVolume(ctx: Ctx, s: string, at: string): MountOption | undefined {
  const parts = s.split(':');
  if (parts.length > 3) {
    ctx.problem(at, `"${s}" is not a volume: use [SOURCE:]TARGET[:MODE]`);
    return undefined;
  }
  if (parts.length === 1) return finishVolume(ctx, { type: 'volume', target: parts[0] }, at);
  const [source, target, flags = ''] = parts;
  const m: MountOption = { type: 'volume', source, target };
  for (const flag of flags.split(',').filter(Boolean)) {
    if (flag === 'ro') m.readOnly = true;
    else if (flag === 'rw') m.readOnly = false;
    else if (flag === 'nocopy') m.volumeNoCopy = true;
    else ctx.problem(at, `volume option "${flag}" is not supported by swarm-deploy`);
  }
  if (m.readOnly === false) delete m.readOnly;
  return finishVolume(ctx, m, at);
}

function longVolume(ctx: Ctx, x: unknown, at: string): MountOption | undefined {
  const l = section(ctx, x, at, ['type', 'source', 'target', 'read_only', 'volume', 'tmpfs', 'consistency'], {
    bind: 'bind options (propagation, create_host_path, selinux) are not supported by swarm-deploy',
  });
  if (!l) return undefined;
  if (l.consistency !== undefined) ctx.note(`${at}.consistency`, 'ignored (Docker Desktop only)');
  const type = oneOf(ctx, l.type ?? 'volume', `${at}.type`, ['volume', 'bind', 'tmpfs'] as const);
  if (!type || l.target === undefined) {
    if (l.target === undefined) ctx.problem(at, 'target is missing');
    return undefined;
  }
  const m: MountOption = { type, target: str(ctx, l.target, `${at}.target`) ?? '' };
  if (l.source !== undefined) m.source = str(ctx, l.source, `${at}.source`);
  if (l.read_only !== undefined && bool(ctx, l.read_only, `${at}.read_only`)) m.readOnly = true;
  const vol = section(ctx, l.volume, `${at}.volume`, ['nocopy'], { subpath: 'volume subpaths need engine API 1.45' });
  if (vol?.nocopy !== undefined && bool(ctx, vol.nocopy, `${at}.volume.nocopy`)) m.volumeNoCopy = true;
  const t = section(ctx, l.tmpfs, `${at}.tmpfs`, ['size', 'mode']);
  if (t?.size !== undefined) m.tmpfsSize = checked(ctx, t.size, `${at}.tmpfs.size`, parseMemory);
  if (t?.mode !== undefined) m.tmpfsMode = typeof t.mode === 'number' ? t.mode : str(ctx, t.mode, `${at}.tmpfs.mode`);
  if ((vol && type !== 'volume') || (t && type !== 'tmpfs')) ctx.problem(at, `options for another type than ${type}`);
  return finishVolume(ctx, compact(m) as MountOption, at);
}

/** Tells bind from volume by the source, resolves a named volume against the top-level volumes:. */
function finishVolume(ctx: Ctx, m: MountOption, at: string): MountOption | undefined {
  if (!path.posix.isAbsolute(m.target)) {
    ctx.problem(at, `target "${m.target}" must be an absolute path in the container`);
    return undefined;
  }
  const src = m.source;
  if (m.type === 'tmpfs' || src === undefined || src === '') {
    if (src === '') delete m.source;
    return m;
  }
  const looksLikePath = /^(\/|\.|~)/.test(src);
  if (m.type === 'volume' && looksLikePath) m.type = 'bind';
  if (m.type === 'bind') {
    if (src.startsWith('~')) {
      ctx.problem(at, `bind source "${src}": use an absolute path on the node`);
      return undefined;
    }
    if (!path.posix.isAbsolute(src)) {
      if (!path.posix.isAbsolute(ctx.src.baseDir.replace(/\\/g, '/'))) {
        ctx.problem(at, `bind source "${src}" is relative: a bind source is a path on the node; use an absolute path`);
        return undefined;
      }
      m.source = ctx.resolvePath(src);
    }
    return m;
  }
  const top = isDict(ctx.root.volumes) ? ctx.root.volumes : {};
  const tw = `volumes.${src}`;
  if (!(src in top)) {
    ctx.problem(at, `volume "${src}" is not defined in the top-level volumes:`);
    return undefined;
  }
  const def = section(ctx, interpolateTree(ctx, top[src], tw), tw, ['name', 'external', 'driver', 'labels'], {
    driver_opts: 'volume driver options are not supported by swarm-deploy; create the volume beforehand and mark it external: true',
  });
  if (def) {
    const name = externalName(ctx, def, tw);
    if (name !== undefined) m.source = name;
    const external = isExternal(ctx, def, tw);
    if (!external && def.driver !== undefined) m.volumeDriver = str(ctx, def.driver, `${tw}.driver`);
    if (!external && def.labels !== undefined) m.volumeLabels = mapping(ctx, def.labels, `${tw}.labels`);
  }
  return m;
}

function mapUlimits(ctx: Ctx, v: unknown, at: string): Record<string, UlimitOption> | undefined {
  if (!isDict(v)) {
    ctx.problem(at, `expected a map, got ${describe(v)}`);
    return undefined;
  }
  const out: Record<string, UlimitOption> = {};
  for (const [k, x] of Object.entries(v)) {
    const w = `${at}.${k}`;
    if (isDict(x)) {
      const l = section(ctx, x, w, ['soft', 'hard']);
      const soft = l && int(ctx, l.soft, `${w}.soft`);
      const hard = l && int(ctx, l.hard, `${w}.hard`);
      if (soft !== undefined && hard !== undefined) out[k] = { soft, hard };
    } else {
      const n = int(ctx, x, w);
      if (n !== undefined) out[k] = n;
    }
  }
  return out;
}

/**
 * Options in project.json override the compose file, key by key at the top level (an explicit
 * `updateConfig` replaces the file's whole `update_config`). A given key that is not explicit only
 * holds the schema's default and does not override the file; it still applies where the file is
 * silent. Pure.
 */
export function mergeComposeOptions(
  fromCompose: Partial<SwarmDeployOptions>,
  given: SwarmDeployOptions,
  explicit: (key: keyof SwarmDeployOptions) => boolean,
): SwarmDeployOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fromCompose)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (explicit(k as keyof SwarmDeployOptions) || out[k] === undefined) out[k] = v;
  }
  return out as SwarmDeployOptions;
}
