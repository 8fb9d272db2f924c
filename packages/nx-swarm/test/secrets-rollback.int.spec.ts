/**
 * #16 on the real single-node swarm: accountservice reads a config (GET /greeting) and a secret
 * (GET /admin/whoami with a bearer token); deploys rotate them by content, a bad release rolls back
 * to the old image and the old secret version, and swarm-rollback walks the release history.
 * The secret values must appear nowhere in what a user sees.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import deployExecutor from '../src/executors/swarm-deploy/executor';
import rollbackExecutor from '../src/executors/swarm-rollback/executor';
import rmExecutor from '../src/executors/swarm-service-rm/executor';
import { SwarmDeployOptions } from '../src/lib/swarm/options';
import { buildAccountserviceBinary, replaceInFile } from './support/accountservice';
import {
  buildFixtureImage,
  captureLogger,
  cleanup,
  docker,
  dockerBuild,
  executorContext,
  freePort,
  getJson,
  serviceImage,
  serviceVersion,
  writeReceipt,
} from './support/swarm';

const ID = `${process.pid}`;
const SERVICE = `nxswarm-it-sec-${ID}`;
const REPO = `nxswarm-it/sec-${ID}`;
const IMAGES = { v1: `${REPO}:c-v1`, v2: `${REPO}:c-v2`, crash: `nxswarm-it/sec-crash-${ID}:c-1` };
const PROJECT_ROOT = 'apps/acct';
const TOKENS = { t1: `tok-one-${ID}-9f8e7d`, t2: `tok-two-${ID}-6c5b4a`, t3: `tok-three-${ID}-3a2b1c` };

let ws: string;
let port: number;
const log = captureLogger();

const options = (image: string): SwarmDeployOptions => ({
  service: SERVICE,
  image,
  ports: [{ target: 6767, published: port, mode: 'host' }],
  endpointMode: 'dnsrr',
  updateConfig: { monitor: '3s' },
  rollbackConfig: { monitor: '2s' },
  restartPolicy: { delay: '1s' },
  timeout: '90s',
  configs: [{ source: 'greeting', file: 'conf/greeting.txt', target: '/config/greeting.txt' }],
  secrets: [{ source: 'admin_token', env: 'ADMIN_TOKEN' }],
});
const ctx = () => executorContext(ws, 'acct', PROJECT_ROOT);
const deploy = (image: string, token: string, greeting: string) => {
  fs.writeFileSync(path.join(ws, 'conf/greeting.txt'), greeting);
  return deployExecutor(options(image), ctx(), { pollMs: 250, env: { ...process.env, ADMIN_TOKEN: token } });
};
const rollback = (o: { to?: number; list?: boolean }) => rollbackExecutor({ service: SERVICE, timeout: '90s', ...o }, ctx(), { pollMs: 250 });

async function text(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: (await res.text()).trim() };
}
const greeting = () => text(`http://127.0.0.1:${port}/greeting`);
const whoami = (token: string) => text(`http://127.0.0.1:${port}/admin/whoami`, { Authorization: `Bearer ${token}` });
const secretsOfService = async () =>
  (await docker('secret', 'ls', '--filter', `label=io.nx-swarm.service=${SERVICE}`, '--format', '{{.Name}}')).split('\n').filter(Boolean).sort();
const mountedSecret = async () =>
  docker('service', 'inspect', '-f', '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}{{end}}', SERVICE);

beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-secrets-ws-'));
  fs.mkdirSync(path.join(ws, 'conf'));
  port = await freePort();
  const v1 = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-sec-v1-'));
  const v2 = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-sec-v2-'));
  await buildAccountserviceBinary(v1, { withDockerContext: true });
  await buildAccountserviceBinary(v2, {
    withDockerContext: true,
    patch: (src) => replaceInFile(path.join(src, 'internal/dbclient/dbclient.go'), '"Person_" + strconv.Itoa(i)', '"Person_v2_" + strconv.Itoa(i)'),
  });
  const id1 = await dockerBuild(v1, IMAGES.v1);
  await dockerBuild(v2, IMAGES.v2);
  await buildFixtureImage('crash', IMAGES.crash);
  fs.rmSync(v1, { recursive: true, force: true });
  fs.rmSync(v2, { recursive: true, force: true });
  writeReceipt(ws, PROJECT_ROOT, REPO, 'c-v1', id1);
}, 300_000);

afterAll(async () => {
  log.restore();
  await cleanup([SERVICE], Object.values(IMAGES));
  for (const kind of ['secret', 'config']) {
    const names = (await docker(kind, 'ls', '-q', '--filter', `label=io.nx-swarm.service=${SERVICE}`).catch(() => '')).split('\n').filter(Boolean);
    if (names.length) await docker(kind, 'rm', ...names).catch(() => undefined);
  }
  fs.rmSync(ws, { recursive: true, force: true });
}, 120_000);

afterEach(() => {
  // The values never reach what a user sees: every line printed, and the deploy report.
  const report = path.join(ws, 'dist', PROJECT_ROOT, 'deploy.json');
  const seen = log.text() + (fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : '');
  for (const t of Object.values(TOKENS)) expect(seen).not.toContain(t);
  if (!process.env.NXSWARM_TEST_VERBOSE) log.clear();
});

describe('secrets, configs, releases and rollback on the real swarm', () => {
  it('deploys with a config and a secret: the service answers with both', async () => {
    const r = await deploy(IMAGES.v1, TOKENS.t1, 'Hello from release 1');
    expect(r.success).toBe(true);
    expect(log.text()).toMatch(/Created secret nxswarm-it-sec-\d+_admin_token_[0-9a-f]{8} \(admin_token, from env ADMIN_TOKEN\)/);
    await getJson(`http://127.0.0.1:${port}/accounts/10000`);
    expect(await greeting()).toEqual({ status: 200, body: 'Hello from release 1' });
    expect((await whoami(TOKENS.t1)).status).toBe(200);
    expect((await whoami('wrong')).status).toBe(401);
    expect(log.text()).toMatch(/release\s+#1/);
  });

  it('unchanged content: a no-op, nothing written, no new version', async () => {
    const version = await serviceVersion(SERVICE);
    const before = await secretsOfService();
    const r = await deploy(IMAGES.v1, TOKENS.t1, 'Hello from release 1');
    expect(r.success).toBe(true);
    expect(log.text()).toMatch(/is up to date .* nothing to do/);
    expect(await serviceVersion(SERVICE)).toBe(version);
    expect(await secretsOfService()).toEqual(before);
  });

  it('changed config and secret: new versions, a rolling update, the answers change; the old versions stay for release #1', async () => {
    const old = await mountedSecret();
    const r = await deploy(IMAGES.v1, TOKENS.t2, 'Hello from release 2');
    expect(r.success).toBe(true);
    expect(log.text()).toMatch(/secret admin_token: content changed \(new version nxswarm-it-sec-\d+_admin_token_[0-9a-f]{8}\)/);
    expect(log.text()).toMatch(/config greeting: content changed/);
    expect(await greeting()).toEqual({ status: 200, body: 'Hello from release 2' });
    expect((await whoami(TOKENS.t2)).status).toBe(200);
    expect((await whoami(TOKENS.t1)).status).toBe(401);
    const now = await mountedSecret();
    expect(now).not.toBe(old);
    expect(await secretsOfService()).toEqual([old, now].sort());
  });

  it('a bad release with a new secret is rolled back by swarm to the old image AND the old secret version, which still exists', async () => {
    const good = await mountedSecret();
    const r = await deploy(IMAGES.crash, TOKENS.t3, 'Hello from release 2');
    expect(r.success).toBe(false);
    expect(log.text()).toMatch(new RegExp(`rolled back: ${IMAGES.v1} is running again`));
    expect(await serviceImage(SERVICE)).toBe(IMAGES.v1);
    expect(await mountedSecret()).toBe(good);
    await getJson(`http://127.0.0.1:${port}/accounts/10000`); // the old task may still be starting
    expect((await whoami(TOKENS.t2)).status).toBe(200);
    expect((await whoami(TOKENS.t3)).status).toBe(401);
    // the history went back with the spec: the failed release is not in it
    log.clear();
    expect((await rollback({ list: true })).success).toBe(true);
    expect(log.text()).toMatch(/\*2 /);
    expect(log.text()).not.toMatch(/\b3 .*sec-crash/);
  });

  it('the next successful deploy deletes the failed release’s unused secret version, keeps the ones releases use', async () => {
    const before = await secretsOfService();
    expect(before).toHaveLength(3); // t1 (release #1), t2 (release #2), t3 (the failed one)
    const r = await deploy(IMAGES.v2, TOKENS.t2, 'Hello from release 3');
    expect(r.success).toBe(true);
    expect(log.text()).toMatch(/Deleted 1 version that no service or recorded release uses: secret nxswarm-it-sec-\d+_admin_token_[0-9a-f]{8}/);
    expect(await secretsOfService()).toHaveLength(2);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_v2_0' });
  });

  it('rollback --list shows three releases; rollback returns to #2; rollback --to 1 to the first image, config and secret', async () => {
    expect((await rollback({ list: true })).success).toBe(true);
    const table = log.text();
    expect(table).toMatch(new RegExp(`\\*3 .*${REPO}:c-v2`));
    expect(table).toMatch(new RegExp(` 2 .*${REPO}:c-v1`));
    expect(table).toMatch(new RegExp(` 1 .*${REPO}:c-v1`));
    log.clear();

    const back = await rollback({});
    expect(back.success).toBe(true);
    expect(log.text()).toMatch(/Rolling nxswarm-it-sec-\d+ back to release #2/);
    expect(log.text()).toMatch(/Rolled back nxswarm-it-sec-\d+/);
    expect(log.text()).toMatch(/release\s+#4 \(the release of #2\)/);
    expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_0' });
    expect(await greeting()).toEqual({ status: 200, body: 'Hello from release 2' });

    const first = await rollback({ to: 1 });
    expect(first.success).toBe(true);
    expect(await greeting()).toEqual({ status: 200, body: 'Hello from release 1' });
    expect((await whoami(TOKENS.t1)).status).toBe(200);
    expect((await whoami(TOKENS.t2)).status).toBe(401);
    log.clear();
    await rollback({ list: true });
    expect(log.text()).toMatch(/\*5 .*rollback to #1/);
  });

  it('rollback to the current release is refused before any write', async () => {
    const version = await serviceVersion(SERVICE);
    const r = await rollback({ to: 5 });
    expect(r.success).toBe(false);
    expect(log.text()).toMatch(/release #5 is the current release/);
    expect(await serviceVersion(SERVICE)).toBe(version);
  });

  it('undeploy removes the service and then its secret and config versions', async () => {
    expect((await secretsOfService()).length).toBeGreaterThan(0);
    const r = await rmExecutor({ service: SERVICE }, ctx());
    expect(r.success).toBe(true);
    expect(log.text()).toMatch(/Deleted \d+ versions that no service or recorded release uses/);
    expect(await secretsOfService()).toEqual([]);
    expect(await docker('config', 'ls', '-q', '--filter', `label=io.nx-swarm.service=${SERVICE}`)).toBe('');
  });
});
