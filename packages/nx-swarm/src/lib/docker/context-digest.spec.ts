import { ContextEntry, DigestInput, computeContentDigest, contentTagFor, normaliseMode } from './context-digest';

const sha = (c: string) => c.repeat(64);
const base: DigestInput = {
  dockerfile: 'Dockerfile',
  entries: [
    { type: 'file', path: 'Dockerfile', mode: 0o644, size: 10, sha256: sha('a'), mtimeMs: 1, uid: 0, gid: 0 },
    { type: 'file', path: 'app-linux-amd64', mode: 0o755, size: 100, sha256: sha('b'), mtimeMs: 1, uid: 0, gid: 0 },
    { type: 'directory', path: 'docker', mode: 0o755, mtimeMs: 1 },
    { type: 'directory', path: 'docker/data', mode: 0o755, mtimeMs: 1 },
    { type: 'file', path: 'docker/data/.keep', mode: 0o644, size: 0, sha256: sha('c') },
    { type: 'symlink', path: 'link', target: 'app-linux-amd64' },
  ],
  buildArgs: { A: '1', B: '2' },
  labels: { team: 'x' },
  platform: 'linux/amd64',
};
const digestOf = (input: DigestInput) => computeContentDigest(input);
const mapEntries = (f: (e: ContextEntry) => ContextEntry): DigestInput => ({ ...base, entries: base.entries.map(f) });

describe('computeContentDigest: the same content gives the same digest', () => {
  it.each<[string, DigestInput]>([
    ['entries in another order', { ...base, entries: [...base.entries].reverse() }],
    ['other mtimes', mapEntries((e) => ({ ...e, mtimeMs: 999_999 }))],
    ['other owners', mapEntries((e) => ({ ...e, uid: 1000, gid: 1000 }))],
    ['build args in another order', { ...base, buildArgs: { B: '2', A: '1' } }],
    ['group/other permission bits differ', mapEntries((e) => (e.type === 'file' && e.mode === 0o644 ? { ...e, mode: 0o600 } : e))],
    ['exec bit only for the owner', mapEntries((e) => (e.type === 'file' && e.mode === 0o755 ? { ...e, mode: 0o700 } : e))],
  ])('%s', (_name, input) => {
    expect(digestOf(input)).toBe(digestOf(base));
  });
});

describe('computeContentDigest: any change gives another digest', () => {
  it.each<[string, DigestInput]>([
    ['one byte of a file (its hash)', mapEntries((e) => (e.path === 'app-linux-amd64' && e.type === 'file' ? { ...e, sha256: sha('d') } : e))],
    ['a file size', mapEntries((e) => (e.path === 'Dockerfile' && e.type === 'file' ? { ...e, size: 11 } : e))],
    ['a renamed file', mapEntries((e) => (e.path === 'docker/data/.keep' ? { ...e, path: 'docker/data/keep' } : e))],
    ['an added file', { ...base, entries: [...base.entries, { type: 'file', path: 'x', mode: 0o644, size: 0, sha256: sha('e') }] }],
    ['a removed directory', { ...base, entries: base.entries.filter((e) => e.path !== 'docker/data') }],
    ['the executable bit', mapEntries((e) => (e.path === 'app-linux-amd64' && e.type === 'file' ? { ...e, mode: 0o644 } : e))],
    ['a symlink target', mapEntries((e) => (e.type === 'symlink' ? { ...e, target: 'elsewhere' } : e))],
    ['a build arg value', { ...base, buildArgs: { A: '1', B: '3' } }],
    ['an added build arg', { ...base, buildArgs: { A: '1', B: '2', C: '' } }],
    ['the platform', { ...base, platform: 'linux/arm64' }],
    ['no platform', { ...base, platform: undefined }],
    ['the target', { ...base, target: 'runtime' }],
    ['a label', { ...base, labels: { team: 'y' } }],
    ['the Dockerfile path', { ...base, dockerfile: 'docker/Dockerfile' }],
  ])('%s', (_name, input) => {
    expect(digestOf(input)).not.toBe(digestOf(base));
  });
});

describe('contentTagFor / normaliseMode', () => {
  it('uses c- and 12 hex characters', () => {
    const d = digestOf(base);
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(contentTagFor(d)).toBe(`c-${d.slice(0, 12)}`);
  });
  it.each([
    ['file', 0o644, 0o644],
    ['file', 0o600, 0o644],
    ['file', 0o755, 0o755],
    ['file', 0o744, 0o755],
    ['directory', 0o700, 0o755],
  ] as const)('%s %o → %o', (type, mode, expected) => {
    expect(normaliseMode(type, mode)).toBe(expected);
  });
});
