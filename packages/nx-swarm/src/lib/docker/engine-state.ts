/**
 * The engine state that the cacheable `image` and `deploy` targets depend on, as the text that their
 * hasher (engine-state-hasher.ts) adds to Nx's hash. It lists, for what the project's state record
 * names (lib/common/state-record.ts): the tags and ids of its images, its services' id, version,
 * update state and running tasks, and one digest over the files and environment variables the last
 * deploy read. Values are hashed, never printed.
 *
 * When that can't be known cheaply and for sure (no record yet, an npipe endpoint, ssh:// without a
 * kept connection, an engine that does not answer, a record marked uncacheable) the text is a fresh
 * random line instead: the task then always runs, as it did before it was cacheable. It never
 * fails: a failing hasher would make every task in the run fail.
 *
 * Raw Engine API requests over node:http: no dockerode, so the check costs three requests inside the
 * Nx process (about 40 ms here; over ssh:// a session on the kept connection, about 0.2 s in the lab).
 */
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { readTextOrUndefined } from '../common/fs';
import { checkMemoPath, parseStateRecord, stateRecordPath, type StateRecord } from '../common/state-record';
import { describeEndpoint, resolveDockerEndpoint, type DockerEndpoint, type EndpointEnv } from './endpoint';

const readText = readTextOrUndefined;

/** GET an Engine API path and parse its JSON; rejects on a non-2xx status or after the timeout. */
export type EngineGet = (apiPath: string) => Promise<unknown>;

export interface EngineFacts {
  images: Array<{ Id: string; RepoTags?: string[] | null }>;
  /** Pushed references and the manifest digest the registry answers for them ("absent" when it has none). */
  registry?: Array<{ ref: string; digest: string }>;
  services: Array<{ name: string; id?: string; version?: number; update?: string }>;
  tasks: Array<{ service: string; id: string; state: string }>;
}

/** The lines Nx hashes, from the record and what the engine said. Pure. */
export function engineStateLines(
  record: StateRecord,
  endpoint: string,
  facts: EngineFacts,
  inputsDigest: string | undefined,
  plugin: string,
): string[] {
  const lines = [`nx-swarm engine state 1 (${plugin})`, `endpoint ${endpoint}`];
  if (record.image) {
    lines.push(`image nonce ${record.image.nonce}`);
    const repos = new Set(record.image.repositories);
    const tagged: string[] = [];
    for (const img of facts.images) for (const t of img.RepoTags ?? []) if (repos.has(repoOf(t))) tagged.push(`image ${t} ${img.Id}`);
    lines.push(...tagged.sort());
    for (const r of [...(facts.registry ?? [])].sort((a, b) => a.ref.localeCompare(b.ref))) lines.push(`registry ${r.ref} ${r.digest}`);
  }
  if (record.deploy) {
    for (const s of [...facts.services].sort((a, b) => a.name.localeCompare(b.name))) {
      lines.push(s.id ? `service ${s.name} id ${s.id} version ${s.version} update ${s.update ?? 'none'}` : `service ${s.name} absent`);
    }
    lines.push(...facts.tasks.map((t) => `task ${t.service} ${t.id} ${t.state}`).sort());
    lines.push(`read ${record.deploy.files.length} files, ${record.deploy.env.length} variables: ${inputsDigest ?? 'none'}`);
  }
  return lines;
}

/** "host:5000/a/b:tag" → "host:5000/a/b"; digests are not tags. Pure. */
export function repoOf(tagged: string): string {
  const at = tagged.indexOf('@');
  const ref = at >= 0 ? tagged.slice(0, at) : tagged;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

/** One digest over the contents (or, for sockets and devices, owner and mode) of files and the values of variables. */
export function inputsDigest(record: StateRecord['deploy'] & object, workspaceRoot: string, env: NodeJS.ProcessEnv): string {
  const h = createHash('sha256');
  for (const f of [...record.files].sort()) {
    const abs = path.resolve(workspaceRoot, f);
    h.update(`file ${f}\0`);
    try {
      const st = fs.statSync(abs);
      h.update(st.isFile() ? fs.readFileSync(abs) : `stat ${st.uid}:${st.gid} ${st.mode}`);
    } catch {
      h.update('missing');
    }
    h.update('\0');
  }
  for (const name of [...record.env].sort()) h.update(`env ${name}\0${env[name] === undefined ? '\u0001unset' : env[name]}\0`);
  return `sha256:${h.digest('hex')}`;
}

/** The manifest digest a registry answers for `registry/repository:tag`, or undefined when it has none. */
export type RegistryHead = (ref: string) => Promise<string | undefined>;

/** HEAD of the manifest, with the credentials the push used (docker config, credential helpers, tokens). */
export function registryHead(env: NodeJS.ProcessEnv): RegistryHead {
  const { RegistryClient, declaredInsecure } = require('../oci/registry') as typeof import('../oci/registry');
  const { resolveRegistryAuth } = require('./registry-auth') as typeof import('./registry-auth');
  const { registryDomainOf, repositoryPathOf } = require('./reference') as typeof import('./reference');
  const { MEDIA_TYPES } = require('../oci/image') as typeof import('../oci/image');
  const clients = new Map<string, Promise<InstanceType<typeof RegistryClient>>>();
  const clientFor = (domain: string) => {
    let c = clients.get(domain);
    if (!c) {
      c = resolveRegistryAuth(domain, env as Record<string, string | undefined>, readText).then(
        (auth) =>
          new RegistryClient({ domain, credentials: auth.credentials, credentialSource: auth.source, insecure: declaredInsecure(domain, env) }),
      );
      clients.set(domain, c);
    }
    return c;
  };
  const accept = [MEDIA_TYPES.index, MEDIA_TYPES.manifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest];
  return async (ref) => {
    const colon = ref.lastIndexOf(':');
    const repository = ref.slice(0, colon);
    const found = await (await clientFor(registryDomainOf(repository))).headManifest(repositoryPathOf(repository), ref.slice(colon + 1), accept);
    return found?.digest;
  };
}

export async function collectEngineFacts(get: EngineGet, record: StateRecord, head?: RegistryHead): Promise<EngineFacts> {
  const q = (filters: Record<string, string[]>) => encodeURIComponent(JSON.stringify(filters));
  const images = record.image?.repositories.length
    ? ((await get(`/images/json?filters=${q({ reference: record.image.repositories })}`)) as EngineFacts['images'])
    : [];
  const services: EngineFacts['services'] = [];
  const tasks: EngineFacts['tasks'] = [];
  await Promise.all(
    (record.deploy?.services ?? []).map(async (name) => {
      const [found, running] = await Promise.all([
        get(`/services?filters=${q({ name: [name] })}`) as Promise<
          Array<{ ID: string; Version?: { Index?: number }; Spec?: { Name?: string }; UpdateStatus?: { State?: string } }>
        >,
        get(`/tasks?filters=${q({ service: [name], 'desired-state': ['running'] })}`) as Promise<
          Array<{ ID: string; ServiceID?: string; Status?: { State?: string } }>
        >,
      ]);
      const svc = found.find((s) => s.Spec?.Name === name);
      services.push(svc ? { name, id: svc.ID, version: svc.Version?.Index, update: svc.UpdateStatus?.State } : { name });
      for (const t of running) if (svc && t.ServiceID === svc.ID) tasks.push({ service: name, id: t.ID, state: t.Status?.State ?? 'unknown' });
    }),
  );
  const refs = record.image?.registryRefs ?? [];
  const registry = refs.length && head ? await Promise.all(refs.map(async (ref) => ({ ref, digest: (await head(ref)) ?? 'absent' }))) : undefined;
  return { images, services, tasks, ...(registry ? { registry } : {}) };
}

/**
 * A GET over the endpoint's own transport, or undefined when this check does not talk to it: npipe,
 * and ssh:// when the connection is not kept between runs (NX_SWARM_SSH_CONTROL_PERSIST=0: a login
 * for every check would cost more than the task). Over ssh it uses the kept connection that the
 * executors use too (one login for the check and the tasks after it).
 */
export function engineGetter(endpoint: DockerEndpoint, env: NodeJS.ProcessEnv, timeoutMs = 3000): { get: EngineGet; close(): void } | undefined {
  let base: http.RequestOptions;
  let mod: typeof http | typeof https = http;
  let close = () => {};
  if (endpoint.kind === 'unix') base = { socketPath: endpoint.socketPath };
  else if (endpoint.kind === 'ssh') {
    const { controlPersistSeconds } = require('./ssh-command') as typeof import('./ssh-command');
    if (controlPersistSeconds(env) === 0) return undefined;
    const { SshTransport } = require('./ssh-transport') as typeof import('./ssh-transport');
    const ssh = new SshTransport({ host: endpoint.host, port: endpoint.port, username: endpoint.username, socketPath: endpoint.socketPath }, { env });
    if (!ssh.persistS) {
      ssh.close();
      return undefined;
    }
    base = { agent: ssh.agent, host: 'docker.ssh', port: 80 };
    timeoutMs = Math.max(timeoutMs, 35_000); // a login may come first (ConnectTimeout 30 s)
    close = () => ssh.close();
  } else if (endpoint.kind === 'tcp') {
    base = { host: endpoint.host, port: endpoint.port };
    if (endpoint.protocol === 'https') {
      mod = https;
      const read = (p?: string) => (p && fs.existsSync(p) ? fs.readFileSync(p) : undefined);
      Object.assign(base, {
        ca: read(endpoint.tls?.caPath),
        cert: read(endpoint.tls?.certPath),
        key: read(endpoint.tls?.keyPath),
        rejectUnauthorized: endpoint.tls?.verify !== false,
      });
    }
  } else return undefined;
  const get: EngineGet = (apiPath) =>
    new Promise((resolve, reject) => {
      const req = mod.request({ ...base, path: apiPath, method: 'GET', timeout: timeoutMs, headers: { Host: 'docker' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${apiPath}: HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(error as Error);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${apiPath}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  return { get, close };
}

/** What a check leaves for the next one of the same Nx run (see reusableCheck). */
export interface CheckMemo {
  /** The process that runs the checks (Nx's, or its daemon's): pid and start time. */
  owner: string;
  /** sha256 of the state record file when the check ran. */
  record: string;
  endpoint: string;
  at: number;
  text: string;
}

/**
 * The Nx process that runs this run's hashing (the hasher passes its own pid), as `pid:starttime`
 * from /proc. Undefined (then no check reuses another's answer) where there is no /proc, and when
 * that process is the Nx daemon: the daemon serves every `nx` command, so its pid would let one
 * command's answer stand for the next command's (`nx run …:deploy; docker service rm …; nx run
 * …:deploy` inside the window). Pure: `readStat` gives /proc/PID/stat, `readCmdline` /proc/PID/cmdline.
 */
export function checkOwner(
  pid: number,
  readStat: (pid: number) => string | undefined,
  readCmdline: (pid: number) => string | undefined = () => '',
): string | undefined {
  const stat = readStat(pid);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp … ; starttime is field 22 of the whole line
  const cmdline = readCmdline(pid);
  if (cmdline === undefined || /[\\/]daemon[\\/]server[\\/]start\.[jt]s/.test(cmdline)) return undefined;
  return fields[19] ? `${pid}:${fields[19]}` : undefined;
}

/** How long a check's answer stands for the next check of the same process. */
export const CHECK_REUSE_MS = 1500;

/**
 * The earlier check's text when the next check may print it instead of asking the engine again: from
 * the same Nx process (pid and start time), for the same endpoint, under the very same state record,
 * at most CHECK_REUSE_MS ago, and no image or deploy run of the project since (each run deletes the
 * memo first). The window only lets `deploy`'s check reuse the answer `image`'s got a moment before in
 * the same run (about 0.2 s apart here); a change to the engine by anything else inside it is what
 * the check would miss anyway between Nx's hash and the task. Pure.
 */
export function reusableCheck(
  memo: CheckMemo | undefined,
  now: { owner: string; record: string; endpoint: string; at: number },
  windowMs = CHECK_REUSE_MS,
): string | undefined {
  if (!memo || typeof memo.text !== 'string' || memo.text.startsWith('not cacheable')) return undefined;
  if (memo.owner !== now.owner || memo.record !== now.record || memo.endpoint !== now.endpoint) return undefined;
  const age = now.at - memo.at;
  return age >= 0 && age <= windowMs ? memo.text : undefined;
}

export interface EngineStateParams {
  workspaceRoot: string;
  project: string;
  env: NodeJS.ProcessEnv;
  /** What identifies the plugin build (its version and install fingerprint). */
  plugin: string;
  /** Tests: a fake engine and registry. */
  get?: EngineGet;
  head?: RegistryHead;
  nonce?: () => string;
  /** The process that runs Nx's checks (see reusableCheck); without it every check asks the engine. */
  owner?: string;
  now?: () => number;
}

/** The text for Nx to hash. Never throws. */
export async function engineStateText(p: EngineStateParams): Promise<string> {
  const notCached = (why: string) => `not cacheable now: ${why} (${(p.nonce ?? randomUUID)()})`;
  try {
    // Read once: the memo below is keyed by the very text the answer was computed from.
    const recordText = readText(stateRecordPath(p.workspaceRoot, p.project));
    const record = parseStateRecord(recordText);
    if (!record || (!record.image && !record.deploy)) return notCached('no state record yet');
    if (record.deploy?.uncacheable) return notCached(record.deploy.uncacheable);
    const endpoint = resolveDockerEndpoint(p.env as EndpointEnv, readText);
    // The files and variables the deploy read are hashed here, before the memo is asked: it stands
    // for the engine's answers only, never for them.
    const digest = record.deploy ? inputsDigest(record.deploy, p.workspaceRoot, p.env) : undefined;
    const memoFile = checkMemoPath(p.workspaceRoot, p.project);
    const now = {
      owner: p.owner ?? '',
      record: `${createHash('sha256')
        .update(recordText ?? '')
        .digest('hex')} ${digest ?? '-'}`,
      endpoint: `${describeEndpoint(endpoint)} ${p.plugin}`,
      at: (p.now ?? Date.now)(),
    };
    if (p.owner) {
      let memo: CheckMemo | undefined;
      try {
        memo = JSON.parse(fs.readFileSync(memoFile, 'utf8')) as CheckMemo;
      } catch {
        memo = undefined;
      }
      const again = reusableCheck(memo, now);
      if (again !== undefined) return again;
    }
    const getter = p.get ? { get: p.get, close: () => {} } : engineGetter(endpoint, p.env);
    if (!getter) return notCached(`the engine is at ${describeEndpoint(endpoint)}, which this check does not dial`);
    let facts: EngineFacts;
    try {
      facts = await collectEngineFacts(getter.get, record, record.image?.registryRefs?.length ? (p.head ?? registryHead(p.env)) : undefined);
    } finally {
      getter.close();
    }
    const text = engineStateLines(record, describeEndpoint(endpoint), facts, digest, p.plugin).join('\n');
    if (p.owner) writeCheckMemo(memoFile, { ...now, text });
    return text;
  } catch (error) {
    return notCached((error as Error).message);
  }
}

function writeCheckMemo(file: string, memo: CheckMemo): void {
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(memo));
    fs.renameSync(tmp, file);
  } catch {
    /* no memo: the next check asks the engine */
  }
}
