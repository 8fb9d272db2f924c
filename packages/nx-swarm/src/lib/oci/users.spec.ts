import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BaseImage, SCRATCH_USERS, baseUserDb } from './build';
import { DockerfileError, NeedsEngine } from './dockerfile';
import { sha256Digest } from './layers';
import { RegistryClient } from './registry';
import { TarEntry, writeTar } from './tar';
import { UserDb, parseGroup, parsePasswd, resolveOwner, userDbOf, userFilesFromLayers } from './users';

const PASSWD =
  'root:x:0:0:root:/root:/sbin/nologin\n# a comment\n\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\napp:x:1000:100::/app:\nbroken:x:notanumber:1::/:\r\nshort:x\n';
const GROUP = 'root:x:0:\nusers:x:100:app\nnonroot:x:65532:\nstaff:x:50:app,nonroot\r\n';
const db: UserDb = userDbOf('the base image reg/base:1', { passwd: PASSWD, group: GROUP });

const file = (p: string, content: string): TarEntry => ({
  type: 'file',
  path: p,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
  content: Buffer.from(content),
});
const dir = (p: string): TarEntry => ({ type: 'directory', path: p, mode: 0o755, uid: 0, gid: 0, mtime: 0 });
const link = (p: string, target: string): TarEntry => ({ type: 'symlink', path: p, target, uid: 0, gid: 0, mtime: 0 });
const layer = (...entries: TarEntry[]) => writeTar(entries);
/** The tar with its first entry renamed ./NAME (the writer refuses such paths; image tars have them). */
function dotSlash(tar: Buffer): Buffer {
  const out = Buffer.from(tar);
  const name = out.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
  out.fill(0, 0, 100).write(`./${name}`, 0, 'utf8');
  out.write('        ', 148, 8, 'ascii');
  let sum = 0;
  for (const b of out.subarray(0, 512)) sum += b;
  out.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return out;
}

describe('parsePasswd / parseGroup', () => {
  it('reads name, uid, gid; skips comments, blanks, broken lines; CRLF', () => {
    expect(parsePasswd(PASSWD)).toEqual([
      { name: 'root', uid: 0, gid: 0 },
      { name: 'nonroot', uid: 65532, gid: 65532 },
      { name: 'app', uid: 1000, gid: 100 },
    ]);
    expect(parseGroup(GROUP)).toEqual([
      { name: 'root', gid: 0 },
      { name: 'users', gid: 100 },
      { name: 'nonroot', gid: 65532 },
      { name: 'staff', gid: 50 },
    ]);
  });
});

describe('resolveOwner (docker build / BuildKit semantics; unknown names fail)', () => {
  it.each([
    ['1000', { uid: 1000, gid: 1000 }],
    ['1000:50', { uid: 1000, gid: 50 }],
    ['app', { uid: 1000, gid: 100 }], // the user's primary group, not a group named like the user
    ['app:staff', { uid: 1000, gid: 50 }],
    ['nonroot:nonroot', { uid: 65532, gid: 65532 }],
    ['app:0', { uid: 1000, gid: 0 }],
    ['0:staff', { uid: 0, gid: 50 }],
  ])('%s → %j', (text, owner) => {
    expect(resolveOwner(text, db, 'line 3: COPY')).toEqual(owner);
  });

  it.each([
    ['nobody', 'base', /line 3: COPY --chown=nobody: no user "nobody" in \/etc\/passwd of the base image reg\/base:1$/],
    ['app:wheel', 'base', /no group "wheel" in \/etc\/group of the base image reg\/base:1$/],
    ['a:b:c', 'base', /--chown=a:b:c is not USER\[:GROUP\]/],
    [':50', 'base', /is not USER\[:GROUP\]/],
    ['app', 'scratch', /no user "app" in \/etc\/passwd of FROM scratch \(it has none: use numeric ids, e\.g\. --chown=65532:65532\)/],
  ])('%s with the %s image fails', (text, from, message) => {
    const users = from === 'scratch' ? SCRATCH_USERS : db;
    expect(() => resolveOwner(text, users, 'line 3: COPY')).toThrow(DockerfileError);
    expect(() => resolveOwner(text, users, 'line 3: COPY')).toThrow(message);
  });
});

describe('userFilesFromLayers: /etc/passwd and /etc/group as the layers leave them', () => {
  it.each([
    ['none', [layer(file('bin/x', ''))], {}],
    ['one layer', [layer(dir('etc'), file('etc/passwd', 'a'), file('etc/group', 'g'))], { passwd: 'a', group: 'g' }],
    ['a ./ prefix (GNU tar writes one)', [dotSlash(layer(file('etc/passwd', 'a')))], { passwd: 'a' }],
    ['a later layer replaces', [layer(file('etc/passwd', 'a')), layer(file('etc/passwd', 'b'))], { passwd: 'b' }],
    ['a later etc/ directory keeps lower files', [layer(file('etc/passwd', 'a')), layer(dir('etc'), file('etc/hosts', ''))], { passwd: 'a' }],
    ['a whiteout removes', [layer(file('etc/passwd', 'a'), file('etc/group', 'g')), layer(file('etc/.wh.passwd', ''))], { group: 'g' }],
    [
      'an opaque etc/ hides lower files',
      [layer(file('etc/passwd', 'a'), file('etc/group', 'g')), layer(file('etc/.wh..wh..opq', ''), file('etc/group', 'h'))],
      { group: 'h' },
    ],
    ['etc removed', [layer(file('etc/passwd', 'a')), layer(file('.wh.etc', ''))], {}],
    ['a file in an upper layer again', [layer(file('etc/passwd', 'a')), layer(file('.wh.etc', '')), layer(file('etc/passwd', 'c'))], { passwd: 'c' }],
  ])('%s', (_n, tars, expected) => {
    expect(userFilesFromLayers(tars)).toEqual({ passwd: undefined, group: undefined, ...expected });
  });

  it('a symlinked /etc/passwd needs the engine (which follows it inside the image)', () => {
    expect(() => userFilesFromLayers([layer(link('etc/passwd', '../usr/etc/passwd'))])).toThrow(NeedsEngine);
    expect(() => userFilesFromLayers([layer(link('etc/passwd', '../usr/etc/passwd'))])).toThrow(
      /\/etc\/passwd is a symbolic link \(to \.\.\/usr\/etc\/passwd\)/,
    );
  });
});

describe('baseUserDb: downloads the base layers once per manifest digest', () => {
  const tars = [layer(dir('etc'), file('etc/passwd', PASSWD)), layer(file('etc/group', GROUP))];
  const blobs = new Map<string, Buffer>();
  const layers = tars.map((t, i) => {
    const bytes = i === 0 ? gzipSync(t) : t; // one gzip'd layer, one plain tar
    const digest = sha256Digest(bytes);
    blobs.set(digest, bytes);
    return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: bytes.length };
  });
  const base = { reference: 'reg/base:1', domain: 'reg', repo: 'base', layers, manifestDigest: 'sha256:' + 'ab'.repeat(32) } as unknown as BaseImage;
  const clientWith = (get: (repo: string, digest: string) => Promise<Buffer>) => ({ getBlob: get }) as unknown as RegistryClient;

  it('reads the users, then answers from the cache without a request', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-users-'));
    const requested: string[] = [];
    const first = await baseUserDb(
      clientWith(async (_r, d) => (requested.push(d), blobs.get(d)!)),
      base,
      cacheDir,
    );
    expect(requested).toEqual(layers.map((l) => l.digest));
    expect(resolveOwner('app:staff', first, 'COPY')).toEqual({ uid: 1000, gid: 50 });
    const again = await baseUserDb(
      clientWith(async () => {
        throw new Error('no request expected');
      }),
      base,
      cacheDir,
    );
    expect(again).toEqual(first);
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('refuses a layer that does not match its digest', async () => {
    await expect(
      baseUserDb(
        clientWith(async () => Buffer.from('tampered')),
        base,
        undefined,
      ),
    ).rejects.toThrow(/does not match its digest/);
  });
});
