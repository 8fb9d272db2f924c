/**
 * pushImages against a fake registry: which requests it sends, in which order, for what the registry
 * already has. No network.
 */
import { planDockerfile } from './dockerfile';
import { LayerCache, assemble, buildPlatformImage, pushImages, type Assembled } from './build';
import type { PlatformImage } from './build';
import type { RegistryClient } from './registry';

const DOCKERFILE = 'FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n';

function image(architecture: string, content: string): PlatformImage {
  const plan = planDockerfile(DOCKERFILE);
  if (plan.kind !== 'oci') throw new Error(plan.reason);
  return buildPlatformImage({
    plan,
    platform: { os: 'linux', architecture },
    buildArgs: {},
    labels: {},
    epoch: 0,
    context: [{ path: 'app', type: 'file', mode: 0o755, source: `/fake/${architecture}` }],
    read: () => Buffer.from(content),
  });
}

/** A registry that has `blobs` and `manifests` (digest or tag → digest), logging each request. */
function fakeRegistry(has: { blobs?: Set<string>; manifests?: Map<string, string> } = {}) {
  const blobs = has.blobs ?? new Set<string>();
  const manifests = has.manifests ?? new Map<string, string>();
  const log: string[] = [];
  const short = (d: string) => (d.startsWith('sha256:') ? d.slice(7, 15) : d);
  const client = {
    async hasBlob(_repo: string, digest: string) {
      log.push(`HEAD blob ${short(digest)}`);
      return blobs.has(digest);
    },
    async mountBlob() {
      log.push('POST mount');
      return false;
    },
    async getBlob() {
      throw new Error('no base images here');
    },
    async uploadBlob(_repo: string, digest: string) {
      log.push(`upload ${short(digest)}`);
      blobs.add(digest);
    },
    async headManifest(_repo: string, ref: string) {
      log.push(`HEAD manifest ${short(ref)}`);
      const digest = manifests.get(ref);
      return digest ? { digest } : undefined;
    },
    async putManifest(_repo: string, ref: string, _type: string, bytes: Buffer) {
      log.push(`PUT manifest ${short(ref)}`);
      const { createHash } = await import('node:crypto');
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      manifests.set(ref, digest);
      return digest;
    },
  };
  return { client: client as unknown as RegistryClient, log, short, blobs, manifests };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function push(reg: ReturnType<typeof fakeRegistry>, images: PlatformImage[], tags = ['c-1', 'latest']) {
  return pushImages(reg.client, 'acme/app', 'registry.test', images, assemble(images, new LayerCache(undefined)), tags, () => undefined);
}

describe('pushImages', () => {
  it('checks and sends the config while the layers are still compressing', async () => {
    const img = image('amd64', 'v1');
    const reg = fakeRegistry();
    const assembling = deferred<Assembled>();
    const done = pushImages(reg.client, 'acme/app', 'registry.test', [img], assembling.promise, ['latest'], () => undefined);
    await new Promise((r) => setImmediate(r));
    const config = reg.short(img.config.descriptor.digest);
    expect(reg.log).toEqual([`HEAD blob ${config}`, `upload ${config}`]);
    assembling.resolve(await assemble([img], new LayerCache(undefined)));
    await done;
    expect(reg.log.filter((l) => l.startsWith('HEAD blob'))).toHaveLength(2); // the config once, then the layer
  });

  it('to an empty registry: uploads, then puts manifest and tags without asking for them', async () => {
    const img = image('amd64', 'v1');
    const reg = fakeRegistry();
    const assembled = await assemble([img], new LayerCache(undefined));
    const layer = reg.short(assembled.perPlatform[0].own[0].descriptor.digest);
    const config = reg.short(img.config.descriptor.digest);
    const manifest = reg.short(assembled.perPlatform[0].manifestBlob.descriptor.digest);
    const result = await push(reg, [img]);
    expect(reg.log.filter((l) => !l.startsWith('HEAD blob') && !l.startsWith('upload'))).toEqual([
      `PUT manifest ${manifest}`,
      'PUT manifest c-1',
      'PUT manifest latest',
    ]);
    expect(new Set(reg.log.filter((l) => l.startsWith('upload')))).toEqual(new Set([`upload ${layer}`, `upload ${config}`]));
    expect(result).toMatchObject({ manifestsPut: 1, tagsPut: ['c-1', 'latest'], tagsCurrent: [], blobs: { uploaded: 2, existing: 0 } });
  });

  it('a second push of the same images: only HEADs', async () => {
    const images = [image('amd64', 'v1'), image('arm64', 'v1-arm')];
    const reg = fakeRegistry();
    await push(reg, images);
    reg.log.length = 0;
    const result = await push(reg, images);
    expect(reg.log.every((l) => l.startsWith('HEAD '))).toBe(true);
    expect(reg.log.filter((l) => l.startsWith('HEAD manifest'))).toHaveLength(4); // 2 manifests, 2 tags
    expect(result).toMatchObject({ manifestsPut: 0, tagsPut: [], tagsCurrent: ['c-1', 'latest'], blobs: { uploaded: 0, existing: 4 } });
  });

  it('blobs and manifest there, a tag elsewhere: asks, and moves only that tag', async () => {
    const img = image('amd64', 'v1');
    const reg = fakeRegistry();
    await push(reg, [img], ['c-1']);
    reg.manifests.set('latest', 'sha256:0ld');
    reg.log.length = 0;
    const result = await push(reg, [img], ['c-1', 'latest']);
    expect(reg.log.filter((l) => l.startsWith('PUT'))).toEqual(['PUT manifest latest']);
    expect(result).toMatchObject({ manifestsPut: 0, tagsPut: ['latest'], tagsCurrent: ['c-1'] });
  });

  it('one platform changed: its manifest is put without a HEAD, the unchanged one is asked for', async () => {
    const reg = fakeRegistry();
    const arm = image('arm64', 'same');
    await push(reg, [image('amd64', 'v1'), arm]);
    reg.log.length = 0;
    const amd2 = image('amd64', 'v2');
    const result = await push(reg, [amd2, arm]);
    const assembled = await assemble([amd2, arm], new LayerCache(undefined));
    const [newManifest, armManifest] = assembled.perPlatform.map((p) => reg.short(p.manifestBlob.descriptor.digest));
    expect(reg.log).toContain(`HEAD manifest ${armManifest}`);
    expect(reg.log).not.toContain(`HEAD manifest ${newManifest}`);
    expect(reg.log).toContain(`PUT manifest ${newManifest}`);
    expect(reg.log.filter((l) => l.startsWith('HEAD manifest c-') || l.startsWith('HEAD manifest latest'))).toEqual([]);
    expect(result).toMatchObject({ manifestsPut: 1, tagsPut: ['c-1', 'latest'] });
  });

  it('a failed compression fails the push, and the early checks leave no unhandled rejection', async () => {
    const img = image('amd64', 'v1');
    const reg = fakeRegistry();
    (reg.client as unknown as { hasBlob: () => Promise<boolean> }).hasBlob = async () => {
      throw new Error('registry down');
    };
    await expect(
      pushImages(reg.client, 'acme/app', 'registry.test', [img], Promise.reject(new Error('gzip failed')), ['latest'], () => undefined),
    ).rejects.toThrow('gzip failed');
  });
});
