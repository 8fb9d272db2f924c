/**
 * The in-process OCI builder against a real registry (Debian's docker-registry, htpasswd) and the
 * real engine: multi-arch push with no engine reachable, what the registry serves (index, manifests,
 * the ELF machine of each binary), a second push that only HEADs, the same digest from a second
 * checkout, a base image reused by mount, and a load into the engine that runs and turns healthy.
 * Run under the engine lock (the load test uses the engine).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { execa } from 'execa';
import runExecutor from '../src/executors/docker-image/executor';
import type { DockerImageExecutorSchema } from '../src/executors/docker-image/schema';
import { ImageReceipt, imageReceiptPath, readImageReceipt } from '../src/lib/docker/image-receipt';
import { readTar } from '../src/lib/oci/tar';
import { ACCOUNTSERVICE_DIR, buildAccountserviceBinary } from './support/accountservice';
import { captureLogger, executorContext } from './support/executor-context';
import { TestRegistry, startRegistry, writeDockerConfig } from './support/registry';

jest.mock('dockerode', () => {
  (globalThis as { __dockerodeLoaded?: boolean }).__dockerodeLoaded = true;
  return jest.requireActual('dockerode');
});
const dockerodeLoaded = () => Boolean((globalThis as { __dockerodeLoaded?: boolean }).__dockerodeLoaded);

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const REPO = `nxswarm-oci-${RUN}/accountservice`;
const CONTAINER = `nxswarm-oci-${RUN}-run`;
const ELF_MACHINE: Record<string, number> = { amd64: 0x3e, arm64: 0xb7 };

let registry: TestRegistry;
let root: string;
const tempDirs: string[] = [];
const log = captureLogger();
const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, DOCKER_HOST: process.env.DOCKER_HOST };

function makeWorkspace(): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-oci-ws-'));
  tempDirs.push(ws);
  for (const name of ['Dockerfile', '.dockerignore', 'docker']) {
    fs.cpSync(path.join(ACCOUNTSERVICE_DIR, name), path.join(ws, 'accountservice', name), { recursive: true });
  }
  return ws;
}

const options = (extra: DockerImageExecutorSchema = {}): DockerImageExecutorSchema => ({
  repository: REPO,
  registry: registry.host,
  push: true,
  platforms: ['linux/amd64', 'linux/arm64'],
  files: [{ from: 'dist/accountservice/accountservice-linux-amd64', to: 'accountservice-linux-amd64' }],
  ...extra,
});

async function run(opts: DockerImageExecutorSchema, ws = root, project = 'accountservice') {
  log.clear();
  const started = Date.now();
  const result = await runExecutor(opts, executorContext(ws, project, project));
  return { ...result, ms: Date.now() - started, text: log.text(), receipt: readImageReceipt(imageReceiptPath(ws, project)) as ImageReceipt };
}

async function registryGet(p: string, accept?: string): Promise<Response> {
  const res = await fetch(`${registry.url}${p}`, { headers: { Authorization: registry.basicAuth, ...(accept ? { Accept: accept } : {}) } });
  if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
  return res;
}

beforeAll(async () => {
  registry = await startRegistry();
  root = makeWorkspace();
  const dist = path.join(root, 'dist', 'accountservice');
  await buildAccountserviceBinary(dist);
  await execa('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w -buildid=', '-o', path.join(dist, 'accountservice-linux-arm64'), '.'], {
    cwd: ACCOUNTSERVICE_DIR,
    env: { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'arm64', GOTOOLCHAIN: 'local' },
  });
  const configDir = writeDockerConfig(registry.host, registry.user, registry.password);
  tempDirs.push(configDir);
  process.env.DOCKER_CONFIG = configDir;
}, 180_000);

afterAll(async () => {
  log.restore();
  process.env.DOCKER_CONFIG = saved.DOCKER_CONFIG;
  if (saved.DOCKER_HOST === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved.DOCKER_HOST;
  await execa('docker', ['rm', '-f', CONTAINER], { reject: false });
  const refs = (await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { reject: false })).stdout
    .split('\n')
    .filter((r) => r.includes(`nxswarm-oci-${RUN}`));
  if (refs.length) await execa('docker', ['image', 'rm', '-f', ...refs], { reject: false });
  await registry?.stop();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('OCI builder → registry, no engine', () => {
  let first: ImageReceipt;

  it('pushes linux/amd64 + linux/arm64 as one index with no engine reachable, loading no dockerode', async () => {
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const r = await run(options());
      expect(r.success).toBe(true);
      expect(r.text).toMatch(/builder: oci \(the Dockerfile needs no container\); platforms: linux\/amd64, linux\/arm64/);
      expect(r.text).not.toContain(registry.password);
      expect(dockerodeLoaded()).toBe(false);
      first = r.receipt;
      expect(first).toMatchObject({ builder: 'oci', pushed: true, repository: `${registry.host}/${REPO}` });
      expect(first.registryDigest).toBe(`${registry.host}/${REPO}@${first.indexDigest}`);
      expect(first.platforms!.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);

      console.log(`oci push (2 platforms, cold): ${r.ms} ms`);
    } finally {
      delete process.env.DOCKER_HOST;
    }
  });

  it('the registry serves the index, both manifests, and each layer holds the right ELF machine', async () => {
    for (const tag of [first.contentTag, 'latest']) {
      const res = await registryGet(`/v2/${REPO}/manifests/${tag}`, 'application/vnd.oci.image.index.v1+json');
      expect(res.headers.get('docker-content-digest')).toBe(first.indexDigest);
    }
    const index = (await (await registryGet(`/v2/${REPO}/manifests/${first.indexDigest}`, 'application/vnd.oci.image.index.v1+json')).json()) as {
      manifests: Array<{ digest: string; platform: { architecture: string; os: string } }>;
    };
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const m of index.manifests) {
      const manifest = (await (await registryGet(`/v2/${REPO}/manifests/${m.digest}`, 'application/vnd.oci.image.manifest.v1+json')).json()) as {
        config: { digest: string };
        layers: Array<{ digest: string; mediaType: string }>;
      };
      const config = (await (await registryGet(`/v2/${REPO}/blobs/${manifest.config.digest}`)).json()) as {
        architecture: string;
        config: { User: string };
      };
      expect(config.architecture).toBe(m.platform.architecture);
      expect(config.config.User).toBe('65532:65532');
      const files = [];
      for (const layer of manifest.layers) {
        expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
        const gz = Buffer.from(await (await registryGet(`/v2/${REPO}/blobs/${layer.digest}`)).arrayBuffer());
        files.push(...readTar(zlib.gunzipSync(gz)));
      }
      const binary = files.find((f) => f.path === 'accountservice')!;
      expect(binary.content.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(binary.content.readUInt16LE(18)).toBe(ELF_MACHINE[m.platform.architecture]);
      expect(files.find((f) => f.path === 'data/')).toMatchObject({ uid: 65532, gid: 65532 });
    }
  });

  it('a second push sends nothing: only HEADs, same digest', async () => {
    const r = await run(options());
    expect(r.success).toBe(true);
    expect(r.receipt.registryDigest).toBe(first.registryDigest);
    expect(r.text).toMatch(/push: 0 blob\(s\) uploaded \(0\.0 KB\), 5 already there, 0 manifest\(s\) put, tags already current/);
    expect(r.receipt.built).toBe(false);

    console.log(`oci push (2 platforms, nothing new): ${r.ms} ms`);
  });

  it('a second checkout at another path, with other mtimes, gives the same index digest', async () => {
    const other = makeWorkspace();
    fs.cpSync(path.join(root, 'dist'), path.join(other, 'dist'), { recursive: true });
    const later = new Date(Date.now() + 86_400_000);
    for (const f of ['dist/accountservice/accountservice-linux-amd64', 'accountservice/Dockerfile', 'accountservice/docker/data'])
      fs.utimesSync(path.join(other, f), later, later);
    const r = await run(options({ tags: ['other-checkout'] }), other);
    expect(r.success).toBe(true);
    expect(r.receipt.indexDigest).toBe(first.indexDigest);
    expect(r.receipt.contentTag).toBe(first.contentTag);
  });

  it('a base image pushed to the registry is used with FROM, mounted into the new repository, not re-uploaded', async () => {
    const baseWs = makeWorkspace();
    fs.mkdirSync(path.join(baseWs, 'base'));
    fs.writeFileSync(path.join(baseWs, 'base', 'Dockerfile'), 'FROM scratch\nCOPY motd /etc/motd\nENV FROM_BASE=yes\nLABEL layer=base\n');
    fs.writeFileSync(path.join(baseWs, 'base', 'motd'), 'base layer\n');
    const base = await run(
      { repository: `nxswarm-oci-${RUN}/base`, registry: registry.host, push: true, platforms: ['linux/amd64', 'linux/arm64'] },
      baseWs,
      'base',
    );
    expect(base.success).toBe(true);

    fs.writeFileSync(
      path.join(root, 'accountservice', 'Dockerfile.onbase'),
      `FROM ${registry.host}/nxswarm-oci-${RUN}/base:latest\nCOPY accountservice-linux-amd64 /accountservice\nENTRYPOINT ["/accountservice"]\n`,
    );
    const r = await run(options({ dockerfile: 'Dockerfile.onbase', repository: `nxswarm-oci-${RUN}/onbase` }));
    expect(r.success).toBe(true);
    expect(r.text).toMatch(/base image .*nxswarm-oci-.*\/base:latest \(linux\/amd64\): sha256:/);
    expect(r.text).toMatch(/base layer: mounted from nxswarm-oci-.*\/base/);
    expect(r.text).not.toMatch(/base layer: uploaded/);
    const index = (await (await registryGet(`/v2/nxswarm-oci-${RUN}/onbase/manifests/latest`, 'application/vnd.oci.image.index.v1+json')).json()) as {
      manifests: Array<{ digest: string }>;
    };
    const manifest = (await (
      await registryGet(`/v2/nxswarm-oci-${RUN}/onbase/manifests/${index.manifests[0].digest}`, 'application/vnd.oci.image.manifest.v1+json')
    ).json()) as { layers: unknown[]; config: { digest: string } };
    expect(manifest.layers).toHaveLength(2);
    const config = (await (await registryGet(`/v2/nxswarm-oci-${RUN}/onbase/blobs/${manifest.config.digest}`)).json()) as {
      config: { Env: string[]; Labels: Record<string, string> };
    };
    expect(config.config.Env).toContain('FROM_BASE=yes');
    expect(config.config.Labels).toEqual({ layer: 'base' });

    const again = await run(options({ dockerfile: 'Dockerfile.onbase', repository: `nxswarm-oci-${RUN}/onbase` }));
    expect(again.text).toMatch(/push: 0 blob\(s\) uploaded/);
  });

  it("resolves --chown user and group names from the base image's /etc/passwd and /etc/group (no engine)", async () => {
    const baseWs = makeWorkspace();
    const dir = path.join(baseWs, 'usersbase');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY passwd /etc/passwd\nCOPY group /etc/group\n');
    fs.writeFileSync(
      path.join(dir, 'passwd'),
      'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\napp:x:1000:1000::/app:\n',
    );
    fs.writeFileSync(path.join(dir, 'group'), 'root:x:0:\nnonroot:x:65532:\napp:x:1000:\nstaff:x:50:app\n');
    const base = await run(
      { repository: `nxswarm-oci-${RUN}/usersbase`, registry: registry.host, push: true, platforms: ['linux/amd64'] },
      baseWs,
      'usersbase',
    );
    expect({ success: base.success, text: base.success ? '' : base.text }).toEqual({ success: true, text: '' });

    fs.writeFileSync(
      path.join(root, 'accountservice', 'Dockerfile.names'),
      `FROM ${registry.host}/nxswarm-oci-${RUN}/usersbase:latest\nCOPY --chown=app:staff accountservice-linux-amd64 /accountservice\nCOPY --chown=nonroot docker/data /data\nUSER nonroot\n`,
    );
    const r = await run(options({ dockerfile: 'Dockerfile.names', repository: `nxswarm-oci-${RUN}/names`, platforms: ['linux/amd64'] }));
    expect({ success: r.success, text: r.success ? '' : r.text }).toEqual({ success: true, text: '' });
    expect(r.text).toMatch(/builder: oci/);
    expect(r.text).toMatch(/--chown names from .*usersbase:latest \(linux\/amd64\): 3 user\(s\), 4 group\(s\)/);
    const manifestRef = r.receipt.platforms![0].manifestDigest;
    const manifest = (await (
      await registryGet(`/v2/nxswarm-oci-${RUN}/names/manifests/${manifestRef}`, 'application/vnd.oci.image.manifest.v1+json')
    ).json()) as {
      layers: Array<{ digest: string }>;
    };
    // Two base layers (passwd, group), then this build's two.
    expect(manifest.layers).toHaveLength(4);
    const entries: ReturnType<typeof readTar> = [];
    for (const l of manifest.layers.slice(2)) {
      entries.push(
        ...readTar(zlib.gunzipSync(Buffer.from(await (await registryGet(`/v2/nxswarm-oci-${RUN}/names/blobs/${l.digest}`)).arrayBuffer()))),
      );
    }
    const owner = (p: string) => entries.filter((e) => e.path.replace(/\/$/, '') === p).map((e) => `${e.uid}:${e.gid}`);
    expect(owner('accountservice')).toEqual(['1000:50']);
    expect(owner('data')).toEqual(['65532:65532']);
    expect(owner('data/.keep')).toEqual(['65532:65532']);

    // A name the base image does not have fails the build, naming the file it looked in.
    fs.writeFileSync(
      path.join(root, 'accountservice', 'Dockerfile.nobody'),
      `FROM ${registry.host}/nxswarm-oci-${RUN}/usersbase:latest\nCOPY --chown=nobody accountservice-linux-amd64 /accountservice\n`,
    );
    const bad = await run(
      options({ dockerfile: 'Dockerfile.nobody', repository: `nxswarm-oci-${RUN}/names`, platforms: ['linux/amd64'], tags: ['nobody'] }),
    );
    expect(bad.success).toBe(false);
    expect(bad.text).toMatch(/line 2: COPY --chown=nobody: no user "nobody" in \/etc\/passwd of the base image .*usersbase:latest/);
  });

  it('fails with the registry words and a login hint on a wrong password, without echoing it', async () => {
    const wrong = writeDockerConfig(registry.host, registry.user, 'wrong-password-1234');
    tempDirs.push(wrong);
    const savedConfig = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = wrong;
    try {
      const r = await run(options({ tags: ['wrongpw'] }));
      expect(r.success).toBe(false);
      expect(r.text).toMatch(/push of .* failed: .*401 (unauthorized|UNAUTHORIZED).*docker login/);
      expect(r.text).not.toContain('wrong-password-1234');
    } finally {
      process.env.DOCKER_CONFIG = savedConfig;
    }
  });
});

describe('OCI builder → engine (load)', () => {
  it('loads the engine platform: image id = config digest; runs, serves Person_0, turns healthy; second run skips the load', async () => {
    // Same content → same image id on every machine, so other runs may have loaded this very image:
    // a label unique to this run makes an image the engine cannot have yet.
    const loadOptions = { repository: REPO, files: options().files, platforms: ['linux/amd64', 'linux/arm64'], labels: { 'test.run': RUN } };
    const r = await run(loadOptions);
    expect(r.success).toBe(true);
    expect(r.text).toMatch(/builder: oci .*platforms: linux\/amd64 .*loading into the engine/);
    expect(r.receipt).toMatchObject({ builder: 'oci', pushed: false, loaded: { platform: 'linux/amd64', loadedNow: true } });
    const amd64Config = r.receipt.platforms![0].configDigest;
    expect(r.receipt.imageId).toBe(amd64Config);
    const inspect = JSON.parse((await execa('docker', ['image', 'inspect', r.receipt.contentRef])).stdout)[0];
    expect(inspect.Id).toBe(amd64Config);
    expect(inspect.Config.Healthcheck.Test).toEqual(['CMD', '/accountservice', 'healthcheck']);

    await execa('docker', ['run', '-d', '--name', CONTAINER, '-p', '127.0.0.1::6767', r.receipt.contentRef]);
    const port = (await execa('docker', ['port', CONTAINER, '6767/tcp'])).stdout.split('\n')[0].split(':').pop();
    let body = '';
    for (let i = 0; i < 120 && !body.includes('Person_0'); i++) {
      body = await fetch(`http://127.0.0.1:${port}/accounts/10000`)
        .then((x) => x.text())
        .catch(() => '');
      if (!body.includes('Person_0')) await new Promise((res) => setTimeout(res, 250));
    }
    expect(body).toContain('Person_0');
    let health = '';
    for (let i = 0; i < 120 && health !== 'healthy'; i++) {
      health = (await execa('docker', ['inspect', '-f', '{{.State.Health.Status}}', CONTAINER])).stdout.trim();
      if (health === 'unhealthy') break;
      if (health !== 'healthy') await new Promise((res) => setTimeout(res, 500));
    }
    expect(health).toBe('healthy');

    const again = await run(loadOptions);
    expect(again.success).toBe(true);
    expect(again.text).toContain('load skipped');
    expect(again.receipt.imageId).toBe(amd64Config);

    console.log(`oci load: first ${r.ms} ms, unchanged ${again.ms} ms`);
  }, 120_000);

  it('the Engine builder gives the same owners for --chown names, pulling the private base with the credentials of config.json', async () => {
    // Dockerfile.names (from the test above) FROM the private base in the htpasswd registry. Without
    // X-Registry-Config the engine could not pull it ("no basic auth credentials").
    const r = await run({
      repository: `nxswarm-oci-${RUN}/names-engine`,
      files: options().files,
      dockerfile: 'Dockerfile.names',
      builder: 'engine',
    });
    expect({ success: r.success, text: r.success ? '' : r.text }).toEqual({ success: true, text: '' });
    expect(r.text).toMatch(new RegExp(`base image credentials: ${registry.host.replace(/[.]/g, '\\.')} \\(auths in .*config\\.json\\)`));
    expect(r.text).not.toContain(registry.password);
    const saved = await execa('docker', ['image', 'save', r.receipt.contentRef], { encoding: 'buffer' });
    const files = new Map(readTar(Buffer.from(saved.stdout)).map((e) => [e.path, e.content]));
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Array<{ Layers: string[] }>;
    const entries = manifest[0].Layers.flatMap((l) => readTar(files.get(l)!));
    const owner = (p: string) => entries.filter((e) => e.path.replace(/\/$/, '') === p).map((e) => `${e.uid}:${e.gid}`);
    expect(owner('accountservice')).toEqual(['1000:50']);
    expect(owner('data')).toEqual(['65532:65532']);
    expect(owner('data/.keep')).toEqual(['65532:65532']);
  }, 120_000);
});
