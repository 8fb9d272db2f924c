/**
 * The Go facts server: what keeps the watched walk alive when Nx isolates plugins (its default).
 *
 * With isolation, the Nx daemon starts nx-swarm's plugin worker afresh for every graph computation
 * and stops it after createDependencies, so the worker can't keep a file-system watch: each
 * computation stats every .go file of the workspace again to find what changed (about 200 ms on the
 * benchmark's 10,000-file tree). A worker that the daemon spawned therefore asks this small server,
 * a process of its own beside the daemon, for the modules' facts: it runs the very code createNodes
 * runs in the daemon's own process (plugins not isolated): the module walker with its inotify watch
 * (module-walker.ts), the summaries, the closures. The worker's first computation starts the server and
 * answers by itself; the next ones ask it.
 *
 * The server stops by itself when the daemon that spawned the worker is gone or replaced, when the
 * workspace-data folder is cleared (`nx reset` removes its socket), when the plugin's files change
 * (a worker of another build asks: version mismatch), and after an hour without a question. Anything
 * wrong on the way (no server, a timeout, a malformed answer) and the worker computes by itself, as
 * before: the server can make a computation faster, never different. `NX_SWARM_GO_WATCH=false`
 * turns it off with the rest of the watching.
 *
 * Pure parts (socket path, messages, the "spawned by the daemon" test) are table-tested; the server
 * itself runs over a real socket in its spec.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GoModuleFacts } from '../go-service-targets';
import type { GoMod } from './go-mod';
import type { TargetConfiguration } from '@nx/devkit';

export const FACTS_PROTOCOL = 1;

/** What createNodes needs of one module folder besides its Go facts (plugin.ts reads it). */
export interface ModuleFolderFacts {
  projectJson: {
    hasProjectJson: boolean;
    projectName: string;
    explicitTargets?: Record<string, TargetConfiguration>;
    implicitDependencies?: string[];
  };
  isService: boolean;
  facts: GoModuleFacts;
  /** The go.mod as read (parsed), under its stat key then. */
  goMod?: { key: string; value: GoMod };
}

export interface FactsRequest {
  protocol: number;
  /** The asking plugin's build: a server of another build stops (and the worker starts a new one). */
  version: string;
  roots: string[];
}

export type FactsResponse = { ok: true; modules: Record<string, ModuleFolderFacts> } | { ok: false; reason: string };

/** Unix socket paths are limited (104 bytes on macOS, 108 on Linux); Nx keeps its own under 95. */
const MAX_SOCKET_PATH = 95;

/** Where the server of this workspace listens: in its workspace-data folder, or a short name when that path is too long. */
export function factsSocketPath(
  workspaceDataDir: string,
  workspaceRoot: string,
  platform: NodeJS.Platform = process.platform,
  tmp = os.tmpdir(),
): string {
  const id = createHash('sha1').update(workspaceRoot).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\nx-swarm-go-${id}`;
  const inData = path.join(workspaceDataDir, 'nx-swarm-go.sock');
  return inData.length <= MAX_SOCKET_PATH ? inData : path.join(tmp, `nx-swarm-go-${id}.sock`);
}

/** One request line. */
export function encodeRequest(req: FactsRequest): string {
  return `${JSON.stringify(req)}\n`;
}

/** A request line the server can answer, or undefined. */
export function parseRequest(line: string): FactsRequest | undefined {
  try {
    const r = JSON.parse(line) as Partial<FactsRequest>;
    if (r.protocol !== FACTS_PROTOCOL || typeof r.version !== 'string' || !Array.isArray(r.roots) || !r.roots.every((x) => typeof x === 'string'))
      return undefined;
    return { protocol: r.protocol, version: r.version, roots: r.roots };
  } catch {
    return undefined;
  }
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((y) => typeof y === 'string');

/** The server's answer for these roots, checked: every root there with the fields createNodes reads; else undefined. */
export function parseResponse(line: string, roots: string[]): Record<string, ModuleFolderFacts> | undefined {
  let r: FactsResponse;
  try {
    r = JSON.parse(line) as FactsResponse;
  } catch {
    return undefined;
  }
  if (!r || r.ok !== true || !r.modules || typeof r.modules !== 'object') return undefined;
  for (const root of roots) {
    const m = r.modules[root];
    if (!m || typeof m.isService !== 'boolean' || !m.projectJson || typeof m.projectJson.projectName !== 'string') return undefined;
    if (!m.facts || !Array.isArray(m.facts.diagnostics)) return undefined;
    if (m.facts.buildDeps !== undefined && !isStrings(m.facts.buildDeps)) return undefined;
    if (m.facts.testDeps !== undefined && !isStrings(m.facts.testDeps)) return undefined;
    if (
      m.goMod !== undefined &&
      (typeof m.goMod.key !== 'string' || !m.goMod.value || !Array.isArray(m.goMod.value.requires) || !Array.isArray(m.goMod.value.replaces))
    )
      return undefined;
  }
  return r.modules;
}

/**
 * Whether this process is a plugin worker the Nx daemon spawned: its parent is the daemon that
 * `<workspace-data>/d/server-process.json` names. (The daemon's own process, a CLI's worker, CI: no.)
 */
export function spawnedByDaemon(workspaceDataDir: string, ppid = process.ppid, read = (f: string) => fs.readFileSync(f, 'utf8')): number | undefined {
  try {
    const json = JSON.parse(read(path.join(workspaceDataDir, 'd', 'server-process.json'))) as { processId?: unknown };
    return typeof json.processId === 'number' && json.processId === ppid && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks the server; undefined when there is none, it answers nothing usable within `timeoutMs`, or
 * it is of another build (it then stops). Never throws.
 */
export function askFactsServer(
  socketPath: string,
  req: FactsRequest,
  timeoutMs: number,
): Promise<{ modules?: Record<string, ModuleFolderFacts>; absent: boolean }> {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const finish = (value: { modules?: Record<string, ModuleFolderFacts>; absent: boolean }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const socket = net.createConnection(socketPath);
    const timer = setTimeout(() => finish({ absent: false }), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(encodeRequest(req)));
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      // A server of another build stops on this question: as good as none (start a new one).
      finish(line.includes('"another version"') ? { absent: true } : { modules: parseResponse(line, req.roots), absent: false });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ absent: e.code === 'ENOENT' || e.code === 'ECONNREFUSED' }));
    socket.on('close', () => finish({ absent: false }));
  });
}

export interface FactsServerSeams {
  /** Computed once before the first question (the roots the starting worker had). */
  warmUp?: string[];
  socketPath: string;
  version: string;
  /** The facts of these module roots (plugin.ts: the same code as in the daemon's own process). */
  compute: (roots: string[]) => Promise<Record<string, ModuleFolderFacts>>;
  /** False once the daemon that the server serves is gone or replaced. */
  daemonAlive: () => boolean;
  checkEveryMs: number;
  idleMs: number;
}

/**
 * Runs the server until a stop condition (see the top of this file); resolves with why it stopped.
 * Requests are answered one at a time. Listening fails (another server is there): resolves at once.
 */
export async function runFactsServer(s: FactsServerSeams): Promise<string> {
  if (process.platform !== 'win32') {
    // A live server answers a connection: leave it be. A stale socket file is removed.
    const alive = await new Promise<boolean>((resolve) => {
      const c = net.createConnection(s.socketPath);
      c.on('connect', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (alive) return 'another server is running';
    fs.rmSync(s.socketPath, { force: true });
  }
  let queue = Promise.resolve();
  let warming = false;
  let lastAsked = Date.now();
  let stop: (why: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = parseRequest(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      lastAsked = Date.now();
      if (!req) return void socket.end(`${JSON.stringify({ ok: false, reason: 'bad request' })}\n`);
      if (req.version !== s.version) {
        socket.end(`${JSON.stringify({ ok: false, reason: 'another version' })}\n`);
        return stop('a worker of another plugin build asked');
      }
      // Still walking for the first time (a large workspace takes seconds): the worker is faster on its own.
      if (warming) return void socket.end(`${JSON.stringify({ ok: false, reason: 'warming up' })}\n`);
      queue = queue.then(async () => {
        let answer: FactsResponse;
        try {
          answer = { ok: true, modules: await s.compute(req.roots) };
        } catch (e) {
          answer = { ok: false, reason: String(e) };
        }
        if (!socket.destroyed) socket.end(`${JSON.stringify(answer)}\n`);
      });
    });
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(s.socketPath, () => resolve(true));
  });
  if (!listening) return 'could not listen';
  if (s.warmUp) {
    const roots = s.warmUp;
    warming = true;
    const done = () => void (warming = false);
    queue = queue.then(() => s.compute(roots).then(done, done));
  }
  if (process.platform !== 'win32') fs.chmodSync(s.socketPath, 0o600);
  const check = setInterval(() => {
    if (!s.daemonAlive()) stop('the daemon is gone');
    else if (process.platform !== 'win32' && !fs.existsSync(s.socketPath)) stop('its socket was removed (nx reset)');
    else if (Date.now() - lastAsked > s.idleMs) stop('idle');
  }, s.checkEveryMs);
  const why = await stopped;
  clearInterval(check);
  await queue;
  await new Promise((r) => server.close(r));
  if (process.platform !== 'win32') fs.rmSync(s.socketPath, { force: true });
  return why;
}

/** A worker starts a server at most this often per workspace (one that can't listen or stops at once must not be started by every computation). */
export const START_AT_MOST_EVERY_MS = 60_000;

/** Whether to start a server now, given when one was last started (the marker file's mtime), if ever. */
export function mayStartServer(lastStartedMs: number | undefined, nowMs: number): boolean {
  return lastStartedMs === undefined || nowMs - lastStartedMs >= START_AT_MOST_EVERY_MS || nowMs < lastStartedMs;
}

/** The server's argv after node's: its main file, the workspace, the daemon's pid, the plugin build, and the roots to warm up with when they are short enough for a command line. */
export function factsServerArgs(mainPath: string, workspaceRoot: string, daemonPid: number, version: string, roots: string[]): string[] {
  const json = JSON.stringify(roots);
  return [mainPath, workspaceRoot, String(daemonPid), version, ...(json.length <= MAX_WARM_UP_ARG ? [json] : [])];
}

/** Longer root lists are left out of the server's command line (Windows limits it to 32 KB); the server then warms up on its first question. */
const MAX_WARM_UP_ARG = 16_384;

/** What starting a server needs from the process it runs in (injected in the spec). */
export interface StartSeams {
  /** Starts the server's process detached, with no output; its pid, or undefined when it could not start. */
  spawn: (execPath: string, args: string[], env: NodeJS.ProcessEnv) => number | undefined;
  now: () => number;
  /** When a server was last started (the marker file's mtime), undefined when never. */
  lastStarted: () => number | undefined;
  /** Records a start now (writes the marker file). */
  markStarted: () => void;
}

export interface StartRequest {
  dataDir: string;
  workspaceRoot: string;
  daemonPid: number;
  version: string;
  roots: string[];
  /** facts-server-main.js of this build. */
  mainPath: string;
}

/** The marker file whose mtime says when a worker last started a server for this workspace. */
export const startedMarkerPath = (dataDir: string) => path.join(dataDir, 'nx-swarm-go-server.started');

/** The real seams: node's spawn (detached, no output, watching on), the marker file in workspace-data. */
export function processStartSeams(dataDir: string): StartSeams {
  const marker = startedMarkerPath(dataDir);
  return {
    spawn: (execPath, args, env) => {
      // Loaded here: a worker that finds a server running never needs it.
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      const child = spawn(execPath, args, { detached: true, stdio: 'ignore', env, windowsHide: true });
      child.on('error', () => undefined);
      child.unref();
      return child.pid;
    },
    now: () => Date.now(),
    lastStarted: () => fs.statSync(marker, { throwIfNoEntry: false })?.mtimeMs,
    markStarted: () => {
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(marker, `${process.pid}\n`);
    },
  };
}

/**
 * Starts a Go facts server for the next computations unless one was started less than a minute ago
 * (see mayStartServer). The pid of the started process, or undefined (too soon, or it could not
 * start: every computation then computes by itself, as before). Never throws.
 */
export function startFactsServer(req: StartRequest, seams: StartSeams = processStartSeams(req.dataDir)): number | undefined {
  try {
    if (!mayStartServer(seams.lastStarted(), seams.now())) return undefined;
    seams.markStarted();
    const args = factsServerArgs(req.mainPath, req.workspaceRoot, req.daemonPid, req.version, req.roots);
    return seams.spawn(process.execPath, args, { ...process.env, NX_SWARM_GO_WATCH: 'true' });
  } catch {
    return undefined;
  }
}

/** Whether the process `pid` runs (signal 0: no signal sent). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
