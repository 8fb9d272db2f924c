/**
 * Byte-reproducibility: the same inputs give the same layer, config, manifest and index bytes
 * whatever the checkout path, mtimes or umask. Golden digests pin the format: a change to any of
 * them changes every user's image digests, so it must be deliberate.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { scanBuildContext } from '../docker/build-context';
import { planDockerfile } from './dockerfile';
import { LayerCache, assemble, buildPlatformImage, dockerArchive } from './build';
import { GZIP_MEMBER_BYTES, gzipDeterministic, gzipDeterministicAsync, imageIndex } from './image';
import { readTar } from './tar';
import { sourceDateEpoch, globToRegExp } from './layers';
import { indexPlatforms, fileForPlatform, linuxPlatformsOf } from './platforms';

const DOCKERFILE = `FROM scratch
COPY app-linux-amd64 /app
COPY --chown=65532:65532 docker/data /data
COPY --chmod=0600 conf/ /etc/app/
ENV DB=/data/db
USER 65532:65532
EXPOSE 6767
HEALTHCHECK --interval=5s CMD ["/app","healthcheck"]
ENTRYPOINT ["/app"]
`;

function makeContext(umask: number, mtime: Date): string {
  const old = process.umask(umask);
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-oci-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'ignored.txt\n');
    fs.writeFileSync(path.join(dir, 'ignored.txt'), 'not sent');
    fs.writeFileSync(path.join(dir, 'app-linux-amd64'), Buffer.from('\x7fELF fake binary'), { mode: 0o777 });
    fs.mkdirSync(path.join(dir, 'docker/data'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'docker/data/.keep'), '');
    fs.mkdirSync(path.join(dir, 'conf/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'conf/a.yaml'), 'a: 1\n');
    fs.writeFileSync(path.join(dir, 'conf/sub/b.yaml'), 'b: 2\n');
    fs.symlinkSync('a.yaml', path.join(dir, 'conf/link.yaml'));
    for (const p of ['app-linux-amd64', 'docker/data/.keep', 'conf/a.yaml', 'conf/sub/b.yaml', 'conf/sub', 'conf', 'docker/data', 'docker']) {
      fs.utimesSync(path.join(dir, p), mtime, mtime);
    }
    return dir;
  } finally {
    process.umask(old);
  }
}

async function build(dir: string, epoch = 0) {
  const plan = planDockerfile(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
  if (plan.kind !== 'oci') throw new Error(plan.reason);
  const scanned = scanBuildContext({ contextDir: dir, dockerfile: path.join(dir, 'Dockerfile') });
  const img = buildPlatformImage({
    plan,
    platform: { os: 'linux', architecture: 'amd64' },
    buildArgs: {},
    labels: { 'org.opencontainers.image.title': 'app' },
    epoch,
    context: scanned.entries,
    read: (e) => fs.readFileSync(e.source!),
  });
  const assembled = await assemble([img], new LayerCache(undefined));
  return { img, assembled };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('OCI image bytes', () => {
  it('two checkouts with different paths, mtimes and umask give identical bytes and the golden digests', async () => {
    const a = makeContext(0o022, new Date('2001-02-03T04:05:06Z'));
    const b = makeContext(0o077, new Date('2030-01-01T00:00:00Z'));
    dirs.push(a, b);
    const [ra, rb] = [await build(a), await build(b)];
    expect(ra.img.layers.map((l) => l.tar.equals(rb.img.layers[ra.img.layers.indexOf(l)].tar))).toEqual([true, true, true]);
    expect(ra.img.config.bytes.equals(rb.img.config.bytes)).toBe(true);
    expect(ra.assembled.indexBlob.bytes.equals(rb.assembled.indexBlob.bytes)).toBe(true);
    expect({
      layers: ra.img.layers.map((l) => l.diffId),
      config: ra.img.config.descriptor.digest,
      manifest: ra.assembled.perPlatform[0].manifestBlob.descriptor.digest,
      index: ra.assembled.indexBlob.descriptor.digest,
    }).toEqual(GOLDEN);
  });

  it('layer entries: sorted, fixed mtime, normalised modes and owners, no names, parents of /etc/app', async () => {
    const dir = makeContext(0o022, new Date());
    dirs.push(dir);
    const { img } = await build(dir, 1700000000);
    const [bin, data, conf] = img.layers.map((l) =>
      readTar(l.tar).map(({ path: p, type, mode, uid, gid, mtime, linkname }) => ({ p, type, mode: mode.toString(8), uid, gid, mtime, linkname })),
    );
    expect(bin).toEqual([{ p: 'app', type: '0', mode: '755', uid: 0, gid: 0, mtime: 1700000000, linkname: '' }]);
    expect(data).toEqual([
      { p: 'data/', type: '5', mode: '755', uid: 65532, gid: 65532, mtime: 1700000000, linkname: '' },
      { p: 'data/.keep', type: '0', mode: '644', uid: 65532, gid: 65532, mtime: 1700000000, linkname: '' },
    ]);
    expect(conf.map((e) => `${e.p} ${e.type} ${e.mode} ${e.uid}`)).toEqual([
      'etc/ 5 755 0',
      'etc/app/ 5 600 0',
      'etc/app/a.yaml 0 600 0',
      'etc/app/link.yaml 2 777 0',
      'etc/app/sub/ 5 600 0',
      'etc/app/sub/b.yaml 0 600 0',
    ]);
    expect(img.configFile.created).toBe('2023-11-14T22:13:20Z');
    expect(img.configFile.config.Labels).toEqual({ 'org.opencontainers.image.title': 'app' });
  });

  it('gzip is deterministic: fixed header (mtime 0, OS 3), same bytes on every call', () => {
    const data = Buffer.from('x'.repeat(10000));
    const one = gzipDeterministic(data);
    expect(one.subarray(4, 10)).toEqual(Buffer.from([0, 0, 0, 0, 4, 3]));
    expect(gzipDeterministic(data).equals(one)).toBe(true);
    expect(zlib.gunzipSync(one).equals(data)).toBe(true);
  });

  it.each([
    ['empty', 0, 1],
    ['one byte under a member', GZIP_MEMBER_BYTES - 1, 1],
    ['exactly one member', GZIP_MEMBER_BYTES, 1],
    ['one byte over', GZIP_MEMBER_BYTES + 1, 2],
    ['3.5 members (a Go binary)', GZIP_MEMBER_BYTES * 3.5, 4],
  ])('gzip of %s: %i bytes in %i member(s), same bytes sync and async, gunzips back whole', async (_n, size, members) => {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 2654435761) >>> 24; // compressible, not trivial
    const sync = gzipDeterministic(data);
    const async = await gzipDeterministicAsync(data);
    expect(async.equals(sync)).toBe(true);
    // Each member starts with the fixed header: 1f 8b 08 00, mtime 0, xfl 4, OS 3.
    let count = 0;
    for (
      let i = sync.indexOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3]));
      i >= 0;
      i = sync.indexOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3]), i + 1)
    )
      count++;
    expect(count).toBeGreaterThanOrEqual(members);
    expect(zlib.gunzipSync(sync).equals(data)).toBe(true);
    if (members === 1) {
      // Up to one member the bytes are those of one plain gzip: small layers' digests did not move.
      const plain = zlib.gzipSync(data, { level: 1, memLevel: 8, windowBits: 15, strategy: zlib.constants.Z_DEFAULT_STRATEGY });
      plain.writeUInt32LE(0, 4);
      plain[9] = 3;
      expect(sync.equals(plain)).toBe(true);
    }
  });

  it('the docker-archive names the config and layers by digest and carries the tags', async () => {
    const dir = makeContext(0o022, new Date());
    dirs.push(dir);
    const { img } = await build(dir);
    const entries = readTar(dockerArchive(img, [], ['r/app:c-123', 'r/app:latest']));
    const manifest = JSON.parse(entries.find((e) => e.path === 'manifest.json')!.content.toString());
    expect(manifest).toEqual([
      {
        Config: `blobs/sha256/${img.config.descriptor.digest.slice(7)}`,
        RepoTags: ['r/app:c-123', 'r/app:latest'],
        Layers: img.layers.map((l) => `blobs/sha256/${l.diffId.slice(7)}`),
      },
    ]);
  });

  it('SOURCE_DATE_EPOCH: seconds, else 0; garbage is an error', () => {
    expect(sourceDateEpoch({})).toBe(0);
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' })).toBe(1700000000);
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/not a number of seconds/);
  });
});

describe('index and platforms', () => {
  const d = (n: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${n.repeat(64)}`, size: 1 });
  it('the index is sorted by platform whatever the build order', () => {
    const arm = { descriptor: d('b'), platform: { os: 'linux', architecture: 'arm64' } };
    const amd = { descriptor: d('a'), platform: { os: 'linux', architecture: 'amd64' } };
    expect(imageIndex([arm, amd])).toEqual(imageIndex([amd, arm]));
    expect(imageIndex([arm, amd]).manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
  });
  it.each([
    [
      { manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }, { platform: { os: 'linux', architecture: 'arm64' } }] },
      [
        { OS: 'linux', Architecture: 'amd64' },
        { OS: 'linux', Architecture: 'arm64' },
      ],
    ],
    [
      {
        manifests: [
          { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
          { platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
        ],
      },
      [{ OS: 'linux', Architecture: '' }],
    ],
    [
      { manifests: [{ platform: { os: 'unknown', architecture: 'unknown' } }, { platform: { os: 'linux', architecture: 'amd64' } }] },
      [{ OS: 'linux', Architecture: 'amd64' }],
    ],
    [{ schemaVersion: 2 }, []],
  ])('indexPlatforms %#', (index, platforms) => expect(indexPlatforms(index)).toEqual(platforms));
  it.each([
    ['dist/a/app-linux-amd64', 'linux/arm64', 'dist/a/app-linux-arm64'],
    ['dist/a/app-linux-arm64', 'linux/arm/v7', 'dist/a/app-linux-armv7'],
    ['dist/a/config.yaml', 'linux/arm64', 'dist/a/config.yaml'],
  ])('fileForPlatform(%s, %s)', (from, platform, to) => {
    const [os_, architecture, variant] = platform.split('/');
    expect(fileForPlatform(from, { os: os_, architecture, ...(variant ? { variant } : {}) })).toBe(to);
  });
  it('linux entries of a build matrix', () =>
    expect(linuxPlatformsOf(['linux/amd64', 'darwin/arm64', 'linux/arm64', 'linux/amd64'])).toEqual(['linux/amd64', 'linux/arm64']));
  it.each([
    ['*.go', 'main.go', true],
    ['*.go', 'sub/main.go', false],
    ['conf/[ab].yaml', 'conf/a.yaml', true],
    ['app-?', 'app-1', true],
  ])('glob %s ~ %s', (glob, p, match) => expect(globToRegExp(glob).test(p)).toBe(match));
});

const GOLDEN = {
  layers: [
    'sha256:5637dd982bab7afebefee83853682e0f4471b91c3fb9f3680ce9fae4a3157a32',
    'sha256:123647987f7c8dbf7bd289d5613246a04c8202dc082cc8b061c012fc7b6ae951',
    'sha256:3b6d68514e8189ec4cefe6e9f84dfd147a0ff50cb72842baae6c3a5ba218735c',
  ],
  config: 'sha256:fdee5f9449f6564e378f36ce9ce47433e710a6101059156d371f0562ff5060d8',
  manifest: 'sha256:45b0c066539e63db5caff130ecc86e77709aa9c214676f56c955b69180a8e16a',
  index: 'sha256:610f0b97c3d1d333e8939b97da7efc36d80489991135bcff4fe5564d1ef0009f',
};
