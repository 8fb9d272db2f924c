/**
 * Test support for the multi-node lab (tools/swarm-lab/lab.sh): bring it up when it isn't, talk to
 * its engines, run the open-loop load generator through its nginx edge, read the edge's access log,
 * build and push images with the real docker-image executor, and record figures for
 * docs/reliability.md.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import dockerImageExecutor from '../../../src/executors/docker-image/executor';
import { ImageReceipt, imageReceiptPath, readImageReceipt } from '../../../src/lib/docker/image-receipt';
import { ACCOUNTSERVICE_DIR, WORKSPACE_ROOT, buildAccountserviceBinary } from '../../support/accountservice';
import { captureLogger, executorContext } from '../../support/swarm';

export const LAB_SH = path.join(WORKSPACE_ROOT, 'tools/swarm-lab/lab.sh');
const LAB_RUN = process.env.LAB_RUN ?? '/run/nx-swarm-lab';
const LAB_DATA = process.env.LAB_DATA ?? '/var/lib/nx-swarm-lab';
export const LAB_JSON = path.join(LAB_RUN, 'lab.json');
export const EDGE_LOG = path.join(LAB_DATA, 'logs/edge-access.log');

export interface LabNode {
  name: string;
  address: string;
  dockerHost: string;
}
export interface LabState {
  managers: number;
  manager: string;
  dockerHost: string;
  registry: string;
  edgeUrl: string;
  edgePort: number;
  edgeTarget: number;
  registryAuth: boolean;
  dockerConfig: string;
  /** The manager's ssh front door (sshd on 2222, a bastion for ProxyJump) and its files. */
  ssh?: {
    dir: string;
    config: string;
    identity: string;
    knownHosts: string;
    alias: string;
    directAlias: string;
    host: string;
    port: number;
    log: string;
    bastion: string;
    bastionLog: string;
  };
  /** The manager's mutual-TLS front door: DOCKER_HOST and DOCKER_CERT_PATH. */
  tls?: { host: string; certPath: string; caKey: string };
  nodes: LabNode[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `lab.sh ARGS`; never throws (check exitCode). */
export async function lab(...args: string[]) {
  return execa('bash', [LAB_SH, ...args], { all: true, reject: false, timeout: 240_000 });
}

export function readLabState(): LabState {
  return JSON.parse(fs.readFileSync(LAB_JSON, 'utf8')) as LabState;
}

/**
 * The lab, up. Starts it when `lab.sh status` says it isn't complete; `startedHere` is true only
 * when no lab existed before (then the caller tears it down again).
 */
export async function ensureLab(): Promise<{ state: LabState; startedHere: boolean }> {
  if (process.getuid?.() !== 0) {
    throw new Error('The lab tests need root: network namespaces, a bridge, iptables and three dockerd (run as root, as CI does).');
  }
  const existed = fs.existsSync(LAB_JSON);
  const status = await lab('status');
  if (status.exitCode !== 0) {
    const up = await lab('up');
    if (up.exitCode !== 0) throw new Error(`tools/swarm-lab/lab.sh up failed (exit ${up.exitCode}):\n${up.all}`);
  }
  return { state: readLabState(), startedHere: !existed };
}

export function dockerFor(dockerHost: string): Docker {
  return new Docker({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
}

/** Runs fn with process.env changed, restores it afterwards (the docker-image executor reads process.env). */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

// The executor context and the logger capture are the single-node suite's own.
export { captureLogger, executorContext };

// --- images --------------------------------------------------------------------------------------

export interface LabImage {
  name: string;
  /** What to deploy: repo:c-…@sha256:… when pushed, else repo:c-… */
  ref: string;
  receipt: ImageReceipt;
  /** The workspace root / project root whose dist/…/image.json names this image. */
  workspaceRoot: string;
  projectRoot: string;
}

/**
 * accountservice (optionally patched) → binary → the docker-image executor against the lab manager,
 * pushing to the lab registry when `push`. Each image gets its own receipt (project root
 * `lab-NAME` under `workspaceRoot`), so nothing in the real dist/ is touched.
 */
export async function buildLabImage(
  state: LabState,
  workspaceRoot: string,
  name: string,
  opts: {
    patch?: (src: string) => void;
    push?: boolean;
    repository?: string;
    registry?: string | null;
    builder?: 'auto' | 'oci' | 'engine';
    /** docker-image `platforms` (an OCI image index): the binary is built for each linux/ARCH. */
    platforms?: string[];
    /** DOCKER_CONFIG for the push (default the lab's). */
    dockerConfig?: string;
  } = {},
): Promise<{ success: boolean; image?: LabImage; binDir: string }> {
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), `nxlab-bin-${name}-`));
  // One binary per platform; the files entry names the first, and each platform of the index takes
  // its own accountservice-linux-ARCH (docker-image replaces the suffix).
  const binaries: string[] = [];
  for (const goarch of opts.platforms?.map((p) => p.split('/')[1]) ?? ['amd64']) {
    binaries.push(await buildAccountserviceBinary(binDir, { patch: opts.patch, goarch }));
  }
  const binary = binaries[0];
  const projectRoot = `lab-${name}`;
  const push = opts.push ?? true;
  const registry = opts.registry === null ? undefined : (opts.registry ?? state.registry);
  const result = await withEnv({ DOCKER_HOST: state.dockerHost, DOCKER_CONFIG: opts.dockerConfig ?? state.dockerConfig }, () =>
    dockerImageExecutor(
      {
        context: ACCOUNTSERVICE_DIR,
        files: [{ from: binary, to: 'accountservice-linux-amd64' }],
        repository: opts.repository ?? 'nxlab/accountservice',
        ...(registry ? { registry } : {}),
        tags: [name],
        push,
        ...(opts.builder ? { builder: opts.builder } : {}),
        ...(opts.platforms ? { platforms: opts.platforms } : {}),
      },
      executorContext(workspaceRoot, 'accountservice', projectRoot),
    ),
  );
  fs.rmSync(binDir, { recursive: true, force: true });
  if (!result.success) return { success: false, binDir };
  const receipt = readImageReceipt(imageReceiptPath(workspaceRoot, projectRoot));
  if (!receipt) throw new Error(`docker-image succeeded but wrote no receipt for ${name}`);
  const digest = receipt.registryDigest ? /(sha256:[a-f0-9]{64})$/.exec(receipt.registryDigest)?.[1] : undefined;
  const ref = push && digest ? `${receipt.contentRef}@${digest}` : receipt.contentRef;
  return { success: true, binDir, image: { name, ref, receipt, workspaceRoot, projectRoot } };
}

// --- swarm state ---------------------------------------------------------------------------------

export interface TaskView {
  id: string;
  slot?: number;
  node: string;
  image: string;
  state: string;
  desired: string;
  err?: string;
}

/** Tasks of a service with node hostnames (through the manager). */
export async function serviceTasks(docker: Docker, service: string, desiredRunning = true): Promise<TaskView[]> {
  const nodes = (await docker.listNodes()) as { ID: string; Description?: { Hostname?: string } }[];
  const host = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  const tasks = (await docker.listTasks({
    filters: JSON.stringify({ service: [service], ...(desiredRunning ? { 'desired-state': ['running'] } : {}) }),
  })) as {
    ID: string;
    Slot?: number;
    NodeID?: string;
    DesiredState: string;
    Spec: { ContainerSpec: { Image: string } };
    Status: { State: string; Err?: string };
  }[];
  return tasks.map((t) => ({
    id: t.ID,
    slot: t.Slot,
    node: t.NodeID ? (host.get(t.NodeID) ?? t.NodeID) : '',
    image: t.Spec.ContainerSpec.Image,
    state: t.Status.State,
    desired: t.DesiredState,
    err: t.Status.Err,
  }));
}

export interface ServiceView {
  id: string;
  version: number;
  image: string;
  previousImage?: string;
  updateState?: string;
  updateMessage?: string;
}

export async function serviceView(docker: Docker, service: string): Promise<ServiceView | undefined> {
  try {
    const s = (await docker.getService(service).inspect()) as {
      ID: string;
      Version: { Index: number };
      Spec: { TaskTemplate: { ContainerSpec: { Image: string } } };
      PreviousSpec?: { TaskTemplate: { ContainerSpec: { Image: string } } };
      UpdateStatus?: { State?: string; Message?: string };
    };
    return {
      id: s.ID,
      version: s.Version.Index,
      image: s.Spec.TaskTemplate.ContainerSpec.Image,
      previousImage: s.PreviousSpec?.TaskTemplate.ContainerSpec.Image,
      updateState: s.UpdateStatus?.State,
      updateMessage: s.UpdateStatus?.Message,
    };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** Waits until `count` tasks run `image`, one per node, and nothing else is desired running. */
export async function waitConverged(docker: Docker, service: string, image: string, count: number, timeoutMs: number): Promise<TaskView[]> {
  const until = Date.now() + timeoutMs;
  let tasks: TaskView[] = [];
  for (;;) {
    tasks = await serviceTasks(docker, service);
    const running = tasks.filter((t) => t.state === 'running' && t.image === image);
    if (running.length === count && tasks.length === count && new Set(running.map((t) => t.node)).size === count) return running;
    if (Date.now() > until) {
      throw new Error(`${service} did not converge to ${count}× ${image} within ${timeoutMs} ms: ${JSON.stringify(tasks)}`);
    }
    await sleep(500);
  }
}

export async function waitNodesReady(docker: Docker, count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const nodes = (await docker.listNodes()) as { Status?: { State?: string } }[];
    if (nodes.filter((n) => n.Status?.State === 'ready').length >= count) return;
    if (Date.now() > until) throw new Error(`fewer than ${count} nodes ready after ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** Removes a service directly (cleanup path; the executor is tested elsewhere) and waits for its containers to go. */
export async function removeServiceQuietly(state: LabState, service: string): Promise<void> {
  const manager = dockerFor(state.dockerHost);
  try {
    await manager.getService(service).remove();
  } catch {
    /* absent */
  }
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    let left = 0;
    for (const n of state.nodes) {
      try {
        const cs = await dockerFor(n.dockerHost).listContainers({
          all: true,
          filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`] }),
        });
        left += cs.length;
      } catch {
        /* node down */
      }
    }
    if (!left) return;
    await sleep(300);
  }
}

// --- HTTP ----------------------------------------------------------------------------------------

export async function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: (await res.text()).trim() };
}

// --- load ----------------------------------------------------------------------------------------

export interface LoadReport {
  url: string;
  rate: number;
  durationSeconds: number;
  sent: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  longestOutageMs: number;
  firstFailureMs?: number;
  latencyMeanMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  bodies?: Record<string, number>;
  achievedRatePerS: number;
}

let loadgenBinary: string | undefined;

/** Builds tools/loadgen (the lead's open-loop load generator) once per run. */
export async function loadgen(): Promise<string> {
  if (loadgenBinary && fs.existsSync(loadgenBinary)) return loadgenBinary;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nxlab-loadgen-')), 'loadgen');
  await execa('go', ['build', '-trimpath', '-o', out, '.'], {
    cwd: path.join(WORKSPACE_ROOT, 'tools/loadgen'),
    env: { CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
  });
  loadgenBinary = out;
  return out;
}

/** Removes the load generator built by loadgen() (afterAll). */
export function removeLoadgen(): void {
  if (loadgenBinary) fs.rmSync(path.dirname(loadgenBinary), { recursive: true, force: true });
  loadgenBinary = undefined;
}

/** A running load: 100 req/s (default) through the edge, stopped by stop() or after maxSeconds. */
export class Load {
  private output = '';
  private readonly done: Promise<number | null>;
  private constructor(
    private readonly child: ChildProcess,
    private readonly stopFile: string,
    readonly edgeLogOffset: number,
  ) {
    child.stdout!.on('data', (d) => (this.output += String(d)));
    child.stderr!.on('data', (d) => (this.output += String(d)));
    this.done = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(url: string, { rate = 100, maxSeconds = 40 } = {}): Promise<Load> {
    const bin = await loadgen();
    const stopFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nxlab-load-')), 'stop');
    const offset = fs.existsSync(EDGE_LOG) ? fs.statSync(EDGE_LOG).size : 0;
    const child = spawn(bin, ['-url', url, '-rate', String(rate), '-duration', `${maxSeconds}s`, '-bodies', '-stop-file', stopFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Load(child, stopFile, offset);
  }

  /** Stops (after `afterMs` more of load) and returns the report. */
  async stop(afterMs = 0): Promise<LoadReport> {
    if (afterMs) await sleep(afterMs);
    fs.writeFileSync(this.stopFile, '');
    const code = await Promise.race([this.done, sleep(15_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      this.kill();
      throw new Error('loadgen did not stop within 15 s of its stop file');
    }
    fs.rmSync(path.dirname(this.stopFile), { recursive: true, force: true });
    if (code !== 0) throw new Error(`loadgen exited ${code}: ${this.output}`);
    return JSON.parse(this.output) as LoadReport;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    fs.rmSync(path.dirname(this.stopFile), { recursive: true, force: true });
  }
}

/** What the edge saw since a byte offset: which nodes answered, how many requests needed a retry. */
export function edgeStats(offset: number): { requests: number; byUpstream: Record<string, number>; retried: number; non2xx: number } {
  if (!fs.existsSync(EDGE_LOG)) return { requests: 0, byUpstream: {}, retried: 0, non2xx: 0 };
  const fd = fs.openSync(EDGE_LOG, 'r');
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(Math.max(0, size - offset));
  fs.readSync(fd, buf, 0, buf.length, offset);
  fs.closeSync(fd);
  const stats = { requests: 0, byUpstream: {} as Record<string, number>, retried: 0, non2xx: 0 };
  for (const line of buf.toString('utf8').split('\n')) {
    // "$msec|$status|$upstream_addr|$upstream_status|$request_time"; a retry lists "addr, addr"
    const f = line.trim().split('|');
    if (f.length !== 5 || !/^\d{3}$/.test(f[1])) continue;
    stats.requests++;
    if (!f[1].startsWith('2')) stats.non2xx++;
    const upstreams = f[2].split(/,\s*/);
    if (upstreams.length > 1) stats.retried++;
    const last = upstreams[upstreams.length - 1];
    stats.byUpstream[last] = (stats.byUpstream[last] ?? 0) + 1;
  }
  return stats;
}

// --- figures -------------------------------------------------------------------------------------

export interface Figure {
  scenario: string;
  outcome: string;
  seconds?: number;
  load?: Pick<LoadReport, 'sent' | 'failed' | 'longestOutageMs' | 'errors' | 'latencyP99Ms' | 'latencyMaxMs'> & { bodies?: Record<string, number> };
  edge?: ReturnType<typeof edgeStats>;
  notes?: string[];
}

export const FIGURES_FILE = path.join(WORKSPACE_ROOT, 'tmp/lab/figures.json');

export function summarizeLoad(r: LoadReport): Figure['load'] {
  const bodies: Record<string, number> = {};
  for (const [body, n] of Object.entries(r.bodies ?? {})) {
    const name = /"name":"([^"]+)"/.exec(body)?.[1] ?? (body.includes('502 Bad Gateway') ? 'edge 502' : body.slice(0, 40));
    bodies[name] = (bodies[name] ?? 0) + n;
  }
  return {
    sent: r.sent,
    failed: r.failed,
    longestOutageMs: r.longestOutageMs,
    errors: r.errors,
    latencyP99Ms: r.latencyP99Ms,
    latencyMaxMs: r.latencyMaxMs,
    bodies,
  };
}

export function writeFigures(figures: Figure[], extra: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  fs.writeFileSync(FIGURES_FILE, JSON.stringify({ ...extra, figures }, null, 2) + '\n');
}
