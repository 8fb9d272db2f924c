/**
 * The executors on a newer Docker Engine than the machine's 20.10: nxnext, a lab node running Debian
 * trixie's dockerd 26 (API 1.45) in a one-node swarm of its own (`tools/swarm-lab/lab.sh next`).
 * Most users run an engine of 25 or later; what differs there is checked against the real thing:
 *
 * - the API version negotiated up to the engine's own (not pinned at 1.41);
 * - an OCI image loaded through POST /images/load gets its config digest as its id;
 * - on API >= 1.44 the deploy adds HealthConfig.StartInterval (1 s) to the image's health check, and
 *   the engine merges it with the image's HEALTHCHECK: the first probe comes about a second after
 *   start instead of one 5 s interval (the container's own health log says when);
 * - a rolling update is verified, and a release that fails its health check is rolled back with the
 *   diagnosis, on that engine's swarmkit.
 *
 * Traffic goes to nxnext's own address on the lab bridge.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import deployExecutor from '../../src/executors/swarm-deploy/executor';
import type { SwarmDeployOptions } from '../../src/lib/swarm/options';
import { renamePeople, replaceInFile } from '../support/accountservice';
import { LabImage, LabState, buildLabImage, captureLogger, dockerFor, ensureLab, executorContext, httpGet, lab, sleep } from './support/lab';

const SERVICE = 'nxnext-acct';

let state: LabState;
let startedHere = false;
let nextHost: string;
let nextAddress: string;
let ws: string;
const images: Record<string, LabImage> = {};
const log = captureLogger();
const next = () => dockerFor(nextHost);

const options = (image: string, extra: Partial<SwarmDeployOptions> = {}): SwarmDeployOptions => ({
  service: SERVICE,
  image,
  replicas: 1,
  endpointMode: 'dnsrr',
  ports: [{ target: 6767, published: 6767, mode: 'host' }],
  // One node and a fixed host-mode port: the old task must free it. Monitor and health check are the
  // image's (HEALTHCHECK --interval=5s --start-period=5s) and what the deployer derives from them.
  updateConfig: { parallelism: 1, delay: '0s', order: 'stop-first', failureAction: 'rollback' },
  rollbackConfig: { parallelism: 1, order: 'stop-first', monitor: '2s' },
  timeout: '90s',
  ...extra,
});

async function deploy(image: LabImage) {
  const mark = log.mark();
  const result = await deployExecutor(options(image.ref), executorContext(ws, 'accountservice', 'next'), {
    env: { ...process.env, DOCKER_HOST: nextHost },
    pollMs: 250,
  });
  const out = log.since(mark);
  return { success: result.success, out, errors: out.split('\n').filter((l) => l.startsWith('[error]')) };
}

/** The one running task's container, inspected on nxnext (the node is its own manager). */
async function runningContainer() {
  const tasks = (await next().listTasks({ filters: JSON.stringify({ service: [SERVICE], 'desired-state': ['running'] }) })) as {
    Status: { State: string; ContainerStatus?: { ContainerID?: string } };
  }[];
  const running = tasks.filter((t) => t.Status.State === 'running');
  expect(running).toHaveLength(1);
  return next().getContainer(running[0].Status.ContainerStatus!.ContainerID!).inspect();
}

async function answer(): Promise<string> {
  for (let i = 0; i < 20; i++) {
    try {
      const r = await httpGet(`http://${nextAddress}:6767/accounts/10000`);
      if (r.status === 200) return (JSON.parse(r.body) as { name: string }).name;
    } catch {
      /* not yet */
    }
    await sleep(250);
  }
  return 'no answer';
}

beforeAll(async () => {
  const up = await ensureLab();
  state = up.state;
  startedHere = up.startedHere;
  const started = await lab('next');
  if (started.exitCode !== 0) throw new Error(`lab.sh next failed:\n${started.all}`);
  const printed = /export DOCKER_HOST=(unix:\/\/\S+)\s+# nxnext, (\S+),/.exec(started.stdout);
  if (!printed) throw new Error(`lab.sh next printed no DOCKER_HOST:\n${started.all}`);
  [, nextHost, nextAddress] = printed;
  await next()
    .getService(SERVICE)
    .remove()
    .catch(() => undefined);
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxnext-ws-'));
  // Built in process and loaded into nxnext itself (no registry): the OCI builder's load path.
  const plan: [string, ((src: string) => void) | undefined][] = [
    ['v1', undefined],
    ['v2', renamePeople('PersonNext_')],
    [
      'sick',
      (src) => {
        renamePeople('PersonSick_')(src);
        replaceInFile(path.join(src, 'internal/service/handlers.go'), 'if h.store.IsOpen() {', 'if false && h.store.IsOpen() {');
      },
    ],
  ];
  for (const [name, patch] of plan) {
    const built = await buildLabImage({ ...state, dockerHost: nextHost }, ws, name, {
      patch,
      push: false,
      registry: null,
      repository: 'nxnext/accountservice',
    });
    if (!built.success || !built.image) throw new Error(`docker-image failed for ${name}:\n${log.text()}`);
    images[name] = built.image;
  }
}, 300_000);

afterAll(async () => {
  try {
    if (nextHost)
      await next()
        .getService(SERVICE)
        .remove()
        .catch(() => undefined);
    if (startedHere && !process.env.NXLAB_KEEP) await lab('down');
  } finally {
    log.restore();
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  }
}, 120_000);

describe('a newer Docker Engine (Debian trixie docker.io 26, API >= 1.44)', () => {
  it('is the engine it claims to be, and the OCI image loaded into it has its config digest as id', async () => {
    const version = (await next().version()) as { Version: string; ApiVersion: string };
    expect(Number(version.ApiVersion.split('.')[1])).toBeGreaterThanOrEqual(44);
    const receipt = images.v1.receipt;
    expect(receipt.builder).toBe('oci');
    const inspected = (await next().getImage(receipt.contentRef).inspect()) as { Id: string };
    expect(inspected.Id).toBe(receipt.loaded?.imageId);
    expect(inspected.Id).toBe(receipt.platforms?.[0].configDigest);
  });

  it("deploys with a StartInterval merged into the image's health check: the first probe comes about 1 s after start, not after the 5 s interval", async () => {
    const r = await deploy(images.v1);
    expect({ success: r.success, errors: r.errors }).toEqual({ success: true, errors: [] });
    expect(await answer()).toBe('Person_0');

    const service = (await next().getService(SERVICE).inspect()) as {
      Spec: { TaskTemplate: { ContainerSpec: { Healthcheck?: Record<string, unknown> } } };
    };
    expect(service.Spec.TaskTemplate.ContainerSpec.Healthcheck).toEqual({ StartInterval: 1e9 });

    const container = (await runningContainer()) as {
      Config: { Healthcheck?: { Test: string[]; Interval: number; StartPeriod: number; StartInterval?: number } };
      State: { StartedAt: string; Health?: { Status: string; Log: { Start: string }[] } };
    };
    // The engine merged the two: the image's test, interval and start period, the deploy's StartInterval.
    expect(container.Config.Healthcheck).toMatchObject({
      Test: ['CMD', '/accountservice', 'healthcheck'],
      Interval: 5e9,
      StartPeriod: 5e9,
      StartInterval: 1e9,
    });
    expect(container.State.Health?.Status).toBe('healthy');
    const firstProbe = (Date.parse(container.State.Health!.Log[0].Start) - Date.parse(container.State.StartedAt)) / 1000;
    expect(firstProbe).toBeLessThan(3); // one interval (5 s) on Engine 20.10
  });

  it('a rolling update to a new version is verified and the new version answers', async () => {
    const r = await deploy(images.v2);
    expect({ success: r.success, errors: r.errors }).toEqual({ success: true, errors: [] });
    expect(r.out).toMatch(/Updating nxnext-acct/);
    expect(await answer()).toBe('PersonNext_0');
  });

  it('a release that fails its health check fails the deploy with the diagnosis, and swarm rolls back to the running version', async () => {
    const r = await deploy(images.sick);
    expect(r.success).toBe(false);
    expect(r.errors.join('\n')).toMatch(/health check/);
    expect(r.errors.join('\n')).toMatch(/rolled back/);
    const service = (await next().getService(SERVICE).inspect()) as { Spec: { TaskTemplate: { ContainerSpec: { Image: string } } } };
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe(images.v2.ref);
    // The deploy said the old version runs again: it answers.
    const name = await answer();
    if (name !== 'PersonNext_0') {
      const tasks = await next().listTasks({ filters: JSON.stringify({ service: [SERVICE] }) });
      throw new Error(
        `${name} from the rolled-back version; the deploy printed:\n${r.out}\ntasks now:\n${JSON.stringify(
          tasks.map((t: { ID: string; DesiredState: string; Status: unknown }) => [t.ID, t.DesiredState, t.Status]),
          null,
          1,
        )}`,
      );
    }
  });
});
