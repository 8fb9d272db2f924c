/**
 * The image and deploy targets are served from Nx's cache only while the engine still holds what
 * the cached run left (their executors' hasher, lib/docker/engine-state-hasher.ts): real nx CLI, engine and swarm, in a
 * scratch copy of the workspace with its own service, port and repository.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { gitIn, nxCliEnv, ownAccountservice, removeServiceAndImages, runNx, scratchWorkspace } from './support/nx-cli';

const SERVICE = `nxit-cache-${process.pid}`;
const PORT = 18000 + (process.pid % 900);
const REPOSITORY = `nxit/cache-${process.pid}`;
const docker = new Docker();

let ws: string;
const nx = (...args: string[]) => runNx(ws, ...args);

/** Was `project:target` served from the cache in this output? */
const cached = (out: string, target: string) =>
  new RegExp(`nx run accountservice:${target}\\s+\\[(local cache|existing outputs match the cache, left as is)\\]`).test(out);

async function runningTaskIds(): Promise<string[]> {
  const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [SERVICE], 'desired-state': ['running'] }) }).catch(() => []);
  return tasks.map((t) => t.ID as string).sort();
}

async function get(pathname: string, expected?: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${PORT}${pathname}`, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200 && (expected === undefined || last.includes(expected))) return last;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer on ${PORT}${pathname}${expected ? ` with ${expected}` : ''}: ${last}`);
}

/** Deploys until a run is served wholly from the cache (at most 3 runs: the first ones write). */
async function deployUntilCached(): Promise<string> {
  let out = '';
  for (let i = 0; i < 3; i++) {
    const r = await nx('run', 'accountservice:deploy');
    expect(r.exitCode).toBe(0);
    out = r.all ?? '';
    if (cached(out, 'deploy')) return out;
  }
  throw new Error(`three deploys and none from the cache:\n${out}`);
}

describe('cacheable image and deploy (real nx CLI, engine, swarm)', () => {
  beforeAll(async () => {
    ws = scratchWorkspace('nxswarm-cache-', ['packages', 'accountservice']);
    ownAccountservice(ws, { service: SERVICE, port: PORT, repository: REPOSITORY });
    await gitIn(ws, 'init', '-q', '-b', 'main');
    await gitIn(ws, 'add', '-A');
    await gitIn(ws, 'commit', '-qm', 'scratch workspace');
  });

  afterAll(async () => {
    await execa(path.join(ws, 'node_modules/.bin/nx'), ['daemon', '--stop'], { cwd: ws, reject: false, env: nxCliEnv(), extendEnv: false });
    await removeServiceAndImages(docker, SERVICE, [REPOSITORY]);
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  let tasks: string[] = [];

  it('an unchanged deploy is served from the cache once the engine holds what it left: same tasks, no task process', async () => {
    const first = await nx('run', 'accountservice:deploy');
    expect(first.exitCode).toBe(0);
    expect(cached(first.all ?? '', 'deploy')).toBe(false);
    expect(await get('/accounts/10000')).toBe('200 {"id":"10000","name":"Person_0"}');
    tasks = await runningTaskIds();
    expect(tasks).toHaveLength(1);

    const out = await deployUntilCached();
    expect(cached(out, 'image')).toBe(true);
    expect(out).toMatch(/up to date .*1\/1 running/);
    expect(out).toMatch(/3 out of 3 tasks/);
    expect(await runningTaskIds()).toEqual(tasks);
  });

  it('a service changed behind its back (docker service update) is not served from the cache', async () => {
    const svc = docker.getService(SERVICE);
    const info = (await svc.inspect()) as { Version: { Index: number }; Spec: { Labels?: Record<string, string> } };
    await svc.update({ ...info.Spec, Labels: { ...(info.Spec.Labels ?? {}), 'nxit.touched': 'yes' }, version: info.Version.Index });
    const r = await nx('run', 'accountservice:deploy');
    expect(r.exitCode).toBe(0);
    // The image target checks the same project state (one runtime command for both): it runs again too, and skips the load.
    expect(cached(r.all ?? '', 'deploy')).toBe(false);
    expect(r.all).toMatch(/load skipped|already exists/);
    await deployUntilCached();
  });

  it('a removed image tag misses the image cache, and the image target puts it back', async () => {
    await docker.getImage(`${REPOSITORY}:latest`).remove({ noprune: true });
    const r = await nx('run', 'accountservice:deploy');
    expect(r.exitCode).toBe(0);
    expect(cached(r.all ?? '', 'image')).toBe(false);
    await expect(docker.getImage(`${REPOSITORY}:latest`).inspect()).resolves.toHaveProperty('Id');
    await deployUntilCached();
  });

  it('an edited config file misses the deploy cache and the new text is served', async () => {
    const file = path.join(ws, 'accountservice/config/greeting.txt');
    fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8').trim()} (edited by the cache test)\n`);
    const r = await nx('run', 'accountservice:deploy');
    expect(r.exitCode).toBe(0);
    expect(cached(r.all ?? '', 'deploy')).toBe(false);
    expect(await get('/greeting', 'edited by the cache test')).toContain('edited by the cache test');
    await deployUntilCached();
  });

  it('with the Nx daemon on, a removed service is deployed again, not served from the cache', async () => {
    const withDaemon = (...args: string[]) =>
      execa(path.join(ws, 'node_modules/.bin/nx'), [...args, '--outputStyle=stream'], {
        cwd: ws,
        reject: false,
        all: true,
        env: { ...nxCliEnv(), NX_DAEMON: 'true' },
        extendEnv: false,
      });
    let out = '';
    for (let i = 0; i < 3 && !cached(out, 'deploy'); i++) out = (await withDaemon('run', 'accountservice:deploy')).all ?? '';
    expect(cached(out, 'deploy')).toBe(true);
    await docker.getService(SERVICE).remove();
    const r = await withDaemon('run', 'accountservice:deploy');
    expect(r.exitCode).toBe(0);
    expect(cached(r.all ?? '', 'deploy')).toBe(false);
    expect(r.all).toMatch(/Created|created/);
    expect(await get('/accounts/10000')).toBe('200 {"id":"10000","name":"Person_0"}');
  });
});
