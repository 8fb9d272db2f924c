import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { CONTENT_DIGEST_LABEL } from './context-digest';
import { ApplyOptions, ImageError, ImagePlan, applyImage, prepareImage, pushFailureHint, receiptOf } from './image-build';

/** A dockerode stand-in recording calls; streams are recorded JSON lines. */
function fakeDocker(state: {
  images: Record<string, { Id: string; Labels: Record<string, string>; RepoDigests?: string[] }>;
  buildLines?: object[];
  pushLines?: object[];
  distribution?: Record<string, string>;
  /** Set by buildImage: the options it was called with. */
  buildOptions?: Record<string, unknown>;
}) {
  const calls: string[] = [];
  const stream = (lines: object[]) => Readable.from(lines.map((l) => JSON.stringify(l) + '\n'));
  const notFound = () => Object.assign(new Error('(HTTP code 404) no such image'), { statusCode: 404 });
  const docker = {
    getImage: (name: string) => ({
      inspect: async () => {
        calls.push(`inspect ${name}`);
        const found = state.images[name] ?? Object.values(state.images).find((i) => i.Id === name);
        if (!found) throw notFound();
        return { Id: found.Id, Size: 123, Created: '2020-01-01T00:00:00Z', RepoDigests: found.RepoDigests ?? [], Config: { Labels: found.Labels } };
      },
      tag: async (opts: { repo: string; tag: string }) => {
        calls.push(`tag ${name} ${opts.repo}:${opts.tag}`);
        const image = Object.values(state.images).find((i) => i.Id === name);
        if (image) state.images[`${opts.repo}:${opts.tag}`] = image;
      },
      distribution: async (opts: { authconfig?: { key: string } }) => {
        calls.push(`distribution ${name} auth=${Boolean(opts.authconfig)}`);
        const digest = state.distribution?.[name];
        if (!digest) throw Object.assign(new Error('manifest unknown'), { statusCode: 404 });
        return { Descriptor: { digest } };
      },
      push: async (opts: { tag: string; authconfig?: { key: string } }) => {
        calls.push(`push ${name}:${opts.tag} auth=${Boolean(opts.authconfig)}`);
        return stream(state.pushLines ?? []);
      },
    }),
    buildImage: async (_tar: unknown, opts: { t: string; labels: Record<string, string> }) => {
      calls.push(`build ${opts.t}`);
      state.buildOptions = opts;
      const lines = state.buildLines ?? [];
      if (!lines.some((l) => 'error' in l)) state.images[opts.t] = { Id: 'sha256:new', Labels: opts.labels };
      return stream(lines);
    },
  };
  return { docker: docker as unknown as Docker, calls };
}

let dir: string;
let plan: ImagePlan;
const logged: string[] = [];
const options = (env: Record<string, string> = {}): ApplyOptions => ({ log: (l) => logged.push(l), env, readText: () => undefined });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-apply-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  plan = {
    contextDir: dir,
    dockerfile: path.join(dir, 'Dockerfile'),
    files: [],
    repository: 'r/app',
    tags: ['latest'],
    buildArgs: {},
    labels: {},
    push: false,
    builder: 'engine',
  };
  logged.length = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('applyImage', () => {
  it('skips the build when the content tag exists with the matching label, and moves the tags', async () => {
    const prepared = prepareImage(plan);
    const { docker, calls } = fakeDocker({
      images: { [prepared.contentRef]: { Id: 'sha256:old', Labels: { [CONTENT_DIGEST_LABEL]: prepared.contentDigest } } },
    });
    const result = await applyImage(docker, prepared, options());
    expect(result).toMatchObject({ built: false, imageId: 'sha256:old', pushed: false });
    expect(calls.filter((c) => c.startsWith('build'))).toEqual([]);
    expect(calls).toContain('tag sha256:old r/app:latest');
  });

  it('rebuilds when the content tag carries another digest', async () => {
    const prepared = prepareImage(plan);
    const { docker, calls } = fakeDocker({
      images: { [prepared.contentRef]: { Id: 'sha256:old', Labels: { [CONTENT_DIGEST_LABEL]: 'other' } } },
      buildLines: [{ stream: 'Step 1/1 : FROM scratch\n' }, { aux: { ID: 'sha256:new' } }],
    });
    const result = await applyImage(docker, prepared, options());
    expect(result).toMatchObject({ built: true, imageId: 'sha256:new' });
    expect(calls).toContain(`build ${prepared.contentRef}`);
    expect(logged).toContain('Step 1/1 : FROM scratch');
  });

  it('fails with the daemon message from inside the 200 stream', async () => {
    const prepared = prepareImage(plan);
    const { docker } = fakeDocker({
      images: {},
      buildLines: [
        { stream: 'Step 1/2 : FROM scratch\n' },
        { stream: 'Step 2/2 : COPY x /x\n' },
        { errorDetail: { message: 'COPY failed: no x' }, error: 'COPY failed: no x' },
      ],
    });
    const error = await applyImage(docker, prepared, options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).kind).toBe('build');
    expect((error as ImageError).message).toBe(`The build of ${prepared.contentRef} failed at step 2/2: COPY failed: no x`);
  });

  it('skips the push when the registry serves the digest this daemon pushed', async () => {
    const prepared = prepareImage({ ...plan, repository: '127.0.0.1:5000/app', push: true });
    const digest = 'sha256:' + 'a'.repeat(64);
    const { docker, calls } = fakeDocker({
      images: {
        [prepared.contentRef]: {
          Id: 'sha256:old',
          Labels: { [CONTENT_DIGEST_LABEL]: prepared.contentDigest },
          RepoDigests: [`127.0.0.1:5000/app@${digest}`],
        },
      },
      distribution: { [prepared.contentRef]: digest, '127.0.0.1:5000/app:latest': digest },
    });
    const result = await applyImage(docker, prepared, options());
    expect(result).toMatchObject({ pushed: true, registryDigest: `127.0.0.1:5000/app@${digest}` });
    expect(calls.filter((c) => c.startsWith('push'))).toEqual([]);
  });

  it('pushes the content tag, then the convenience tags, and reports a denied push without secrets', async () => {
    const cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-cfg-'));
    try {
      const password = 'hunter2-secret';
      fs.writeFileSync(
        path.join(cfg, 'config.json'),
        JSON.stringify({ auths: { '127.0.0.1:5000': { auth: Buffer.from(`u:${password}`).toString('base64') } } }),
      );
      const prepared = prepareImage({ ...plan, repository: '127.0.0.1:5000/app', push: true });
      const { docker, calls } = fakeDocker({
        images: { [prepared.contentRef]: { Id: 'sha256:old', Labels: { [CONTENT_DIGEST_LABEL]: prepared.contentDigest } } },
        pushLines: [
          { status: 'Preparing', id: 'l1' },
          { errorDetail: { message: `denied for ${password}` }, error: 'denied' },
        ],
      });
      const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
      const error = (await applyImage(docker, prepared, { ...options({ DOCKER_CONFIG: cfg }), readText: read }).catch(
        (e: unknown) => e,
      )) as ImageError;
      expect(error.kind).toBe('push');
      expect(error.message).toMatch(
        /^The push of 127\.0\.0\.1:5000\/app:c-[0-9a-f]{12} failed: denied for \*\*\*\. Credentials for 127\.0\.0\.1:5000 came from auths in /,
      );
      expect(error.message).not.toContain(password);
      expect(calls).toContain(`push 127.0.0.1:5000/app:${prepared.contentTag} auth=true`);
    } finally {
      fs.rmSync(cfg, { recursive: true, force: true });
    }
  });
});

describe('applyImage: credentials for the base images (X-Registry-Config)', () => {
  const password = 'base-secret-42';
  let cfg: string;
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
  beforeEach(() => {
    cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-cfg-'));
    fs.writeFileSync(
      path.join(cfg, 'config.json'),
      JSON.stringify({
        auths: {
          'reg.example.com': { auth: Buffer.from(`builder:${password}`).toString('base64') },
          'push.example.com': { auth: Buffer.from(`pusher:other-secret`).toString('base64') },
        },
      }),
    );
  });
  afterEach(() => fs.rmSync(cfg, { recursive: true, force: true }));

  it.each([
    ['FROM a private base', 'FROM reg.example.com/base:1\nRUN true\n', {}, ['reg.example.com']],
    ['an ARG-named base', 'ARG REG=elsewhere.io\nFROM ${REG}/base\n', { REG: 'reg.example.com' }, ['reg.example.com']],
    ['COPY --from an image', 'FROM scratch\nCOPY --from=reg.example.com/tools:1 /bin/x /x\n', {}, ['reg.example.com']],
    ['a stage, not an image', 'FROM scratch AS build\nFROM build\nCOPY --from=build /x /x\n', {}, []],
    ['a registry without credentials', 'FROM quay.io/x/y\n', {}, []],
    ['scratch', 'FROM scratch\n', {}, []],
  ])('%s → registryconfig for %j', async (_n, dockerfile, buildArgs, registries) => {
    fs.writeFileSync(plan.dockerfile, dockerfile);
    const prepared = prepareImage({ ...plan, buildArgs });
    const state: Parameters<typeof fakeDocker>[0] = { images: {}, buildLines: [{ stream: 'Step 1/1\n' }] };
    const { docker } = fakeDocker(state);
    await applyImage(docker, prepared, { ...options({ DOCKER_CONFIG: cfg }), readText: read });
    const sent = (state.buildOptions?.registryconfig ?? {}) as Record<string, { username?: string; password?: string }>;
    expect(Object.keys(sent)).toEqual(registries);
    if (registries.length) {
      expect(sent['reg.example.com']).toMatchObject({ username: 'builder', password });
      expect(logged.find((l) => l.startsWith('base image credentials:'))).toMatch(
        /^base image credentials: reg\.example\.com \(auths in .*config\.json\)$/,
      );
    } else {
      expect(state.buildOptions).not.toHaveProperty('registryconfig');
    }
    expect(logged.join('\n')).not.toContain(password);
  });

  it('credentials that cannot be read (a missing credsStore helper) are a warning: the build goes on without them', async () => {
    fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ credsStore: 'nx-swarm-test-no-such-helper' }));
    fs.writeFileSync(plan.dockerfile, 'FROM reg.example.com/base:1\n');
    const state: Parameters<typeof fakeDocker>[0] = { images: {}, buildLines: [{ stream: 'Step 1/1\n' }] };
    const { docker } = fakeDocker(state);
    const result = await applyImage(docker, prepareImage(plan), { ...options({ DOCKER_CONFIG: cfg, PATH: '/nonexistent' }), readText: read });
    expect(result).toMatchObject({ built: true });
    expect(state.buildOptions).not.toHaveProperty('registryconfig');
    expect(logged.find((l) => l.startsWith('[warning]'))).toMatch(
      /^\[warning\] could not read registry credentials for reg\.example\.com, where a base image comes from: docker-credential-nx-swarm-test-no-such-helper is not on PATH .*\. Building without them\.$/,
    );
  });

  it('a pull refused for credentials fails with a login hint, and never shows the secret', async () => {
    fs.writeFileSync(plan.dockerfile, 'FROM reg.example.com/base:1\n');
    const prepared = prepareImage(plan);
    const { docker } = fakeDocker({
      images: {},
      buildLines: [
        { stream: 'Step 1/1 : FROM reg.example.com/base:1\n' },
        { errorDetail: { message: `unauthorized: ${password} rejected` }, error: 'x' },
      ],
    });
    const error = (await applyImage(docker, prepared, { ...options({ DOCKER_CONFIG: cfg }), readText: read }).catch((e: unknown) => e)) as ImageError;
    expect(error.kind).toBe('build');
    expect(error.message).toMatch(
      /failed at step 1\/1: unauthorized: \*\*\* rejected\. A base image comes from a registry that wants credentials: `docker login` to it/,
    );
    expect(error.message).not.toContain(password);
  });
});

describe('pushFailureHint', () => {
  const none = { server: '192.168.213.1:5213', source: 'none', credentials: undefined };
  const some = {
    server: '192.168.213.1:5213',
    source: 'auths in /cfg/config.json',
    credentials: { username: 'u', password: 'p', serveraddress: '192.168.213.1:5213' },
  };

  it.each([
    'no basic auth credentials',
    'unauthorized: authentication required',
    'denied: requested access to the resource is denied',
    'received unexpected HTTP status: 401 Unauthorized',
  ])('authentication failure "%s": docker login', (error) => {
    expect(pushFailureHint(error, none)).toMatch(/No credentials for 192\.168\.213\.1:5213 .*docker login 192\.168\.213\.1:5213/);
    expect(pushFailureHint(error, some)).toMatch(/came from auths in \/cfg\/config\.json; check them with `docker login/);
  });

  it('registry down: unreachable, no login hint (measured in the lab with the registry stopped)', () => {
    const hint = pushFailureHint('Get "http://192.168.213.1:5213/v2/": dial tcp 192.168.213.1:5213: connect: connection refused', none);
    expect(hint).toMatch(/registry at 192\.168\.213\.1:5213 is unreachable/);
    expect(hint).not.toMatch(/login/);
  });

  it('anything else: no hint', () => expect(pushFailureHint('blob upload unknown', none)).toBeUndefined());
});

describe('receiptOf (ImageResult → the receipt)', () => {
  const result = {
    repository: 'r/a',
    tags: ['latest'],
    contentTag: 'c-1',
    contentRef: 'r/a:c-1',
    contentDigest: 'd',
    imageId: 'sha256:1',
    size: 5,
    built: true,
    pushed: false,
    created: '2026-01-01T00:00:00Z',
  };
  it.each([
    ['not pushed: no registryDigest key, no daemon time', result, {}],
    ['pushed: the registry digest', { ...result, pushed: true, registryDigest: 'r/a@sha256:2' }, { registryDigest: 'r/a@sha256:2' }],
  ])('%s', (_n, r, extra) => {
    expect(receiptOf(r, 'RUN needs a container', new Date(0))).toEqual({
      ...Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'created' && k !== 'registryDigest')),
      ...extra,
      createdAt: '1970-01-01T00:00:00.000Z',
      builder: 'engine',
      builderReason: 'RUN needs a container',
    });
  });
});
