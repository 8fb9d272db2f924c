import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { EXTERNAL_DOCKERFILE_NAME, packBuildContext, scanBuildContext } from './build-context';
import { computeContentDigest } from './context-digest';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-ctx-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A context like accountservice's: .dockerignore excludes everything but the binary and docker/. */
function makeContext(root: string, order: 'forward' | 'reverse' = 'forward'): { contextDir: string; binary: string } {
  const contextDir = path.join(root, 'svc');
  const files: [string, string][] = [
    ['Dockerfile', 'FROM scratch\nCOPY app /app\n'],
    ['.dockerignore', '*\n!app-linux-amd64\n!docker\n'],
    ['main.go', 'package main\n'],
    ['internal/x.go', 'package internal\n'],
    ['docker/data/.keep', ''],
  ];
  for (const [rel, content] of order === 'forward' ? files : [...files].reverse()) {
    fs.mkdirSync(path.dirname(path.join(contextDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(contextDir, rel), content);
  }
  const binary = path.join(root, 'dist', 'app-linux-amd64');
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  fs.writeFileSync(binary, Buffer.from('\x7fELF fake binary'));
  fs.chmodSync(binary, 0o755);
  return { contextDir, binary };
}

function digestOfDir(root: string): string {
  const { contextDir, binary } = { contextDir: path.join(root, 'svc'), binary: path.join(root, 'dist', 'app-linux-amd64') };
  const scanned = scanBuildContext({ contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), files: [{ from: binary, to: 'app-linux-amd64' }] });
  return computeContentDigest({ entries: scanned.entries, dockerfile: scanned.dockerfileInContext });
}

async function readTar(stream: NodeJS.ReadableStream): Promise<{ header: tar.Headers; body: Buffer }[]> {
  const out: { header: tar.Headers; body: Buffer }[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.on('end', () => {
      out.push({ header, body: Buffer.concat(chunks) });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    stream.pipe(extract);
  });
  return out;
}

describe('scanBuildContext', () => {
  it('honours .dockerignore, always sends the Dockerfile and .dockerignore, and maps files in', () => {
    const { contextDir, binary } = makeContext(tmp);
    const scanned = scanBuildContext({
      contextDir,
      dockerfile: path.join(contextDir, 'Dockerfile'),
      files: [{ from: binary, to: 'app-linux-amd64' }],
    });
    expect(scanned.entries.map((e) => `${e.type[0]} ${e.path}`)).toEqual([
      'f .dockerignore',
      'f Dockerfile',
      'f app-linux-amd64',
      'd docker',
      'd docker/data',
      'f docker/data/.keep',
    ]);
    expect(scanned.dockerfileInContext).toBe('Dockerfile');
    expect(scanned.ignoredCount).toBe(3); // main.go, internal/, internal/x.go (descended: the file has "!" rules)
  });

  it('sends a Dockerfile from outside the context under a fixed name', () => {
    const { contextDir } = makeContext(tmp);
    const outside = path.join(tmp, 'Dockerfile.other');
    fs.writeFileSync(outside, 'FROM scratch\n');
    const scanned = scanBuildContext({ contextDir, dockerfile: outside });
    expect(scanned.dockerfileInContext).toBe(EXTERNAL_DOCKERFILE_NAME);
    expect(scanned.entries.map((e) => e.path)).toContain(EXTERNAL_DOCKERFILE_NAME);
  });

  it('a mapped file replaces a context file at the same path', () => {
    const { contextDir, binary } = makeContext(tmp);
    fs.writeFileSync(path.join(contextDir, 'app-linux-amd64'), 'stale copy');
    const scanned = scanBuildContext({
      contextDir,
      dockerfile: path.join(contextDir, 'Dockerfile'),
      files: [{ from: binary, to: 'app-linux-amd64' }],
    });
    const entry = scanned.entries.find((e) => e.path === 'app-linux-amd64');
    expect(entry).toMatchObject({ type: 'file', source: binary, size: fs.statSync(binary).size });
  });

  it.each([
    ['/abs', /relative/],
    ['../up', /inside the context/],
    ['.', /inside the context/],
  ])('rejects files[].to %s', (to, message) => {
    const { contextDir, binary } = makeContext(tmp);
    expect(() => scanBuildContext({ contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), files: [{ from: binary, to }] })).toThrow(message);
  });
});

describe('context digest over a real directory', () => {
  it('is stable across mtimes, creation order and ownership', () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    makeContext(a, 'forward');
    makeContext(b, 'reverse');
    const old = new Date('2001-02-03T04:05:06Z');
    for (const rel of ['svc/Dockerfile', 'svc/docker/data/.keep', 'dist/app-linux-amd64']) fs.utimesSync(path.join(b, rel), old, old);
    if (process.getuid?.() === 0) fs.chownSync(path.join(b, 'svc/Dockerfile'), 12345, 12345);
    expect(digestOfDir(b)).toBe(digestOfDir(a));
  });

  it.each<[string, (root: string) => void]>([
    ['one byte of the binary', (r) => fs.appendFileSync(path.join(r, 'dist/app-linux-amd64'), 'x')],
    ['the Dockerfile', (r) => fs.appendFileSync(path.join(r, 'svc/Dockerfile'), 'USER 1\n')],
    ['a new file under docker/', (r) => fs.writeFileSync(path.join(r, 'svc/docker/extra'), '')],
    ['the .dockerignore', (r) => fs.appendFileSync(path.join(r, 'svc/.dockerignore'), '!main.go\n')],
  ])('changes with %s', (_name, change) => {
    makeContext(tmp);
    const before = digestOfDir(tmp);
    change(tmp);
    expect(digestOfDir(tmp)).not.toBe(before);
  });

  it('ignores files excluded by .dockerignore', () => {
    makeContext(tmp);
    const before = digestOfDir(tmp);
    fs.appendFileSync(path.join(tmp, 'svc/main.go'), '// edited\n');
    expect(digestOfDir(tmp)).toBe(before);
  });
});

describe('packBuildContext', () => {
  it('writes sorted entries with normalised mtime, owner and modes', async () => {
    const { contextDir, binary } = makeContext(tmp);
    const scanned = scanBuildContext({
      contextDir,
      dockerfile: path.join(contextDir, 'Dockerfile'),
      files: [{ from: binary, to: 'app-linux-amd64' }],
    });
    const entries = await readTar(packBuildContext(scanned.entries));
    expect(entries.map((e) => e.header.name.replace(/\/$/, ''))).toEqual(scanned.entries.map((e) => e.path));
    for (const { header } of entries) {
      expect(header.mtime?.getTime()).toBe(0);
      expect([header.uid, header.gid, header.uname || '', header.gname || '']).toEqual([0, 0, '', '']);
    }
    const bin = entries.find((e) => e.header.name === 'app-linux-amd64');
    expect(bin?.header.mode).toBe(0o755);
    expect(bin?.body.equals(fs.readFileSync(binary))).toBe(true);
    expect(entries.find((e) => e.header.name === 'Dockerfile')?.header.mode).toBe(0o644);
  });

  it('produces byte-identical tars for identical content', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    makeContext(a);
    makeContext(b, 'reverse');
    const bytes = async (root: string) => {
      const contextDir = path.join(root, 'svc');
      const scanned = scanBuildContext({ contextDir, dockerfile: path.join(contextDir, 'Dockerfile') });
      const chunks: Buffer[] = [];
      for await (const c of packBuildContext(scanned.entries)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    expect((await bytes(a)).equals(await bytes(b))).toBe(true);
  });
});
