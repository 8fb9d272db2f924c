/**
 * The swarm-deploy options, in the vocabulary of `docker service create` and Compose's `deploy:`
 * section, plus the small parsers (durations, memory, CPUs) they need. Pure.
 */

/** A Go-style duration ("10s", "1m30s", "500ms") or a number of seconds. */
export type Duration = string | number;

export interface PortOption {
  /** Container port. */
  target: number;
  /** Port on the node (host mode) or on every node (ingress). Omitted: the engine picks one. */
  published?: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** ingress (routing mesh, the default; needs IPVS) or host (bind on the node running the task). */
  mode?: 'ingress' | 'host';
}

export interface MountOption {
  type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name (volume; omitted: anonymous) or absolute host path (bind). Not for tmpfs. */
  source?: string;
  /** Absolute path in the container. */
  target: string;
  readOnly?: boolean;
  /** volume only: don't copy the image's files into a new volume. */
  volumeNoCopy?: boolean;
  volumeDriver?: string;
  volumeLabels?: Record<string, string>;
  /** tmpfs only: size ("64m" or bytes). */
  tmpfsSize?: string | number;
  /** tmpfs only: octal mode as a number (e.g. 0o1777 = 1023) or string "1777". */
  tmpfsMode?: number | string;
}

export interface ResourceSet {
  /** CPUs, e.g. 0.5 or "0.5". */
  cpus?: number | string;
  /** Memory, e.g. "128M", "1g" or bytes. */
  memory?: string | number;
}

export interface ResourcesOption {
  limits?: ResourceSet & { pids?: number };
  reservations?: ResourceSet;
}

export interface RestartPolicyOption {
  condition?: 'none' | 'on-failure' | 'any';
  delay?: Duration;
  maxAttempts?: number;
  window?: Duration;
}

export interface HealthcheckOption {
  /** ["CMD", "/app", "healthcheck"], ["CMD-SHELL", "…"], ["NONE"] or a shell string. */
  test?: string[] | string;
  interval?: Duration;
  timeout?: Duration;
  retries?: number;
  startPeriod?: Duration;
  /** Disable the image's health check. */
  disable?: boolean;
}

export interface UpdateConfigOption {
  parallelism?: number;
  delay?: Duration;
  order?: 'start-first' | 'stop-first';
  failureAction?: 'rollback' | 'pause' | 'continue';
  monitor?: Duration;
  maxFailureRatio?: number;
}

export interface RollbackConfigOption {
  parallelism?: number;
  delay?: Duration;
  order?: 'start-first' | 'stop-first';
  failureAction?: 'pause' | 'continue';
  monitor?: Duration;
  maxFailureRatio?: number;
}

/**
 * A secret or config the service mounts, in Compose's long syntax. Exactly one of file, env and
 * external gives the content. Objects the plugin creates are named `{service}_{source}_{hash8}`
 * (content-addressed: a change of content is a new object, swarm objects are immutable).
 */
export interface ObjectRefOption {
  /** Name in the plugin's options and in the object's name; the default target. */
  source: string;
  /** Workspace-relative (or absolute) file with the content. */
  file?: string;
  /** Environment variable with the content (CI). */
  env?: string;
  /** Use an existing swarm object instead (named `name`, default `source`); the plugin never creates or deletes it. */
  external?: boolean;
  /** external only: the object's name in the swarm (default `source`). */
  name?: string;
  /** Path in the container: secrets default /run/secrets/{source} (a relative target is under /run/secrets), configs /{source}. */
  target?: string;
  /** Owner of the file in the container (default "0"). */
  uid?: string;
  gid?: string;
  /** File mode, octal as a string ("0400") or a number (0o400 = 256); default 0444. */
  mode?: number | string;
}

/** A ulimit: one number (soft = hard) or both. */
export type UlimitOption = number | { soft: number; hard: number };

export interface SwarmDeployOptions {
  /** Service name; default the project name. */
  service?: string;
  /** Image reference; default from the image target's receipt (dist/{projectRoot}/image.json). */
  image?: string;
  /** Replicated mode: number of tasks (default 1). */
  replicas?: number;
  mode?: 'replicated' | 'global';
  /** Overlay networks to attach (default ["my_network"]); created attachable when missing. */
  networks?: string[];
  ports?: PortOption[];
  /** Environment: { KEY: value } or ["KEY=value"]. */
  env?: Record<string, string | number | boolean> | string[];
  /** Service labels. */
  labels?: Record<string, string>;
  /** Placement constraints, e.g. ["node.role==manager"]. */
  constraints?: string[];
  /** Placement preferences, e.g. ["spread=node.labels.zone"]. */
  placementPreferences?: string[];
  maxReplicasPerNode?: number;
  resources?: ResourcesOption;
  restartPolicy?: RestartPolicyOption;
  healthcheck?: HealthcheckOption;
  updateConfig?: UpdateConfigOption;
  rollbackConfig?: RollbackConfigOption;
  /** vip (default; needs IPVS) or dnsrr. */
  endpointMode?: 'vip' | 'dnsrr';
  mounts?: MountOption[];
  /** Send registry credentials (X-Registry-Auth) so other nodes can pull a private image. */
  withRegistryAuth?: boolean | 'auto';
  /** Convergence deadline (default 120 s). */
  timeout?: Duration;
  /** Print the plan; change nothing. */
  dryRun?: boolean;
  /** Path for the summary's `try curl` (default: the health check's path, else /). */
  tryPath?: string;
  /** Swarm secrets the tasks mount (under /run/secrets). */
  secrets?: ObjectRefOption[];
  /** Swarm configs the tasks mount. */
  configs?: ObjectRefOption[];
  /** Hardening, as `docker service create`: user (name or uid[:gid]), supplementary groups. */
  user?: string;
  groups?: string[];
  /**
   * Host files whose owning group the tasks join (e.g. /var/run/docker.sock, whose group id differs
   * from host to host). Read on this machine, so only for a local engine; for a remote one, give the gid in `groups`.
   */
  groupsFromFiles?: string[];
  /** Read-only root filesystem. */
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** Run an init (tini) as PID 1 that reaps zombies and forwards signals. */
  init?: boolean;
  stopSignal?: string;
  /** Time between the stop signal and SIGKILL (default 10s). */
  stopGracePeriod?: Duration;
  sysctls?: Record<string, string>;
  ulimits?: Record<string, UlimitOption>;
  /** A Compose/stack file (workspace-relative) to read this service from; options here override it. */
  composeFile?: string;
  /** The service in composeFile (default: the service name, else the project name). */
  composeService?: string;
  /** Folder of the image receipt and the deploy report (default dist/{projectRoot}). */
  outputDir?: string;
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses a Go-style duration ("1m30s", "500ms", "10s") or a number of seconds into nanoseconds. */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${what} must be a non-negative number of seconds, got ${value}`);
    return Math.round(value * 1e9);
  }
  const s = String(value).trim();
  if (s === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1e9);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_NS[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length) {
    throw new Error(`${what} "${value}" is not a duration: use e.g. "10s", "500ms", "1m30s" or a number of seconds`);
  }
  return Math.round(total);
}

/** Formats nanoseconds the Go way, shortest form: 10s, 1m30s, 500ms. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toFixed(3)}ms`;
  let rest = ns / 1e9;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const sec = +rest.toFixed(3);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec || !(h || m) ? `${sec}s` : ''}`;
}

const MEM_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses docker-style memory sizes ("128m", "1g", "512k", "64MiB", bytes). */
export function parseMemory(value: string | number, what = 'memory'): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${what} must be a whole number of bytes, got ${value}`);
    return value;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(String(value).trim());
  if (!m) throw new Error(`${what} "${value}" is not a size: use e.g. "128m", "1g" or a number of bytes`);
  return Math.round(Number(m[1]) * MEM_UNITS[m[2].toLowerCase()]);
}

/** Parses CPUs ("0.5", 2) into NanoCPUs. */
export function parseCpus(value: string | number, what = 'cpus'): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} "${value}" must be a positive number of CPUs, e.g. 0.5`);
  return Math.round(n * 1e9);
}
