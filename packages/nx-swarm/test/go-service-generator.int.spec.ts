/**
 * nx g nx-swarm:go-service, for real: in a scratch copy of the workspace (OS temp folder, its own git
 * repository, node_modules linked, the plugin NOT registered yet), generate a service, then — with no
 * edit at all — test, build, image and deploy it to the real swarm through the real nx CLI, call it
 * by name from a container on my_network, and remove it. Also: the generator registers the plugin,
 * and a second run changes nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { buildClientImage, callFromOverlay } from './support/quotes-client';
import { gitIn, runNx, scratchWorkspace } from './support/nx-cli';

const ID = `${process.pid}`;
const NAME = `nxswarm-q-gen-${ID}`;
const REPOSITORY = `someprefix/${NAME}`;
const CLIENT_IMAGE = `nxswarm-q/gen-client-${ID}:test`;
const NETWORK = 'my_network';

let ws: string;

const nx = (...args: string[]) => runNx(ws, ...args);
const git = (...args: string[]) => gitIn(ws, ...args);

beforeAll(async () => {
  ws = scratchWorkspace('nxswarm-q-genws-', ['packages']);
  // Start from a workspace without the plugin entry, as a new user would.
  const nxJson = JSON.parse(fs.readFileSync(path.join(ws, 'nx.json'), 'utf8'));
  delete nxJson.plugins;
  fs.writeFileSync(path.join(ws, 'nx.json'), JSON.stringify(nxJson, null, 2) + '\n');
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-qm', 'scratch workspace');
  await buildClientImage(CLIENT_IMAGE);
});

afterAll(async () => {
  await execa('docker', ['service', 'rm', NAME], { reject: false });
  const { stdout } = await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', REPOSITORY], { reject: false });
  const refs = stdout.split('\n').filter(Boolean);
  await execa('docker', ['image', 'rm', '-f', CLIENT_IMAGE, ...refs], { reject: false });
  if (ws) fs.rmSync(ws, { recursive: true, force: true });
});

describe(`nx g nx-swarm:go-service ${NAME} (real nx CLI, scratch workspace)`, () => {
  it('generates the service and registers the plugin', async () => {
    const r = await nx('g', 'nx-swarm:go-service', NAME, '--no-interactive');
    expect(r.exitCode).toBe(0);
    expect(r.all).toContain(`CREATE apps/${NAME}/Dockerfile`);
    expect(r.all).toContain('registered the nx-swarm plugin');
    const nxJson = JSON.parse(fs.readFileSync(path.join(ws, 'nx.json'), 'utf8'));
    expect(nxJson.plugins).toEqual([{ plugin: 'nx-swarm', exclude: ['**/test/fixtures/**'] }]);
    await git('add', '-A');
    await git('commit', '-qm', 'generated');
  });

  it('a second run changes nothing', async () => {
    const r = await nx('g', 'nx-swarm:go-service', NAME, '--no-interactive');
    expect(r.exitCode).toBe(0);
    expect(r.all).not.toMatch(/^(CREATE|UPDATE) /m);
    expect((await git('status', '--porcelain')).stdout).toBe('');
  });

  it('rejects a name that is no DNS label, saying why', async () => {
    const r = await nx('g', 'nx-swarm:go-service', 'Bad_Name', '--no-interactive');
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/The name "Bad_Name" can't be used: it names the swarm service \(a DNS name on the overlay network\)/);
    expect((await git('status', '--porcelain')).stdout).toBe('');
  });

  it('the code is gofmt-clean, vets, and its tests pass through nx', async () => {
    const dir = path.join(ws, 'apps', NAME);
    expect((await execa('gofmt', ['-l', '.'], { cwd: dir })).stdout).toBe('');
    await execa('go', ['vet', './...'], { cwd: dir, env: { GOTOOLCHAIN: 'local' } });
    const r = await nx('run', `${NAME}:test`);
    expect(r.exitCode).toBe(0);
    expect(r.all).toMatch(/ok\s+example\.com\//);
  });

  it('the inferred graph: build → image → deploy', async () => {
    const r = await nx('show', 'project', NAME, '--json');
    const project = JSON.parse(r.stdout);
    expect(Object.keys(project.targets).sort()).toEqual(['build', 'deploy', 'image', 'rollback', 'serve', 'test', 'tidy', 'undeploy', 'vet']);
    // It imports the workspace's shared module through the root go.work.
    expect(fs.readFileSync(path.join(ws, 'go.work'), 'utf8')).toContain(`./apps/${NAME}`);
    expect((await nx('graph', '--file=graph.json')).exitCode).toBe(0);
    const graph = JSON.parse(fs.readFileSync(path.join(ws, 'graph.json'), 'utf8')).graph;
    fs.rmSync(path.join(ws, 'graph.json'));
    expect(graph.dependencies[NAME]).toContainEqual(expect.objectContaining({ target: 'common', type: 'static' }));
    expect(project.targets.image.dependsOn).toEqual(['build']);
    expect(project.targets.deploy.dependsOn).toEqual(['image']);
  });

  it('deploys with no edits (host configuration: dnsrr) and answers by name on my_network', async () => {
    const r = await nx('run', `${NAME}:deploy`, '--configuration=host');
    expect(r.all).toContain(`nx run ${NAME}:build`);
    expect(r.all).toContain(`nx run ${NAME}:image`);
    expect(r.exitCode).toBe(0);
    const [about] = await callFromOverlay<{ service: string; version: string; host: string }>(CLIENT_IMAGE, NETWORK, `http://${NAME}:8080/`, 1);
    expect(about.body).toEqual({ service: NAME, version: 'dev', host: expect.stringMatching(/^[0-9a-f]{12}$/) });
    const [health] = await callFromOverlay(CLIENT_IMAGE, NETWORK, `http://${NAME}:8080/health`, 1);
    expect(health.body).toEqual({ status: 'UP' });
    // The image's HEALTHCHECK (the binary's healthcheck mode) reports healthy.
    const { stdout } = await execa('docker', ['ps', '--filter', `label=com.docker.swarm.service.name=${NAME}`, '--format', '{{.Status}}']);
    expect(stdout).toMatch(/\(healthy\)/);
  });

  it('undeploy removes it', async () => {
    const r = await nx('run', `${NAME}:undeploy`);
    expect(r.exitCode).toBe(0);
    await expect(execa('docker', ['service', 'inspect', NAME])).rejects.toThrow();
  });
});
