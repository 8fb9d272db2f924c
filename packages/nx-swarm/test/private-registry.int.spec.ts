/**
 * A private registry (Debian's docker-registry with htpasswd, on loopback) and the local swarm: the
 * OCI builder pushes with credentials and loads nothing, so the engine has to pull. Without
 * credentials the deploy fails with the registry's own answer and the fix; with them
 * (withRegistryAuth) the node pulls and the service answers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import dockerImageExecutor from '../src/executors/docker-image/executor';
import deployExecutor from '../src/executors/swarm-deploy/executor';
import { imageReceiptPath, readImageReceipt } from '../src/lib/docker/image-receipt';
import { ACCOUNTSERVICE_DIR, buildAccountserviceBinary } from './support/accountservice';
import { TestRegistry, startRegistry, writeDockerConfig } from './support/registry';
import { captureLogger, cleanup, executorContext, freePort, getJson } from './support/swarm';

const RUN = process.pid;
const SERVICE = `nxit-private-${RUN}`;
const REPO = `nxit/private-${RUN}`;
const log = captureLogger();
let registry: TestRegistry;
let ws: string;
let port: number;
let withCredentials: string;
let withoutCredentials: string;
let image: string;
let pulledRef: string;

const env = (dockerConfig: string): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  delete e.DOCKER_HOST;
  delete e.DOCKER_CONTEXT;
  return e;
};

const deployOptions = () => ({
  service: SERVICE,
  image,
  replicas: 1,
  ports: [{ target: 6767, published: port, mode: 'host' as const }],
  endpointMode: 'dnsrr' as const,
  updateConfig: { parallelism: 1, delay: '0s', failureAction: 'rollback' as const, monitor: '2s' },
  healthcheck: { interval: '1s', startPeriod: '1s' },
  timeout: '60s',
});

beforeAll(async () => {
  registry = await startRegistry();
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxit-private-'));
  port = await freePort();
  const dist = path.join(ws, 'dist', 'accountservice');
  await buildAccountserviceBinary(dist);
  withCredentials = writeDockerConfig(registry.host, registry.user, registry.password);
  withoutCredentials = fs.mkdtempSync(path.join(os.tmpdir(), 'nxit-nocreds-'));
  fs.writeFileSync(path.join(withoutCredentials, 'config.json'), '{"auths":{}}\n');
  const pushed = await dockerImageExecutor(
    {
      context: ACCOUNTSERVICE_DIR,
      files: [{ from: path.join(dist, 'accountservice-linux-amd64'), to: 'accountservice-linux-amd64' }],
      repository: `${registry.host}/${REPO}`,
      tags: ['private'],
      push: true,
      builder: 'oci',
      platforms: ['linux/amd64'],
    },
    executorContext(ws, 'accountservice', 'private'),
    { env: env(withCredentials) },
  );
  if (!pushed.success) throw new Error(`docker-image failed:\n${log.text()}`);
  const receipt = readImageReceipt(imageReceiptPath(ws, 'private'))!;
  image = `${receipt.contentRef}@${receipt.indexDigest}`;
  pulledRef = `${receipt.repository}@${receipt.indexDigest}`;
}, 180_000);

afterAll(async () => {
  log.restore();
  await cleanup([SERVICE], pulledRef ? [pulledRef] : []);
  await registry?.stop();
  for (const d of [ws, withCredentials, withoutCredentials]) if (d) fs.rmSync(d, { recursive: true, force: true });
}, 60_000);

it('without credentials: the deploy fails with the registry answer (401 to an anonymous pull) and `docker login`', async () => {
  const mark = log.mark();
  const r = await deployExecutor(deployOptions(), executorContext(ws, 'accountservice', 'private'), { env: env(withoutCredentials), pollMs: 250 });
  const out = log.since(mark);
  expect(r.success).toBe(false);
  expect(out).toContain(`the node could not pull ${image}`);
  expect(out).toMatch(
    new RegExp(`Registry: the registry ${registry.host.replace(/[.]/g, '\\.')} answers a pull of \\S+ without credentials with 401 .*UNAUTHORIZED`),
  );
  expect(out).toContain(`docker login ${registry.host}`);
  expect(out).not.toContain(registry.password);
}, 120_000);

it('with credentials in the docker config: withRegistryAuth sends them, the node pulls, the service answers', async () => {
  const mark = log.mark();
  const r = await deployExecutor(deployOptions(), executorContext(ws, 'accountservice', 'private'), { env: env(withCredentials), pollMs: 250 });
  const out = log.since(mark);
  expect({ success: r.success, errors: out.split('\n').filter((l) => l.startsWith('[error]')) }).toEqual({ success: true, errors: [] });
  expect(out).toMatch(/withRegistryAuth \(auto\): sending credentials for/);
  // The service already has this spec (the failed deploy left it): re-issued with the credentials.
  expect(out).toMatch(/could not pull the image \(\d+ attempts?\); re-issuing it with the registry credentials/);
  expect(out).not.toContain(registry.password);
  expect(await getJson(`http://127.0.0.1:${port}/accounts/10000`)).toEqual({ id: '10000', name: 'Person_0' });
}, 120_000);
