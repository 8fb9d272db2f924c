/**
 * swarm-deploy / swarm-service-rm against the real single-node swarm of this machine (no IPVS:
 * host-mode ports + dnsrr). Images are FROM scratch, built locally; nothing is pulled.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import deployExecutor from '../src/executors/swarm-deploy/executor';
import rmExecutor from '../src/executors/swarm-service-rm/executor';
import { SwarmDeployOptions } from '../src/lib/swarm/options';
import { buildAccountserviceBinary, replaceInFile } from './support/accountservice';
import {
  SecondEngine,
  buildFixtureImage,
  canBind,
  captureLogger,
  cleanup,
  docker,
  dockerBuild,
  executorContext,
  freePort,
  getJson,
  runningTaskIds,
  serviceImage,
  serviceVersion,
  startSecondDockerd,
  stopSecondDockerd,
  writeReceipt,
} from './support/swarm';

const ID = `${process.pid}`;
const SERVICE = `nxswarm-it-acct-${ID}`;
const OTHER = `nxswarm-it-other-${ID}`;
const REPO = `nxswarm-it/acct-${ID}`;
const IMAGES = {
  v1: `${REPO}:c-v1`,
  v2: `${REPO}:c-v2`,
  crash: `nxswarm-it/crash-${ID}:c-1`,
  unhealthy: `nxswarm-it/unhealthy-${ID}:c-1`,
  crashLate: `nxswarm-it/crash-late-${ID}:c-1`,
};
const PROJECT_ROOT = 'apps/acct';

let ws: string;
let port: number;
const ids: Record<string, string> = {};
let second: SecondEngine | undefined;
const log = captureLogger();

const base = (): SwarmDeployOptions => ({
  service: SERVICE,
  ports: [{ target: 6767, published: port, mode: 'host' }],
  endpointMode: 'dnsrr',
  // fast but honest: a crash or failed health check is still caught within the monitor window
  updateConfig: { monitor: '3s' },
  rollbackConfig: { monitor: '2s' },
  restartPolicy: { delay: '1s' },
  timeout: '90s',
});

const deploy = (options: SwarmDeployOptions) => deployExecutor(options, executorContext(ws, 'acct', PROJECT_ROOT), { pollMs: 250 });

beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-deploy-ws-'));
  port = await freePort();
  const v1 = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-acct-v1-'));
  const v2 = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-acct-v2-'));
  await buildAccountserviceBinary(v1, { withDockerContext: true });
  await buildAccountserviceBinary(v2, {
    withDockerContext: true,
    patch: (src) => replaceInFile(path.join(src, 'internal/dbclient/dbclient.go'), '"Person_" + strconv.Itoa(i)', '"Person_v2_" + strconv.Itoa(i)'),
  });
  ids.v1 = await dockerBuild(v1, IMAGES.v1);
  ids.v2 = await dockerBuild(v2, IMAGES.v2);
  ids.crash = await buildFixtureImage('crash', IMAGES.crash);
  ids.unhealthy = await buildFixtureImage('unhealthy', IMAGES.unhealthy);
  ids.crashLate = await buildFixtureImage('crash-late', IMAGES.crashLate);
  fs.rmSync(v1, { recursive: true, force: true });
  fs.rmSync(v2, { recursive: true, force: true });
  writeReceipt(ws, PROJECT_ROOT, REPO, 'c-v1', ids.v1);
}, 300_000);

afterAll(async () => {
  log.restore();
  await cleanup([SERVICE, OTHER, `${SERVICE}-race`], Object.values(IMAGES));
  await stopSecondDockerd(second);
  fs.rmSync(ws, { recursive: true, force: true });
}, 120_000);

afterEach(() => {
  if (process.env.NXSWARM_TEST_VERBOSE) return;
  log.clear();
});

describe('swarm-deploy', () => {
  it('refuses the defaults (ingress/vip) here, before deploying, and explains the missing IPVS', async () => {
    const result = await deploy({ service: SERVICE, ports: [{ target: 6767, published: port }] });
    expect(result.success).toBe(false);
    expect(log.text()).toMatch(/no IPVS.*ingress mode.*"mode": "host".*"endpointMode": "dnsrr"/s);
    expect(await docker('service', 'ls', '-q', '--filter', `name=${SERVICE}`)).toBe('');
  });

  it('dryRun prints the plan and writes nothing', async () => {
    const result = await deploy({ ...base(), dryRun: true });
    expect(result.success).toBe(true);
    expect(log.text()).toMatch(new RegExp(`Plan: create service ${SERVICE} from ${IMAGES.v1}`));
    expect(await docker('service', 'ls', '-q', '--filter', `name=${SERVICE}`)).toBe('');
    expect(fs.existsSync(path.join(ws, 'dist', PROJECT_ROOT, 'deploy.json'))).toBe(false);
  });

  it('creates the service from the image receipt and serves Person_0 on the published port', async () => {
    const result = await deploy(base());
    expect(log.text()).toMatch(/Updates use order stop-first: port \d+ is published in host mode/);
    expect(result.success).toBe(true);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_0' });
    expect(await serviceImage(SERVICE)).toBe(IMAGES.v1);
    const report = JSON.parse(fs.readFileSync(path.join(ws, 'dist', PROJECT_ROOT, 'deploy.json'), 'utf8'));
    expect(report).toMatchObject({ service: SERVICE, action: 'create', image: IMAGES.v1, replicas: { running: 1, desired: 1 } });
    expect(log.text()).toMatch(new RegExp(`try\\s+curl http://127.0.0.1:${port}/`));
  });

  it('deploying again unchanged writes nothing: same tasks, same Version.Index, fast', async () => {
    const tasks = await runningTaskIds(SERVICE);
    const version = await serviceVersion(SERVICE);
    const t0 = Date.now();
    const result = await deploy(base());
    const elapsed = Date.now() - t0;
    expect(result.success).toBe(true);
    expect(log.text()).toMatch(new RegExp(`${SERVICE} is up to date`));
    expect(await runningTaskIds(SERVICE)).toEqual(tasks);
    expect(await serviceVersion(SERVICE)).toBe(version);
    process.stdout.write(`no-op deploy (executor call, module already loaded): ${elapsed} ms\n`);
    expect(elapsed).toBeLessThan(10_000); // generous: the target is < 500 ms, measured and reported separately
  });

  it('rolls out a new version (changed Go code → new image) and serves the new response', async () => {
    const result = await deploy({ ...base(), image: IMAGES.v2 });
    expect(result.success).toBe(true);
    expect(log.text()).toMatch(new RegExp(`image: ${IMAGES.v1} → ${IMAGES.v2}`));
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_v2_0' });
  });

  it('an image that exits 1: fails with the exit code and its log lines; the previous version runs again', async () => {
    const result = await deploy({ ...base(), image: IMAGES.crash });
    expect(result.success).toBe(false);
    const text = log.text();
    expect(text).toMatch(/exited with code 1/);
    expect(text).toMatch(/crash: fatal: required setting DATABASE_URL is missing/);
    expect(text).toMatch(new RegExp(`rolled back: ${IMAGES.v2} is running again`));
    expect(await serviceImage(SERVICE)).toBe(IMAGES.v2);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_v2_0' });
  });

  it('an image whose health check fails: rolled back, failure explained', async () => {
    const result = await deploy({ ...base(), image: IMAGES.unhealthy });
    expect(result.success).toBe(false);
    const text = log.text();
    expect(text).toMatch(/health check failed/);
    expect(text).toMatch(/unhealthy: \/health answered 503/);
    expect(text).toMatch(new RegExp(`rolled back: ${IMAGES.v2} is running again`));
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_v2_0' });
  });

  it('monitor sized from the health check: a task that crashes after it became healthy, inside that window, is rolled back', async () => {
    // crash-late: health check every 2 s (so the monitor is 2 s, not 10 s), exits 1 three seconds after start
    const { updateConfig: _monitor, ...rest } = base();
    const result = await deploy({ ...rest, image: IMAGES.crashLate, env: { CRASH_AFTER: '3s' } });
    expect(result.success).toBe(false);
    const text = log.text();
    expect(text).toMatch(/updateConfig\.Monitor: 3s → 2s/);
    expect(text).toMatch(/: running/);
    expect(text).toMatch(/crash-late: fatal: lost the database connection/);
    expect(text).toMatch(new RegExp(`rolled back: ${IMAGES.v2} is running again`));
    expect(await serviceImage(SERVICE)).toBe(IMAGES.v2);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_v2_0' });
  });

  it('a port held by another service: clear error, nothing created', async () => {
    const result = await deploy({ ...base(), service: OTHER, image: IMAGES.v1 });
    expect(result.success).toBe(false);
    expect(log.text()).toMatch(new RegExp(`port ${port}/tcp is already published by service "${SERVICE}" \\(mode host\\)`));
    expect(await docker('service', 'ls', '-q', '--filter', `name=${OTHER}`)).toBe('');
  });

  it('two deploys of the same service at once both finish consistent', async () => {
    const [a, b] = await Promise.all([deploy({ ...base(), image: IMAGES.v1 }), deploy({ ...base(), image: IMAGES.v1 })]);
    const text = log.text();
    expect(text).not.toMatch(/out of sequence/);
    expect(a.success && b.success).toBe(true);
    expect(await serviceImage(SERVICE)).toBe(IMAGES.v1);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_0' });
    expect(await runningTaskIds(SERVICE)).toHaveLength(1);
  });

  it('an engine that is not in a swarm: clear error', async () => {
    second = await startSecondDockerd();
    const result = await deployExecutor(base(), executorContext(ws, 'acct', PROJECT_ROOT), { env: { ...process.env, DOCKER_HOST: second.host } });
    expect(result.success).toBe(false);
    expect(log.text()).toMatch(/is not part of a swarm.*docker swarm init.*DOCKER_HOST/s);
  });
});

describe('swarm-service-rm', () => {
  it('removes the service, waits until the port is free, and succeeds again when absent', async () => {
    const ctx = executorContext(ws, 'acct', PROJECT_ROOT);
    expect(await canBind(port)).toBe(false);
    expect((await rmExecutor({ service: SERVICE }, ctx)).success).toBe(true);
    expect(await canBind(port)).toBe(true);
    expect(await docker('ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`)).toBe('');
    // a new service on the same port starts right away
    expect((await deploy({ ...base(), service: OTHER, image: IMAGES.v1 })).success).toBe(true);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_0' });
    expect((await rmExecutor({ service: OTHER }, ctx)).success).toBe(true);
    log.clear();
    expect((await rmExecutor({ service: SERVICE }, ctx)).success).toBe(true);
    expect(log.text()).toMatch(/is not deployed/);
    expect((await rmExecutor({ service: SERVICE, failIfMissing: true }, ctx)).success).toBe(false);
    expect(log.text()).toMatch(/does not exist \(failIfMissing is set\)/);
  });
});
