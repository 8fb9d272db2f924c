/**
 * docker-image against the real engine and a real registry. Never skipped: without a daemon,
 * the first test fails.
 *
 * Workspace: a temp dir holding a copy of accountservice's Dockerfile, .dockerignore and docker/,
 * and the real accountservice binary built into dist/accountservice (as the build target would).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExecutorContext, logger } from '@nx/devkit';
import { execa } from 'execa';
import runExecutor from '../src/executors/docker-image/executor';
import type { DockerImageExecutorSchema } from '../src/executors/docker-image/schema';
import { ImageReceipt, imageReceiptPath, readImageReceipt } from '../src/lib/docker/image-receipt';
import { CONTENT_DIGEST_LABEL } from '../src/lib/docker/context-digest';
import { ACCOUNTSERVICE_DIR, buildAccountserviceBinary } from './support/accountservice';
import { TestRegistry, registryManifestDigest, startRegistry, writeDockerConfig } from './support/registry';

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PREFIX = `nxswarm-test-img-${RUN}`;
const REPOSITORY = `${PREFIX}/accountservice`;
const CONTAINER = `${PREFIX}-run`;
const BINARY_FROM = 'dist/accountservice/accountservice-linux-amd64';

let root: string;
let binary: string;
let registry: TestRegistry | undefined;
const tempDirs: string[] = [];
let output: string[] = [];

const docker = async (...args: string[]) => (await execa('docker', args)).stdout.trim();

function contextFor(projectName = 'accountservice', projectRoot = 'accountservice'): ExecutorContext {
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName,
    targetName: 'image',
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: projectRoot } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as ExecutorContext;
}

// The Engine builder's path (builder auto picks the OCI builder for this Dockerfile: test/oci-image.int.spec.ts).
const baseOptions: DockerImageExecutorSchema = {
  builder: 'engine',
  repository: REPOSITORY,
  files: [{ from: BINARY_FROM, to: 'accountservice-linux-amd64' }],
};

async function run(options: DockerImageExecutorSchema, context = contextFor()): Promise<{ success: boolean; ms: number; text: string }> {
  output = [];
  const started = Date.now();
  const result = await runExecutor(options, context);
  return { ...result, ms: Date.now() - started, text: output.join('\n') };
}

function receipt(projectRoot = 'accountservice'): ImageReceipt {
  const r = readImageReceipt(imageReceiptPath(root, projectRoot));
  if (!r) throw new Error('no receipt written');
  return r;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

beforeAll(async () => {
  // Fails (does not skip) when there is no daemon.
  await docker('version', '--format', '{{.Server.APIVersion}}');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-img-ws-'));
  tempDirs.push(root);
  const project = path.join(root, 'accountservice');
  fs.mkdirSync(project, { recursive: true });
  for (const name of ['Dockerfile', '.dockerignore', 'docker']) {
    fs.cpSync(path.join(ACCOUNTSERVICE_DIR, name), path.join(project, name), { recursive: true });
  }
  binary = await buildAccountserviceBinary(path.join(root, 'dist', 'accountservice'));
  const sink = (...args: unknown[]) => output.push(args.map(String).join(' '));
  jest.spyOn(logger, 'info').mockImplementation(sink);
  jest.spyOn(logger, 'error').mockImplementation(sink);
  jest.spyOn(logger, 'warn').mockImplementation(sink);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await execa('docker', ['rm', '-f', CONTAINER], { reject: false });
  const refs = (await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { reject: false })).stdout
    .split('\n')
    .filter((r) => r.includes(PREFIX));
  if (refs.length > 0) await execa('docker', ['image', 'rm', '-f', ...refs], { reject: false });
  await registry?.stop();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('docker-image executor (real engine)', () => {
  let first: ImageReceipt;

  it('builds the accountservice image from the build output: FROM scratch, non-root, healthcheck, small', async () => {
    const result = await run(baseOptions);
    expect(result.text).toMatch(/Step 1\/\d+ : FROM scratch/);
    expect(result.success).toBe(true);
    first = receipt();
    expect(first).toMatchObject({ repository: REPOSITORY, tags: ['latest'], built: true, pushed: false });
    expect(first.contentTag).toMatch(/^c-[0-9a-f]{12}$/);
    expect(first.contentRef).toBe(`${REPOSITORY}:${first.contentTag}`);

    const inspect = JSON.parse(await docker('image', 'inspect', first.contentRef))[0];
    expect(inspect.Id).toBe(first.imageId);
    // Other repositories may share the image id (classic builder cache); ours carries exactly these two.
    const ours = (inspect.RepoTags as string[]).filter((t) => t.startsWith(`${REPOSITORY}:`)).sort();
    expect(ours).toEqual([first.contentRef, `${REPOSITORY}:latest`].sort());
    expect(inspect.Config.Labels[CONTENT_DIGEST_LABEL]).toBe(first.contentDigest);
    expect(inspect.Config.User).toBe('65532:65532');
    expect(inspect.Config.Healthcheck.Test).toEqual(['CMD', '/accountservice', 'healthcheck']);
    expect(inspect.RootFS.Layers.length).toBeLessThanOrEqual(3); // scratch: binary + data dir only
    const binarySize = fs.statSync(binary).size;
    expect(first.size).toBe(inspect.Size);
    expect(Math.abs(first.size - binarySize)).toBeLessThan(100 * 1024);
  });

  it('runs: serves Person_0 on /accounts/10000 and turns healthy', async () => {
    await docker('run', '-d', '--name', CONTAINER, '-p', '127.0.0.1::6767', first.contentRef);
    const port = (await docker('port', CONTAINER, '6767/tcp')).split('\n')[0].split(':').pop();
    const body = await until('GET /accounts/10000', 30_000, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/accounts/10000`);
      return res.status === 200 ? res.text() : undefined;
    });
    expect(body).toContain('Person_0');
    const health = await until('healthy', 60_000, async () => {
      const status = await docker('inspect', '-f', '{{.State.Health.Status}}', CONTAINER);
      if (status === 'unhealthy') throw new Error('container is unhealthy');
      return status === 'healthy' ? status : undefined;
    });
    expect(health).toBe('healthy');
  });

  it('a second run skips the build: same image, same creation time, fast', async () => {
    const createdBefore = await docker('image', 'inspect', '-f', '{{.Created}}', first.contentRef);
    const result = await run(baseOptions);
    expect(result.success).toBe(true);
    const second = receipt();
    expect(second).toMatchObject({ built: false, imageId: first.imageId, contentTag: first.contentTag });
    expect(await docker('image', 'inspect', '-f', '{{.Created}}', first.contentRef)).toBe(createdBefore);
    expect(result.text).toContain('build skipped');
    expect(result.text).not.toMatch(/Step \d+\/\d+/);

    console.log(`docker-image skip run: ${result.ms} ms`);
    expect(result.ms).toBeLessThan(1500); // target < 300 ms; generous bound for a loaded 2-core box
  });

  it('moves a convenience tag to the image without building', async () => {
    const result = await run({ ...baseOptions, tags: ['latest', 'stable'] });
    expect(result.success).toBe(true);
    expect(receipt()).toMatchObject({ built: false, tags: ['latest', 'stable'] });
    expect(await docker('image', 'inspect', '-f', '{{.Id}}', `${REPOSITORY}:stable`)).toBe(first.imageId);
  });

  it('rebuilds after `docker image rm`', async () => {
    await docker('rm', '-f', CONTAINER);
    await docker('image', 'rm', first.contentRef, `${REPOSITORY}:latest`, `${REPOSITORY}:stable`);
    const result = await run(baseOptions);
    expect(result.success).toBe(true);
    expect(receipt()).toMatchObject({ built: true, contentTag: first.contentTag });
    expect(result.text).toMatch(/Step \d+\/\d+/);
  });

  it('a changed binary gives a new content tag', async () => {
    const other = path.join(root, 'dist', 'other', 'accountservice-linux-amd64');
    fs.mkdirSync(path.dirname(other), { recursive: true });
    fs.copyFileSync(binary, other);
    fs.appendFileSync(other, Buffer.from([0]));
    const result = await run({
      ...baseOptions,
      tags: [],
      files: [{ from: 'dist/other/accountservice-linux-amd64', to: 'accountservice-linux-amd64' }],
    });
    expect(result.success).toBe(true);
    expect(receipt()).toMatchObject({ built: true });
    expect(receipt().contentTag).not.toBe(first.contentTag);
  });

  it.each([
    ['an unknown instruction', 'FROM scratch\nFROBNICATE /x\n', /unknown instruction: FROBNICATE/i],
    ["a COPY of a missing file (OCI builder, the engine's wording)", 'FROM scratch\nCOPY not-there /x\n', /COPY failed: .*not-there/],
  ])("fails with the builder's message on %s", async (_name, dockerfile, message) => {
    const project = path.join(root, `bad-${Math.random().toString(36).slice(2, 8)}`);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'Dockerfile'), dockerfile);
    const result = await run({ repository: `${PREFIX}/bad` }, contextFor('bad', path.relative(root, project)));
    expect(result.success).toBe(false);
    expect(result.text).toMatch(message);
    expect(result.text).toMatch(/Fix the Dockerfile/);
    expect(fs.existsSync(imageReceiptPath(root, path.relative(root, project)))).toBe(false);
  });

  it('fails before the daemon when the build output is missing', async () => {
    const result = await run({ ...baseOptions, files: [{ from: 'dist/accountservice/missing-binary' }] });
    expect(result.success).toBe(false);
    expect(result.text).toContain('files[0].from dist/accountservice/missing-binary does not exist. Run the build target first');
  });

  it('fails before the daemon on an invalid repository or tag', async () => {
    const result = await run({ ...baseOptions, repository: 'Bad Name', tags: ['-x'] });
    expect(result.success).toBe(false);
    expect(result.text).toMatch(/Invalid repository/);
    expect(result.text).toMatch(/Invalid tag: tag "-x" must start/);
  });
});

describe('docker-image push (real registry with htpasswd)', () => {
  const savedDockerConfig = process.env.DOCKER_CONFIG;
  afterEach(() => {
    if (savedDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = savedDockerConfig;
  });

  let pushed: ImageReceipt;
  const pushOptions = (): DockerImageExecutorSchema => ({ ...baseOptions, registry: registry!.host, push: true });

  it('pushes with credentials from DOCKER_CONFIG; the receipt digest is what the registry serves', async () => {
    registry = await startRegistry();
    const configDir = writeDockerConfig(registry.host, registry.user, registry.password);
    tempDirs.push(configDir);
    process.env.DOCKER_CONFIG = configDir;
    const result = await run(pushOptions());
    expect(result.success).toBe(true);
    expect(result.text).not.toContain(registry.password);
    pushed = receipt();
    expect(pushed).toMatchObject({ repository: `${registry.host}/${REPOSITORY}`, pushed: true });
    expect(pushed.registryDigest).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/${REPOSITORY}@sha256:[0-9a-f]{64}$`));
    const digest = pushed.registryDigest!.split('@')[1];
    expect(await registryManifestDigest(registry, REPOSITORY, pushed.contentTag)).toBe(digest);
    expect(await registryManifestDigest(registry, REPOSITORY, 'latest')).toBe(digest);
    expect(JSON.stringify(pushed)).not.toContain(registry.password);
  });

  it('a second push run skips both build and push', async () => {
    process.env.DOCKER_CONFIG = tempDirs[tempDirs.length - 1];
    const result = await run(pushOptions());
    expect(result.success).toBe(true);
    expect(receipt()).toMatchObject({ built: false, pushed: true, registryDigest: pushed.registryDigest });
    expect(result.text).toContain('push skipped');
    expect(result.text).not.toMatch(/Pushing|Pushed/);

    console.log(`docker-image skip run with push check: ${result.ms} ms`);
  });

  it('fails clearly without credentials', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-dockerconfig-empty-'));
    tempDirs.push(empty);
    process.env.DOCKER_CONFIG = empty;
    const result = await run({ ...pushOptions(), tags: ['nocreds'] });
    expect(result.success).toBe(false);
    expect(result.text).toMatch(/push of .*:c-[0-9a-f]{12} failed: .*(no basic auth credentials|unauthorized)/);
    expect(result.text).toMatch(/docker login/);
    expect(result.text).not.toContain(registry!.password);
  });

  it('fails with the registry words on a wrong password, without echoing it', async () => {
    const wrongPassword = 'wrong-password-1234';
    const configDir = writeDockerConfig(registry!.host, registry!.user, wrongPassword);
    tempDirs.push(configDir);
    process.env.DOCKER_CONFIG = configDir;
    const result = await run({ ...pushOptions(), tags: ['wrongpw'] });
    expect(result.success).toBe(false);
    expect(result.text).toMatch(/failed: .*(unauthorized|authentication required)/i);
    expect(result.text).not.toContain(wrongPassword);
    expect(result.text).not.toContain(Buffer.from(`${registry!.user}:${wrongPassword}`).toString('base64'));
  });
});
