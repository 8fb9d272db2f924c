/**
 * Secrets and configs: the options → resolved objects (content read, hashed, named), the objects
 * the deploy must create, the ContainerSpec references, and which old versions may be deleted.
 * Swarm objects are immutable (moby#35048: "only updates to Labels are allowed"), so a content
 * change is a new object under a content-addressed name, `{service}_{source}_{hash8}`, and the
 * service update moves the tasks onto it. Pure, except for the injected file reader.
 *
 * A secret's content lives in one place only: `ResolvedObject.data`, which goes to the engine's
 * create call and nowhere else (no line, report, receipt or error carries it).
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ObjectRefOption } from './options';

export type ObjectKind = 'secret' | 'config';

/** Labels on the objects the plugin creates (and the label filter it lists them by). */
export const OBJECT_LABELS = {
  managedBy: 'io.nx-swarm.managed-by',
  service: 'io.nx-swarm.service',
  source: 'io.nx-swarm.source',
  project: 'io.nx-swarm.project',
  hash: 'io.nx-swarm.content-sha256',
} as const;

export interface ResolvedObject {
  kind: ObjectKind;
  /** The option's `source`. */
  source: string;
  /** The object's name in the swarm. */
  name: string;
  /** An existing object the plugin neither creates nor deletes. */
  external: boolean;
  /** Content (created objects only). Never printed. */
  data?: Buffer;
  /** sha256 of the content, hex (created objects only). */
  sha256?: string;
  /** Where the content came from, for messages: `file accountservice/greeting.txt`, `env ADMIN_TOKEN`. */
  origin: string;
  /** File in the container: secrets relative to /run/secrets or absolute; configs absolute. */
  target: string;
  uid: string;
  gid: string;
  mode: number;
  labels: Record<string, string>;
}

/** What an object the plugin reads from the swarm looks like (secrets and configs alike). */
export interface ObjectSummary {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
  CreatedAt?: string;
}

/** The ContainerSpec.Secrets / Configs entry (Engine API). */
export interface ObjectReferenceSpec {
  File: { Name: string; UID: string; GID: string; Mode: number };
  SecretID?: string;
  SecretName?: string;
  ConfigID?: string;
  ConfigName?: string;
}

export interface ResolveContext {
  service: string;
  projectName: string;
  workspaceRoot: string;
  env: NodeJS.ProcessEnv;
  /** Reads a file (undefined: it does not exist). */
  readFile: (absolutePath: string) => Buffer | undefined;
}

/** Swarm object names: at most 64 characters of [a-zA-Z0-9_.-], starting alphanumeric. */
const MAX_NAME = 64;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `{service}_{source}_{hash8}`, shortened (service and source) to fit swarm's 64 characters. */
export function objectName(service: string, source: string, sha256: string): string {
  const hash = sha256.slice(0, 8);
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9_.-]/g, '-');
  let svc = clean(service);
  let src = clean(source);
  const room = MAX_NAME - hash.length - 2;
  if (svc.length + src.length > room) {
    const half = Math.floor(room / 2);
    if (svc.length > half && src.length > half) {
      svc = svc.slice(0, half);
      src = src.slice(0, room - half);
    } else if (svc.length > half) svc = svc.slice(0, room - src.length);
    else src = src.slice(0, room - svc.length);
  }
  return `${svc}_${src}_${hash}`;
}

/** The source an object name of ours belongs to (prefix `{service}_{source}_`), for drift lines. */
export function isVersionOf(name: string, service: string, source: string): boolean {
  return new RegExp(`^${escapeRe(objectName(service, source, '00000000').slice(0, -8))}[0-9a-f]{8}$`).test(name);
}

/** Two content-addressed versions of one source: the same `{service}_{source}_` prefix, 8 hex each. */
export const sameSource = (a: string, b: string): boolean => /_[0-9a-f]{8}$/.test(a) && /_[0-9a-f]{8}$/.test(b) && a.slice(0, -8) === b.slice(0, -8);

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function parseMode(mode: number | string | undefined, at: string, problems: string[]): number {
  if (mode === undefined) return 0o444;
  if (typeof mode === 'number') {
    if (Number.isInteger(mode) && mode >= 0 && mode <= 0o777) return mode;
  } else if (/^0?[0-7]{3}$/.test(mode.trim())) return parseInt(mode.trim(), 8);
  problems.push(`${at}.mode ${JSON.stringify(mode)} is not a file mode: use an octal string such as "0400", or a number such as 256 (0o400)`);
  return 0o444;
}

/**
 * The options' secrets or configs → resolved objects, or every problem (missing file, unset
 * variable, two ways to give the content, duplicate sources or targets). Needs no engine.
 */
export function resolveObjects(
  kind: ObjectKind,
  refs: ObjectRefOption[] | undefined,
  ctx: ResolveContext,
): { objects: ResolvedObject[]; problems: string[] } {
  const key = `${kind}s`;
  const problems: string[] = [];
  const objects: ResolvedObject[] = [];
  const sources = new Set<string>();
  const targets = new Set<string>();
  (refs ?? []).forEach((ref, i) => {
    const at = `${key}[${i}]`;
    const src = typeof ref.source === 'string' ? ref.source.trim() : '';
    if (!src || !NAME_RE.test(src)) {
      problems.push(`${at}.source ${JSON.stringify(ref.source)} must be a name of letters, digits, "_", "." and "-" (e.g. "db_password")`);
      return;
    }
    if (sources.has(src)) problems.push(`${at}: ${kind} "${src}" is listed twice`);
    sources.add(src);
    const ways = [ref.file !== undefined && 'file', ref.env !== undefined && 'env', ref.external && 'external'].filter(Boolean);
    if (ways.length !== 1) {
      problems.push(
        ways.length
          ? `${at} (${src}) gives its content ${ways.length} ways (${ways.join(', ')}): use exactly one of file, env and external`
          : `${at} (${src}) needs its content: "file" (a workspace path), "env" (an environment variable) or "external": true (an existing ${kind})`,
      );
      return;
    }
    if (ref.name !== undefined && !ref.external) problems.push(`${at}.name only applies with "external": true (the name of the existing ${kind})`);
    const target = ref.target?.trim() || (kind === 'secret' ? src : `/${src}`);
    if (kind === 'config' && !target.startsWith('/'))
      problems.push(`${at}.target must be an absolute path in the container, got ${JSON.stringify(ref.target)}`);
    const fullTarget = kind === 'secret' && !target.startsWith('/') ? `/run/secrets/${target}` : target;
    if (targets.has(fullTarget)) problems.push(`${at}: two ${key} are mounted at ${fullTarget}`);
    targets.add(fullTarget);
    const base = {
      kind,
      source: src,
      target,
      uid: ref.uid ?? '0',
      gid: ref.gid ?? '0',
      mode: parseMode(ref.mode, at, problems),
    };
    if (ref.external) {
      const name = ref.name?.trim() || src;
      objects.push({ ...base, name, external: true, origin: `external ${kind} ${name}`, labels: {} });
      return;
    }
    let data: Buffer | undefined;
    let origin: string;
    if (ref.file !== undefined) {
      const abs = path.resolve(ctx.workspaceRoot, ref.file);
      origin = `file ${path.relative(ctx.workspaceRoot, abs) || ref.file}`;
      data = ctx.readFile(abs);
      if (data === undefined)
        problems.push(`${at}.file: ${origin.slice(5)} does not exist (${kind} "${src}"); create it or fix the path (relative to the workspace root)`);
    } else {
      origin = `env ${ref.env}`;
      const v = ctx.env[ref.env!];
      if (v === undefined)
        problems.push(`${at}.env: the environment variable ${ref.env} is not set (${kind} "${src}"); set it, e.g. from your CI's secret store`);
      else data = Buffer.from(v, 'utf8');
    }
    if (data !== undefined && data.length > 500 * 1024) {
      problems.push(`${at}: ${kind} "${src}" (${origin}) is ${data.length} bytes; swarm takes at most 500 KiB per ${kind}`);
    }
    if (data === undefined) return;
    const sha256 = createHash('sha256').update(data).digest('hex');
    objects.push({
      ...base,
      name: objectName(ctx.service, src, sha256),
      external: false,
      data,
      sha256,
      origin,
      labels: {
        [OBJECT_LABELS.managedBy]: 'nx-swarm',
        [OBJECT_LABELS.service]: ctx.service,
        [OBJECT_LABELS.source]: src,
        [OBJECT_LABELS.project]: ctx.projectName,
        [OBJECT_LABELS.hash]: sha256,
      },
    });
  });
  return { objects, problems };
}

/** The ContainerSpec entry of an object, with its ID (the engine needs both ID and name). */
export function referenceSpec(o: Pick<ResolvedObject, 'kind' | 'name' | 'target' | 'uid' | 'gid' | 'mode'>, id: string): ObjectReferenceSpec {
  const File = { Name: o.target, UID: o.uid, GID: o.gid, Mode: o.mode };
  return o.kind === 'secret' ? { File, SecretID: id, SecretName: o.name } : { File, ConfigID: id, ConfigName: o.name };
}

/** The object name a ContainerSpec entry refers to. */
export const referencedName = (r: ObjectReferenceSpec): string => r.SecretName ?? r.ConfigName ?? '';

export interface ObjectPlan {
  /** Objects to create before the service is written. */
  create: ResolvedObject[];
  /** External objects that don't exist: the deploy can't go on. */
  missing: ResolvedObject[];
  /** name → ID of the objects that exist. */
  ids: Record<string, string>;
  /** One line per added or changed object, in the plan's words (no content). */
  lines: string[];
}

/**
 * Desired objects vs what the swarm has (the objects with our names, and the external ones) and what
 * the service mounts now → what to create, and the plan's lines. Pure.
 */
export function planObjects(desired: ResolvedObject[], existing: ObjectSummary[], mounted: ObjectReferenceSpec[] = []): ObjectPlan {
  const byName = new Map(existing.map((o) => [o.Spec.Name, o]));
  const mountedNames = new Set(mounted.map(referencedName));
  const plan: ObjectPlan = { create: [], missing: [], ids: {}, lines: [] };
  for (const o of desired) {
    const found = byName.get(o.name);
    if (found) plan.ids[o.name] = found.ID;
    else if (o.external) plan.missing.push(o);
    else plan.create.push(o);
    if (mountedNames.has(o.name)) continue;
    if (o.external) {
      plan.lines.push(`${o.kind} ${o.source}: mounts the existing ${o.kind} ${o.name}`);
      continue;
    }
    // Changed: the service mounts an older version of this source (a name of ours with another hash).
    const service = o.labels[OBJECT_LABELS.service];
    const older = [...mountedNames].find((n) => isVersionOf(n, service, o.source));
    const version = found ? `version ${o.name}` : `new version ${o.name}`;
    plan.lines.push(older ? `${o.kind} ${o.source}: content changed (${version})` : `${o.kind} ${o.source}: added (${version}, from ${o.origin})`);
  }
  return plan;
}

/**
 * The versions of our objects that may be deleted: created by the plugin for this service, and used
 * by no service (Spec or PreviousSpec: a service mid-rollback still needs its old version) and by
 * no release in the history. Pure.
 */
export function prunable(ours: ObjectSummary[], inUse: Set<string>): ObjectSummary[] {
  return ours.filter((o) => o.Spec.Labels?.[OBJECT_LABELS.managedBy] === 'nx-swarm' && !inUse.has(o.Spec.Name));
}

/** The object names a service spec refers to (secrets and configs). */
export function namesInSpec(spec: { TaskTemplate?: { ContainerSpec?: { Secrets?: unknown; Configs?: unknown } } } | undefined): string[] {
  const cs = spec?.TaskTemplate?.ContainerSpec;
  return [...((cs?.Secrets as ObjectReferenceSpec[] | undefined) ?? []), ...((cs?.Configs as ObjectReferenceSpec[] | undefined) ?? [])].map(
    referencedName,
  );
}
