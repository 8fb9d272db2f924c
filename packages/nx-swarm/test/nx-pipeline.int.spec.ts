/**
 * The whole pipeline through the real `nx` CLI, as a user runs it: build → image → deploy.
 *
 * It runs in a scratch copy of the workspace (in the OS temp folder, its own git repository,
 * node_modules linked) so that it can edit Go code and use its own service name and port without
 * touching the repository or a user's running accountservice.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { gitIn, ownAccountservice, removeServiceAndImages, runNx, scratchWorkspace } from './support/nx-cli';

const SERVICE = `nxit-pipeline-${process.pid}`;
const PORT = 17000 + (process.pid % 900);
const REPOSITORY = `nxit/pipeline-${process.pid}`;
const docker = new Docker();

let ws: string;

function copyWorkspace(): string {
  const dir = scratchWorkspace('nxswarm-ws-', ['packages', 'accountservice']);
  // Our own service name, port and repository; host-mode port + dnsrr (no IPVS needed).
  ownAccountservice(dir, { service: SERVICE, port: PORT, repository: REPOSITORY });
  return dir;
}

const nx = (...args: string[]) => runNx(ws, ...args);
const git = (...args: string[]) => gitIn(ws, ...args);

async function runningTaskIds(): Promise<string[]> {
  try {
    const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [SERVICE], 'desired-state': ['running'] }) });
    return tasks.map((t) => t.ID as string).sort();
  } catch (error) {
    // The engine answers 404 for a service filter naming a service that does not exist.
    if ((error as { statusCode?: number }).statusCode === 404) return [];
    throw error;
  }
}

async function getAccount(): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${PORT}/accounts/10000`, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return last;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`accountservice did not answer on ${PORT}: ${last}`);
}

describe('nx run accountservice:deploy (real nx CLI, engine, swarm)', () => {
  beforeAll(async () => {
    ws = copyWorkspace();
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-qm', 'scratch workspace');
  });

  afterAll(async () => {
    await removeServiceAndImages(docker, SERVICE, [REPOSITORY]);
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  let firstTasks: string[] = [];

  it('first deploy runs build → image → deploy and the service answers', async () => {
    const r = await nx('run', 'accountservice:deploy');
    expect(r.all).toContain('nx run accountservice:build');
    expect(r.all).toContain('nx run accountservice:image');
    expect(r.exitCode).toBe(0);
    expect(await getAccount()).toBe('200 {"id":"10000","name":"Person_0"}');
    firstTasks = await runningTaskIds();
    expect(firstTasks).toHaveLength(1);
  });

  it('a second deploy with nothing changed: build from cache, image skipped, deploy up to date, same tasks', async () => {
    const r = await nx('run', 'accountservice:deploy');
    expect(r.exitCode).toBe(0);
    expect(r.all).toMatch(/nx run accountservice:build\s+\[(local|existing outputs match the) cache/);
    expect(r.all).toMatch(/already exists|skipp/i);
    expect(r.all).toMatch(/up to date/);
    expect(await runningTaskIds()).toEqual(firstTasks);
  });

  it('nx affected sees accountservice only after a .go change', async () => {
    const none = await nx('show', 'projects', '--affected', '--base=HEAD');
    expect(none.exitCode).toBe(0);
    expect(none.stdout.split('\n')).not.toContain('accountservice');

    const file = path.join(ws, 'accountservice/internal/dbclient/dbclient.go');
    const src = fs.readFileSync(file, 'utf8');
    expect(src).toContain('"Person_');
    fs.writeFileSync(file, src.replace(/"Person_/g, '"Human_'));

    const some = await nx('show', 'projects', '--affected', '--base=HEAD');
    expect(some.stdout.split('\n')).toContain('accountservice');
  });

  it('after the .go change the graph reruns build → image → deploy and the new version answers', async () => {
    const r = await nx('affected', '-t', 'deploy', '--base=HEAD');
    expect(r.exitCode).toBe(0);
    expect(r.all).not.toMatch(/nx run accountservice:build\s+\[local cache\]/);
    expect(r.all).toContain('nx run accountservice:image');
    expect(await getAccount()).toBe('200 {"id":"10000","name":"Human_0"}');
    const tasks = await runningTaskIds();
    expect(tasks).toHaveLength(1);
    expect(tasks).not.toEqual(firstTasks);
  });

  it('nx run accountservice:undeploy leaves no service behind, and a second undeploy succeeds', async () => {
    const r = await nx('run', 'accountservice:undeploy');
    expect(r.exitCode).toBe(0);
    await expect(docker.getService(SERVICE).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await runningTaskIds()).toEqual([]);
    const again = await nx('run', 'accountservice:undeploy');
    expect(again.exitCode).toBe(0);
    expect(again.all).toMatch(/not deployed/i);
  });
});
