/**
 * The Dockerfile subset the in-process OCI builder makes without running a container, parsed with
 * dockerfile-ast. Two pure steps:
 *
 *   planDockerfile(text)        → { kind: 'oci', from, instructions } or { kind: 'engine', reason }
 *   evaluateDockerfile(plan, …) → the image config and one copy step (layer) per COPY/ADD, for one
 *                                 platform, with build args and the base image's config applied
 *
 * Supported: one FROM (scratch or a registry image), COPY/ADD of local files and folders (--chown
 * with ids, or names from the base image's /etc/passwd and /etc/group (users.ts), --chmod, --link),
 * ENV, ARG, LABEL, USER, WORKDIR, EXPOSE, VOLUME, HEALTHCHECK, ENTRYPOINT, CMD, STOPSIGNAL.
 * Everything else (RUN, multi-stage, COPY --from, ONBUILD, SHELL, ADD of a URL or an archive,
 * heredocs) goes to the Engine builder, with the reason.
 */
import * as path from 'node:path';
import { DockerfileParser, Instruction } from 'dockerfile-ast';
import { UserDb, isNumericOwner, resolveOwner } from './users';
import { Vars, WordError, parseJsonForm, processWord, processWords } from './words';

export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` section of an OCI/Docker image config (the fields this builder sets or inherits). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: Healthcheck;
  [key: string]: unknown;
}

export interface RawInstruction {
  keyword: string;
  /** Arguments without flags, continuation lines joined. */
  args: string;
  flags: Record<string, string | null>;
  /** 1-based line, for messages. */
  line: number;
  /** The instruction as written (one line), for the image history. */
  text: string;
}

export type DockerfilePlan =
  | { kind: 'oci'; from: string; stage?: string; preFromArgs: RawInstruction[]; instructions: RawInstruction[]; escape: string }
  | { kind: 'engine'; reason: string };

const METADATA = new Set(['ENV', 'ARG', 'LABEL', 'USER', 'WORKDIR', 'EXPOSE', 'VOLUME', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD', 'STOPSIGNAL']);
const COPY_FLAGS = new Set(['chown', 'chmod', 'link']);
const ARCHIVE_RE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$/i;

function raw(instruction: Instruction): RawInstruction {
  const flags: Record<string, string | null> = {};
  const withFlags = instruction as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  for (const f of withFlags.getFlags?.() ?? []) flags[f.getName()] = f.getValue();
  const line = instruction.getRange().start.line + 1;
  const args = instruction.getArgumentsContent() ?? '';
  const flagText = Object.entries(flags)
    .map(([k, v]) => `--${k}${v === null ? '' : `=${v}`} `)
    .join('');
  return {
    keyword: instruction.getKeyword().toUpperCase(),
    args,
    flags,
    line,
    text: `${instruction.getKeyword().toUpperCase()} ${flagText}${args.replace(/\s*\n\s*/g, ' ')}`.trim(),
  };
}

const engine = (reason: string): DockerfilePlan => ({ kind: 'engine', reason });

/** Parses a Dockerfile and decides whether the OCI builder can make it. */
export function planDockerfile(text: string, opts: { target?: string } = {}): DockerfilePlan {
  const dockerfile = DockerfileParser.parse(text);
  const all = dockerfile.getInstructions().map(raw);
  const fromIndex = all.findIndex((i) => i.keyword === 'FROM');
  if (fromIndex < 0) return engine('the Dockerfile has no FROM');
  const preFromArgs = all.slice(0, fromIndex);
  const bad = preFromArgs.find((i) => i.keyword !== 'ARG');
  if (bad) return engine(`line ${bad.line}: ${bad.keyword} before FROM`);
  const froms = all.filter((i) => i.keyword === 'FROM');
  if (froms.length > 1) return engine(`line ${froms[1].line}: a multi-stage build (${froms.length} FROM instructions)`);
  const from = all[fromIndex];
  const platformFlag = from.flags.platform;
  if (platformFlag !== undefined && platformFlag !== '$TARGETPLATFORM' && platformFlag !== '${TARGETPLATFORM}') {
    return engine(`line ${from.line}: FROM --platform=${platformFlag ?? ''}`);
  }
  const fromWords = from.args.trim().split(/\s+/);
  let stage: string | undefined;
  if (fromWords.length === 3 && fromWords[1].toUpperCase() === 'AS') stage = fromWords[2];
  else if (fromWords.length !== 1) return engine(`line ${from.line}: FROM ${from.args} is not "FROM image [AS name]"`);
  if (opts.target && opts.target !== stage) return engine(`target "${opts.target}" is not the Dockerfile's only stage`);

  const instructions = all.slice(fromIndex + 1);
  for (const ins of instructions) {
    const at = `line ${ins.line}: ${ins.keyword}`;
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      if (/^\s*<</.test(ins.args) || /\s<<[-~]?["']?[A-Za-z]/.test(` ${ins.args}`)) return engine(`${at} with a here-document`);
      if ('from' in ins.flags) return engine(`${at} --from (multi-stage)`);
      const unknown = Object.keys(ins.flags).find((f) => !COPY_FLAGS.has(f));
      if (unknown) return engine(`${at} --${unknown}`);
      if (ins.keyword === 'ADD') {
        const sources = (parseJsonForm(ins.args) ?? ins.args.trim().split(/\s+/)).slice(0, -1);
        const url = sources.find((s) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s));
        if (url) return engine(`${at} of a URL (${url})`);
        const archive = sources.find((s) => ARCHIVE_RE.test(s));
        if (archive) return engine(`${at} of an archive (${archive}; ADD unpacks it)`);
      }
      continue;
    }
    if (ins.keyword === 'HEALTHCHECK') {
      const unknown = Object.keys(ins.flags).find((f) => !['interval', 'timeout', 'start-period', 'start-interval', 'retries'].includes(f));
      if (unknown) return engine(`${at} --${unknown}`);
      continue;
    }
    if (METADATA.has(ins.keyword)) {
      if (Object.keys(ins.flags).length > 0 && ins.keyword !== 'HEALTHCHECK') {
        return engine(`${at} with flags (--${Object.keys(ins.flags)[0]})`);
      }
      continue;
    }
    return engine(`${at}${ins.keyword === 'RUN' ? ' needs a container' : " is not in the OCI builder's subset"}`);
  }
  return { kind: 'oci', from: fromWords[0], stage, preFromArgs, instructions, escape: dockerfile.getEscapeCharacter() };
}

/** Thrown by evaluateDockerfile when something only the engine can do shows up after expansion. */
export class NeedsEngine extends Error {}
/** A Dockerfile error (the build fails; the engine would fail too). */
export class DockerfileError extends Error {}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new Error(`"${text}" is not os/arch[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export interface CopyStep {
  instruction: 'COPY' | 'ADD';
  /** Context-relative, posix, cleaned; may hold wildcards. */
  sources: string[];
  /** Absolute destination in the image. */
  dest: string;
  /** Destination is a directory (ends with "/" or several sources / a wildcard). */
  destIsDir: boolean;
  chown?: { uid: number; gid: number };
  chmod?: number;
  line: number;
}

export interface HistoryEntry {
  created_by: string;
  empty_layer?: boolean;
  comment?: string;
}

export interface EvaluatedDockerfile {
  config: ContainerConfig;
  /** One per layer, in order. */
  copies: CopyStep[];
  /** One per instruction after FROM; copies are the non-empty ones. */
  history: HistoryEntry[];
  /** Build args given but not declared with ARG (docker warns about these). */
  unusedBuildArgs: string[];
}

/** Predefined platform ARGs (BuildKit's automatic ones), available once declared with ARG. */
export function platformArgs(platform: Platform, buildPlatform: Platform): Record<string, string> {
  return {
    TARGETPLATFORM: formatPlatform(platform),
    TARGETOS: platform.os,
    TARGETARCH: platform.architecture,
    TARGETVARIANT: platform.variant ?? '',
    BUILDPLATFORM: formatPlatform(buildPlatform),
    BUILDOS: buildPlatform.os,
    BUILDARCH: buildPlatform.architecture,
    BUILDVARIANT: buildPlatform.variant ?? '',
  };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go duration ("5s", "1m30s", "500ms") → nanoseconds. */
export function parseDuration(text: string): number {
  let rest = text.trim();
  if (rest === '0') return 0;
  let total = 0;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new DockerfileError(`"${text}" is not a duration (e.g. 5s, 1m30s)`);
    total += parseFloat(m[1]) * UNIT_NS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

function parseOwner(text: string, at: string, users: UserDb | undefined): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (m) {
    const uid = Number(m[1]);
    return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
  }
  if (!users) throw new NeedsEngine(`${at} --chown=${text} names a user or group and no user database was read`);
  return resolveOwner(text, users, at);
}

/**
 * Whether a build must read the base image's /etc/passwd and /etc/group: some COPY/ADD --chown is not
 * written with ids only (a variable counts: it may expand to a name).
 */
export function needsUserDb(plan: Extract<DockerfilePlan, { kind: 'oci' }>): boolean {
  return plan.instructions.some(
    (ins) => (ins.keyword === 'COPY' || ins.keyword === 'ADD') && typeof ins.flags.chown === 'string' && !isNumericOwner(ins.flags.chown),
  );
}

function parseMode(text: string, at: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw new NeedsEngine(`${at} --chmod=${text} is not an octal mode`);
  return parseInt(text, 8);
}

function cleanSource(src: string, at: string): string {
  const cleaned = path.posix.normalize(`/${src}`).slice(1).replace(/\/+$/, '') || '.';
  if (path.posix.normalize(src).startsWith('..')) throw new DockerfileError(`${at} ${src}: forbidden path outside the build context`);
  return cleaned;
}

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** key=value pairs of ENV/LABEL/ARG (or the legacy "ENV key value"). */
function pairs(args: string, vars: Vars, escape: string, legacy: boolean, at: string): [string, string | undefined][] {
  const words = processWords(args, vars, { escape });
  if (words.length === 0) throw new DockerfileError(`${at} needs at least one argument`);
  if (legacy && !words[0].includes('=')) {
    // "ENV key value with spaces": the rest of the line, processed as one word
    const rest = args.trim().slice(args.trim().split(/\s+/)[0].length).trim();
    return [[words[0], processWord(rest, vars, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/**
 * Applies the instructions after FROM to the base image's config (scratch: undefined), for one
 * platform. Throws DockerfileError (the build fails) or NeedsEngine (auto falls back to the engine).
 */
export function evaluateDockerfile(
  plan: Extract<DockerfilePlan, { kind: 'oci' }>,
  opts: {
    platform: Platform;
    buildPlatform?: Platform;
    buildArgs: Record<string, string>;
    base?: ContainerConfig;
    /** The base image's users and groups, for --chown names (needsUserDb); without it a name needs the engine. */
    users?: UserDb;
  },
): EvaluatedDockerfile {
  const config: ContainerConfig = JSON.parse(JSON.stringify(opts.base ?? {})) as ContainerConfig;
  const env = envMap(config.Env);
  const args = new Map<string, string>();
  const predefined = platformArgs(opts.platform, opts.buildPlatform ?? opts.platform);
  const usedArgs = new Set<string>();
  const copies: CopyStep[] = [];
  const history: HistoryEntry[] = [];
  let cmdSet = false;
  const escape = plan.escape;
  const vars = (): Vars => new Map([...args, ...env]);
  const setEnv = () => {
    config.Env = [...env].map(([k, v]) => `${k}=${v}`);
  };

  for (const ins of plan.instructions) {
    const at = `line ${ins.line}: ${ins.keyword}`;
    try {
      switch (ins.keyword) {
        case 'ARG':
          for (const [name, value] of pairs(ins.args, vars(), escape, false, at)) {
            usedArgs.add(name);
            const given = opts.buildArgs[name] ?? predefined[name];
            args.set(name, given ?? value ?? '');
          }
          break;
        case 'ENV':
          for (const [name, value] of pairs(ins.args, vars(), escape, true, at)) {
            if (value === undefined) throw new DockerfileError(`${at} ${name} has no value`);
            env.set(name, value);
          }
          setEnv();
          break;
        case 'LABEL':
          config.Labels = { ...(config.Labels ?? {}) };
          for (const [name, value] of pairs(ins.args, vars(), escape, true, at)) {
            if (value === undefined) throw new DockerfileError(`${at} ${name} has no value`);
            config.Labels[name] = value;
          }
          break;
        case 'USER':
          config.User = processWord(ins.args.trim(), vars(), escape);
          break;
        case 'WORKDIR': {
          const dir = processWord(ins.args.trim(), vars(), escape);
          config.WorkingDir = path.posix.normalize(path.posix.isAbsolute(dir) ? dir : path.posix.join(config.WorkingDir || '/', dir));
          break;
        }
        case 'EXPOSE':
          config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
          for (const port of processWords(ins.args, vars(), { escape })) {
            const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(port);
            if (!m) throw new DockerfileError(`${at} ${port} is not port[/protocol]`);
            const proto = (m[3] ?? 'tcp').toLowerCase();
            for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) config.ExposedPorts[`${p}/${proto}`] = {};
          }
          break;
        case 'VOLUME': {
          const vols = parseJsonForm(ins.args)?.map((v) => processWord(v, vars(), escape)) ?? processWords(ins.args, vars(), { escape });
          config.Volumes = { ...(config.Volumes ?? {}) };
          for (const v of vols) {
            if (!v.trim()) throw new DockerfileError(`${at} has an empty volume`);
            config.Volumes[v] = {};
          }
          break;
        }
        case 'STOPSIGNAL':
          config.StopSignal = processWord(ins.args.trim(), vars(), escape);
          break;
        case 'ENTRYPOINT':
          config.Entrypoint = parseJsonForm(ins.args) ?? ['/bin/sh', '-c', ins.args.trim()];
          if (!cmdSet) config.Cmd = null;
          break;
        case 'CMD':
          config.Cmd = parseJsonForm(ins.args) ?? ['/bin/sh', '-c', ins.args.trim()];
          cmdSet = true;
          break;
        case 'HEALTHCHECK': {
          const rest = ins.args.trim();
          const sub = rest.split(/\s+/)[0].toUpperCase();
          if (sub === 'NONE') {
            if (rest.split(/\s+/).length > 1 || Object.keys(ins.flags).length) throw new DockerfileError(`${at} NONE takes no arguments`);
            config.Healthcheck = { Test: ['NONE'] };
            break;
          }
          if (sub !== 'CMD') throw new DockerfileError(`${at} must be "HEALTHCHECK [options] CMD command" or "HEALTHCHECK NONE"`);
          const command = rest.slice(3).trim();
          const json = parseJsonForm(command);
          const hc: Healthcheck = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', command] };
          const dur = (flag: string) => {
            const v = ins.flags[flag];
            return v === undefined || v === null ? undefined : parseDuration(v);
          };
          const interval = dur('interval');
          const timeout = dur('timeout');
          const startPeriod = dur('start-period');
          const startInterval = dur('start-interval');
          if (interval !== undefined) hc.Interval = interval;
          if (timeout !== undefined) hc.Timeout = timeout;
          if (startPeriod !== undefined) hc.StartPeriod = startPeriod;
          if (startInterval !== undefined) hc.StartInterval = startInterval;
          const retries = ins.flags.retries;
          if (retries !== undefined && retries !== null) {
            if (!/^\d+$/.test(retries) || Number(retries) < 1) throw new DockerfileError(`${at} --retries must be at least 1`);
            hc.Retries = Number(retries);
          }
          config.Healthcheck = hc;
          break;
        }
        case 'COPY':
        case 'ADD': {
          const json = parseJsonForm(ins.args);
          const words = json ? json.map((w) => processWord(w, vars(), escape)) : processWords(ins.args, vars(), { escape });
          if (words.length < 2) throw new DockerfileError(`${at} requires at least two arguments, but got ${words.length}`);
          const rawDest = words[words.length - 1];
          const sources = words.slice(0, -1).map((s) => cleanSource(s, at));
          const wildcard = sources.some((s) => /[*?[]/.test(s));
          const destIsDir = rawDest.endsWith('/') || sources.length > 1 || wildcard || rawDest === '.';
          const dest = path.posix
            .normalize(path.posix.isAbsolute(rawDest) ? rawDest : path.posix.join(config.WorkingDir || '/', rawDest))
            .replace(/(.)\/+$/, '$1');
          const step: CopyStep = { instruction: ins.keyword, sources, dest, destIsDir, line: ins.line };
          const chown = ins.flags.chown;
          if (chown !== undefined && chown !== null) step.chown = parseOwner(processWord(chown, vars(), escape), at, opts.users);
          const chmod = ins.flags.chmod;
          if (chmod !== undefined && chmod !== null) step.chmod = parseMode(processWord(chmod, vars(), escape), at);
          copies.push(step);
          history.push({ created_by: `${ins.text} # nx-swarm oci` });
          continue;
        }
      }
    } catch (error) {
      if (error instanceof WordError) throw new DockerfileError(`${at}: ${error.message}`);
      throw error;
    }
    history.push({ created_by: `${ins.text} # nx-swarm oci`, empty_layer: true });
  }
  const unusedBuildArgs = Object.keys(opts.buildArgs)
    .filter((a) => !usedArgs.has(a))
    .sort();
  return { config, copies, history, unusedBuildArgs };
}

/** The FROM reference with the ARGs declared before FROM expanded. */
export function resolveFrom(plan: Extract<DockerfilePlan, { kind: 'oci' }>, buildArgs: Record<string, string>, platform: Platform): string {
  const args = new Map<string, string>();
  const predefined = platformArgs(platform, platform);
  for (const ins of plan.preFromArgs) {
    for (const [name, value] of pairs(ins.args, args, plan.escape, false, `line ${ins.line}: ARG`)) {
      args.set(name, buildArgs[name] ?? predefined[name] ?? value ?? '');
    }
  }
  for (const [k, v] of Object.entries(predefined)) if (!args.has(k)) args.set(k, v);
  return processWord(plan.from, args, plan.escape);
}

/**
 * The images any Dockerfile pulls (for the Engine builder's registry credentials): every FROM that
 * is not `scratch` or an earlier stage, and every `COPY --from=` that names an image rather than a
 * stage. Names are expanded with the pre-FROM ARGs and the build args; one that can't be (an unknown
 * variable left empty) is left out. Never throws: a Dockerfile the engine will reject gets its
 * error from the engine.
 */
export function imagesPulledBy(text: string, buildArgs: Record<string, string>): string[] {
  let all: RawInstruction[];
  let escape = '\\';
  try {
    const dockerfile = DockerfileParser.parse(text);
    escape = dockerfile.getEscapeCharacter();
    all = dockerfile.getInstructions().map(raw);
  } catch {
    return [];
  }
  const args = new Map<string, string>();
  const firstFrom = all.findIndex((i) => i.keyword === 'FROM');
  for (const ins of all.slice(0, firstFrom < 0 ? 0 : firstFrom)) {
    if (ins.keyword !== 'ARG') continue;
    try {
      for (const [name, value] of pairs(ins.args, args, escape, false, `line ${ins.line}: ARG`)) args.set(name, buildArgs[name] ?? value ?? '');
    } catch {
      /* the engine reports it */
    }
  }
  const stages: string[] = [];
  const images = new Set<string>();
  const expand = (word: string): string | undefined => {
    try {
      const value = processWord(word, args, escape);
      return value && !/\s/.test(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const isStage = (name: string) => stages.includes(name.toLowerCase()) || /^\d+$/.test(name);
  for (const ins of all) {
    if (ins.keyword === 'FROM') {
      const [image, as, stage] = ins.args.trim().split(/\s+/);
      const name = image ? expand(image) : undefined;
      if (name && name.toLowerCase() !== 'scratch' && !isStage(name)) images.add(name);
      stages.push(as?.toLowerCase() === 'as' && stage ? stage.toLowerCase() : `#${stages.length}`);
    } else if ((ins.keyword === 'COPY' || ins.keyword === 'ADD') && typeof ins.flags.from === 'string') {
      const name = expand(ins.flags.from);
      if (name && !isStage(name)) images.add(name);
    }
  }
  return [...images];
}
