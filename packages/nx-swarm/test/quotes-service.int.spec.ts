/**
 * quotes-service, the tutorial's second service, against the real engine and single-node swarm:
 *
 * 1. through the executors: go-cross-build → docker-image → swarm-deploy, internal only (no
 *    published port) on my_network, and a client container on the overlay reaches it by its service
 *    name. dnsrr, since this kernel has no IPVS for vip.
 * 2. through the real nx CLI, in a scratch copy of the workspace (its own git repository): the
 *    plugin's inferred targets, `nx run-many -t deploy` deploys quotes-service and accountservice,
 *    `nx affected -t deploy` after a quotes-service change deploys only quotes-service.
 *
 * The client container is a FROM scratch image of test/fixtures/quotes-client (nothing is pulled).
 * Every name starts with nxswarm-q- and carries the process id; everything is removed afterwards.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExecutorContext, logger } from '@nx/devkit';
import { execa } from 'execa';
import goBuildExecutor from '../src/executors/go-cross-build/executor';
import imageExecutor from '../src/executors/docker-image/executor';
import deployExecutor from '../src/executors/swarm-deploy/executor';
import rmExecutor from '../src/executors/swarm-service-rm/executor';
import { buildClientImage, callFromOverlay as callOverlay } from './support/quotes-client';
import { copyWithoutOutputs, editJson, gitIn, ownAccountservice, runNx, scratchWorkspace } from './support/nx-cli';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const QUOTES_DIR = path.join(WORKSPACE_ROOT, 'apps/quotes-service');
const ID = `${process.pid}`;
const NETWORK = 'my_network';
const CLIENT_IMAGE = `nxswarm-q/client-${ID}:test`;

interface Quote {
  quote: string;
  author: string;
  language: string;
  ipAddress: string;
  host: string;
  strength: number;
}
const callFromOverlay = <T = Quote>(url: string, n = 10) => callOverlay<T>(CLIENT_IMAGE, NETWORK, url, n);

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execa('docker', args, { env: { DOCKER_BUILDKIT: '0' } });
  return stdout.trim();
}

async function runningTasks(service: string): Promise<string[]> {
  const out = await docker('service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.ID}}');
  return out.split('\n').filter(Boolean).sort();
}

async function removeServices(names: string[]): Promise<void> {
  for (const s of names) await execa('docker', ['service', 'rm', s], { reject: false });
  // Wait for the tasks' containers to go, so the overlay and ports are free for the next test.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { stdout } = await execa('docker', ['ps', '-aq', ...names.flatMap((s) => ['--filter', `label=com.docker.swarm.service.name=${s}`])], {
      reject: false,
    });
    if (!stdout.trim()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function removeImages(repositoryPrefix: string): Promise<void> {
  const { stdout } = await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { reject: false });
  const refs = stdout.split('\n').filter((r) => r.startsWith(repositoryPrefix));
  if (refs.length) await execa('docker', ['image', 'rm', '-f', ...refs], { reject: false });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function context(root: string, projectName: string, projectRoot: string, targetName: string): ExecutorContext {
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName,
    targetName,
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: projectRoot } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as unknown as ExecutorContext;
}

const logLines: string[] = [];
beforeAll(async () => {
  for (const level of ['info', 'warn', 'error', 'log'] as const) {
    jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      logLines.push(`[${level}] ${args.map(String).join(' ')}`);
    });
  }
  await buildClientImage(CLIENT_IMAGE);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await execa('docker', ['image', 'rm', '-f', CLIENT_IMAGE], { reject: false });
});

describe('quotes-service through the executors: internal, on my_network, reached by its name', () => {
  const SERVICE = `nxswarm-q-quotes-${ID}`;
  const REPOSITORY = `nxswarm-q/quotes-${ID}`;
  const PROJECT_ROOT = 'apps/quotes-service';
  let ws: string;

  beforeAll(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-q-ws-'));
    copyWithoutOutputs(QUOTES_DIR, path.join(ws, PROJECT_ROOT));
    // quotes-service imports the shared module (a relative replace in its go.mod).
    copyWithoutOutputs(path.join(QUOTES_DIR, '../../libs'), path.join(ws, 'libs'));
  });
  afterAll(async () => {
    await removeServices([SERVICE]);
    await removeImages(REPOSITORY);
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('go-cross-build → docker-image → swarm-deploy (2 replicas, endpointMode dnsrr, no published port)', async () => {
    const ctx = (target: string) => context(ws, 'quotes-service', PROJECT_ROOT, target);
    const built = await goBuildExecutor({ outputPath: `dist/${PROJECT_ROOT}`, targets: ['linux/amd64'] }, ctx('build'));
    expect(built.success).toBe(true);
    expect(fs.existsSync(path.join(ws, 'dist', PROJECT_ROOT, 'quotes-service-linux-amd64'))).toBe(true);

    const image = await imageExecutor(
      {
        repository: REPOSITORY,
        files: [{ from: `dist/${PROJECT_ROOT}/quotes-service-linux-amd64`, to: 'quotes-service-linux-amd64' }],
      },
      ctx('image'),
    );
    expect(image.success).toBe(true);

    const deployed = await deployExecutor(
      { service: SERVICE, replicas: 2, networks: [NETWORK], endpointMode: 'dnsrr', timeout: '120s' },
      ctx('deploy'),
    );
    expect(deployed.success).toBe(true);
    expect(await runningTasks(SERVICE)).toHaveLength(2);

    const spec = JSON.parse(await docker('service', 'inspect', SERVICE, '--format', '{{json .}}'));
    expect(spec.Spec.EndpointSpec?.Mode).toBe('dnsrr');
    expect(spec.Spec.EndpointSpec?.Ports ?? []).toEqual([]);
    expect(spec.Endpoint?.Ports ?? []).toEqual([]);
    const networkId = await docker('network', 'inspect', NETWORK, '--format', '{{.Id}}');
    expect(spec.Spec.TaskTemplate.Networks.map((n: { Target: string }) => n.Target)).toEqual([networkId]);
  });

  it('a container on my_network gets random quotes by the service name, with the serving host', async () => {
    const lines = await callFromOverlay(`http://${SERVICE}:8080/api/quote?strength=2`, 20);
    expect(lines).toHaveLength(20);
    for (const l of lines) {
      expect(l.status).toBe(200);
      expect(l.body).toEqual({
        quote: expect.any(String),
        author: expect.any(String),
        language: 'en',
        ipAddress: expect.stringMatching(/^[0-9a-f]{12}\/\d+\.\d+\.\d+\.\d+$/),
        host: expect.stringMatching(/^[0-9a-f]{12}$/),
        strength: 2,
      });
      expect(l.body.ipAddress.startsWith(`${l.body.host}/`)).toBe(true);
    }
    // Random: 20 draws from 12 quotes are all the same with probability 12^-19.
    expect(new Set(lines.map((l) => l.body.quote)).size).toBeGreaterThan(1);
    // The hosts are the service's task containers (a task's hostname is its container id).
    const containers = (await docker('ps', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`, '--format', '{{.ID}}')).split('\n');
    const hosts = new Set(lines.map((l) => l.body.host));
    for (const host of hosts) expect(containers).toContain(host);
    // Each request opens a new connection and resolves the name again; dnsrr answers with both
    // tasks' addresses in rotating order, so 20 requests reach both replicas.
    expect(hosts.size).toBe(2);
  });

  it('is not reachable from the host: nothing is published', async () => {
    const ports = await docker('service', 'inspect', SERVICE, '--format', '{{json .Endpoint.Ports}}');
    expect(['null', '[]']).toContain(ports);
  });

  it('swarm-service-rm removes it', async () => {
    const r = await rmExecutor({ service: SERVICE }, context(ws, 'quotes-service', PROJECT_ROOT, 'undeploy'));
    expect(r.success).toBe(true);
    await expect(docker('service', 'inspect', SERVICE)).rejects.toThrow();
  });
});

describe('nx run-many / nx affected -t deploy with quotes-service and accountservice (real nx CLI, inferred targets)', () => {
  const QUOTES = `nxswarm-q-quotes-nx-${ID}`;
  const ACCOUNTS = `nxswarm-q-acct-nx-${ID}`;
  const REPO_PREFIX = `nxswarm-q/nx-${ID}-`;
  let ws: string;
  let accountsPort: number;

  const nx = (...args: string[]) => runNx(ws, ...args);
  const git = (...args: string[]) => gitIn(ws, ...args);

  beforeAll(async () => {
    accountsPort = await freePort();
    ws = scratchWorkspace('nxswarm-q-nxws-', ['packages', 'accountservice', 'apps/quotes-service']);
    // Own service names, repositories and port; dnsrr + host-mode port (no IPVS here).
    ownAccountservice(ws, { service: ACCOUNTS, port: accountsPort, repository: `${REPO_PREFIX}acct` });
    // quotes-service has no explicit targets: these partial targets override the inferred ones.
    editJson(ws, 'apps/quotes-service/project.json', (p) => {
      p.targets = {
        image: { options: { repository: `${REPO_PREFIX}quotes` } },
        deploy: { options: { service: QUOTES, networks: [NETWORK], endpointMode: 'dnsrr' } },
        undeploy: { options: { service: QUOTES } },
      };
    });
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-qm', 'scratch workspace');
  });
  afterAll(async () => {
    await removeServices([QUOTES, ACCOUNTS]);
    await removeImages(REPO_PREFIX);
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('quotes-service gets its targets from the plugin, overridden option by option by project.json', async () => {
    const r = await nx('show', 'project', 'quotes-service', '--json');
    expect(r.exitCode).toBe(0);
    const project = JSON.parse(r.stdout);
    expect(project.targets.deploy).toMatchObject({
      executor: 'nx-swarm:swarm-deploy',
      dependsOn: ['image'],
      // Cacheable: swarm-deploy's hasher adds the engine's state to these (docs/caching.md).
      cache: true,
      inputs: [{ dependentTasksOutputFiles: '**/image-id.json', transitive: false }],
      options: { service: QUOTES, networks: [NETWORK], endpointMode: 'dnsrr' },
    });
    expect(project.targets.image.options).toEqual({
      files: [{ from: 'dist/apps/quotes-service/quotes-service-linux-amd64', to: 'quotes-service-linux-amd64' }],
      repository: `${REPO_PREFIX}quotes`,
    });
    expect(project.targets.build).toMatchObject({
      executor: 'nx-swarm:go-cross-build',
      cache: true,
      inputs: ['goBuild', { input: 'production', projects: ['common', 'nx-swarm'] }],
    });
  });

  let accountTasks: string[] = [];
  let quoteTasks: string[] = [];

  it('nx run-many -t deploy --parallel=2 deploys both; they reach each other by name on my_network', async () => {
    const r = await nx('run-many', '-t', 'deploy', '--parallel=2');
    expect(r.all).toContain('nx run quotes-service:deploy');
    expect(r.all).toContain('nx run accountservice:deploy');
    // On a failure, what nx printed is in the message.
    expect({ exitCode: r.exitCode, output: r.exitCode === 0 ? '' : r.all }).toEqual({ exitCode: 0, output: '' });
    accountTasks = await runningTasks(ACCOUNTS);
    quoteTasks = await runningTasks(QUOTES);
    expect(accountTasks).toHaveLength(1);
    expect(quoteTasks).toHaveLength(1);

    const [quote] = await callFromOverlay(`http://${QUOTES}:8080/api/quote`, 1);
    expect(quote.body.language).toBe('en');
    const [account] = await callFromOverlay<{ id: string; name: string }>(`http://${ACCOUNTS}:6767/accounts/10000`, 1);
    expect(account.body).toEqual({ id: '10000', name: 'Person_0' });
  });

  it('after a quotes-service change, nx affected -t deploy redeploys quotes-service only', async () => {
    const file = path.join(ws, 'apps/quotes-service/quotes.go');
    const src = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, src.replace('"Clear is better than clever."', '"Clear is better than clever, always."'));

    const affected = await nx('show', 'projects', '--affected', '--base=HEAD', '-t', 'deploy');
    expect(affected.stdout.split('\n').filter(Boolean)).toEqual(['quotes-service']);

    const r = await nx('affected', '-t', 'deploy', '--base=HEAD');
    expect(r.exitCode).toBe(0);
    expect(r.all).toContain('nx run quotes-service:deploy');
    expect(r.all).not.toContain('accountservice');
    const newQuoteTasks = await runningTasks(QUOTES);
    expect(newQuoteTasks).toHaveLength(1);
    expect(newQuoteTasks).not.toEqual(quoteTasks);
    expect(await runningTasks(ACCOUNTS)).toEqual(accountTasks);
  });

  it('nx run-many -t undeploy removes both', async () => {
    const r = await nx('run-many', '-t', 'undeploy');
    expect(r.exitCode).toBe(0);
    await expect(docker('service', 'inspect', QUOTES)).rejects.toThrow();
    await expect(docker('service', 'inspect', ACCOUNTS)).rejects.toThrow();
  });
});
