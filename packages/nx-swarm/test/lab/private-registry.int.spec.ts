/**
 * A private registry on the three-node lab (the lab registry restarted with htpasswd auth for this
 * file, `lab.sh registry-start --auth`, and back without it afterwards): a deploy with credentials
 * (withRegistryAuth) runs on a node that pulls with them (NX_SWARM_INSECURE_REGISTRIES declares the
 * plain-HTTP lab registry, as its engines' insecure-registries do); draining that node reschedules the task
 * onto a node that never pulled the image, and it starts there (moby#36045 is what happens without
 * the credentials in the spec); a deploy without credentials fails with the registry's own answer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import deployExecutor from '../../src/executors/swarm-deploy/executor';
import type { SwarmDeployOptions } from '../../src/lib/swarm/options';
import { replaceInFile } from '../support/accountservice';
import {
  LabImage,
  LabState,
  buildLabImage,
  captureLogger,
  dockerFor,
  ensureLab,
  executorContext,
  lab,
  removeServiceQuietly,
  serviceTasks,
  sleep,
} from './support/lab';

const SERVICE = 'nxlab-private';
const LAB_DATA = process.env.LAB_DATA ?? '/var/lib/nx-swarm-lab';
const log = captureLogger();
let state: LabState;
let startedHere = false;
let ws: string;
let credentials: string;
let noCredentials: string;
let image: LabImage;

const manager = () => dockerFor(state.dockerHost);
const options = (ref: string): SwarmDeployOptions => ({
  service: SERVICE,
  image: ref,
  replicas: 1,
  networks: ['nxlab_net'],
  ports: [{ target: 6767, published: 6868, mode: 'host' }],
  endpointMode: 'dnsrr',
  updateConfig: { parallelism: 1, delay: '0s', monitor: '2s', failureAction: 'rollback' },
  healthcheck: { interval: '1s', startPeriod: '1s' },
  timeout: '60s',
});
const deployWith = async (dockerConfig: string, ref: string) => {
  const mark = log.mark();
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: state.dockerHost, DOCKER_CONFIG: dockerConfig };
  delete env.DOCKER_CONTEXT;
  const r = await deployExecutor(options(ref), executorContext(ws, 'accountservice', 'private'), { env, pollMs: 250 });
  return { success: r.success, out: log.since(mark) };
};
/** Which images a node's engine has (by repository). */
const nodeHas = async (node: string, repoDigest: string) => {
  const n = state.nodes.find((x) => x.name === node)!;
  const imgs = await dockerFor(n.dockerHost).listImages();
  return imgs.some((i) => (i.RepoDigests ?? []).includes(repoDigest));
};

beforeAll(async () => {
  const up = await ensureLab();
  state = up.state;
  startedHere = up.startedHere;
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxlab-private-'));
  await removeServiceQuietly(state, SERVICE);
  // Credentials go to the lab registry over plain HTTP, as to any insecure registry: declared so.
  process.env.NX_SWARM_INSECURE_REGISTRIES = state.registry;
  // The registry with htpasswd auth, for this file only.
  await lab('registry-stop');
  const started = await lab('registry-start', '--auth');
  if (started.exitCode !== 0) throw new Error(`lab.sh registry-start --auth failed:\n${started.all}`);
  const password = fs.readFileSync(path.join(LAB_DATA, 'registry/password'), 'utf8').trim();
  credentials = fs.mkdtempSync(path.join(os.tmpdir(), 'nxlab-creds-'));
  fs.writeFileSync(
    path.join(credentials, 'config.json'),
    JSON.stringify({ auths: { [state.registry]: { auth: Buffer.from(`nxlab:${password}`).toString('base64') } } }),
  );
  noCredentials = fs.mkdtempSync(path.join(os.tmpdir(), 'nxlab-nocreds-'));
  fs.writeFileSync(path.join(noCredentials, 'config.json'), '{"auths":{}}');
  // A version of its own (a digest no node has pulled before).
  const unique = `Private${process.pid}_`;
  const built = await buildLabImage(state, ws, 'private', {
    builder: 'oci',
    repository: 'nxlab/private',
    dockerConfig: credentials,
    patch: (src) => replaceInFile(path.join(src, 'internal/dbclient/dbclient.go'), '"Person_" + strconv.Itoa(i)', `"${unique}" + strconv.Itoa(i)`),
  });
  if (!built.success || !built.image) throw new Error(`docker-image failed:\n${log.text()}`);
  image = built.image;
}, 300_000);

afterAll(async () => {
  try {
    if (state) {
      await removeServiceQuietly(state, SERVICE);
      for (const n of await manager().listNodes()) {
        if (n.Spec?.Availability !== 'active')
          await manager()
            .getNode(n.ID)
            .update({ ...n.Spec, Availability: 'active', version: n.Version?.Index });
      }
    }
    await lab('registry-stop');
    await lab('registry-start'); // as the lab.json says: without auth
    if (startedHere && !process.env.NXLAB_KEEP) await lab('down');
  } finally {
    delete process.env.NX_SWARM_INSECURE_REGISTRIES;
    log.restore();
    for (const d of [ws, credentials, noCredentials]) if (d) fs.rmSync(d, { recursive: true, force: true });
  }
}, 120_000);

it('without credentials: the deploy fails with the registry answer (401 to an anonymous pull) and `docker login`', async () => {
  const r = await deployWith(noCredentials, image.ref);
  expect(r.success).toBe(false);
  expect(r.out).toContain(`Registry: the registry ${state.registry} answers a pull of`);
  expect(r.out).toMatch(/without credentials with 401 .*UNAUTHORIZED/);
  expect(r.out).toContain(`docker login ${state.registry}`);
}, 120_000);

it('with credentials: the task starts; drained off its node, it starts on a node that never pulled the image', async () => {
  const r = await deployWith(credentials, image.ref);
  expect({ success: r.success, errors: r.out.split('\n').filter((l) => l.startsWith('[error]')) }).toEqual({ success: true, errors: [] });
  expect(r.out).toMatch(/withRegistryAuth \(auto\): sending credentials for/);
  // The service already has this spec (the failed deploy left it): re-issued with the credentials.
  expect(r.out).toMatch(/could not pull the image \(\d+ attempts?\); re-issuing it with the registry credentials/);
  const [first] = (await serviceTasks(manager(), SERVICE)).filter((t) => t.state === 'running');
  expect(first).toBeDefined();
  const repoDigest = `${image.receipt.repository}@${image.receipt.indexDigest}`;
  const fresh = [];
  for (const n of state.nodes) if (n.name !== first.node && !(await nodeHas(n.name, repoDigest))) fresh.push(n.name);
  expect(fresh.length).toBeGreaterThan(0); // nodes that never pulled it

  // Drain the node that runs it: swarm reschedules the task elsewhere.
  const node = (await manager().listNodes()).find((n) => n.Description?.Hostname === first.node)!;
  await manager()
    .getNode(node.ID)
    .update({ ...node.Spec, Availability: 'drain', version: node.Version?.Index });
  const deadline = Date.now() + 60_000;
  let moved: { node: string; state: string } | undefined;
  while (Date.now() < deadline) {
    moved = (await serviceTasks(manager(), SERVICE)).find((t) => t.node !== first.node && t.state === 'running');
    if (moved) break;
    await sleep(500);
  }
  expect(moved?.state).toBe('running');
  expect(fresh).toContain(moved!.node);
  expect(await nodeHas(moved!.node, repoDigest)).toBe(true);
}, 180_000);
