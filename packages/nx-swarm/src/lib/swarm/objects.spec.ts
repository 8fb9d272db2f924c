import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { OBJECT_LABELS, ObjectSummary, isVersionOf, objectName, planObjects, prunable, referenceSpec, resolveObjects } from './objects';
import type { ObjectRefOption } from './options';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ROOT = '/ws';
const files: Record<string, string> = { '/ws/conf/greeting.txt': 'Hello', '/ws/conf/other.txt': 'Hi' };
const ctx = {
  service: 'accountservice',
  projectName: 'accountservice',
  workspaceRoot: ROOT,
  env: { ADMIN_TOKEN: 's3cr3t-value' } as NodeJS.ProcessEnv,
  readFile: (f: string) => (files[path.resolve(f)] !== undefined ? Buffer.from(files[path.resolve(f)]) : undefined),
};

describe('objectName (content-addressed)', () => {
  it.each([
    ['accountservice', 'admin_token', sha('x'), `accountservice_admin_token_${sha('x').slice(0, 8)}`],
    ['svc', 'a b/c', sha('x'), `svc_a-b-c_${sha('x').slice(0, 8)}`],
    ['s'.repeat(60), 'src', sha('x'), `${'s'.repeat(51)}_src_${sha('x').slice(0, 8)}`],
    ['s'.repeat(60), 't'.repeat(60), sha('x'), `${'s'.repeat(27)}_${'t'.repeat(27)}_${sha('x').slice(0, 8)}`],
  ])('%s + %s → %s', (service, source, hash, expected) => {
    const name = objectName(service, source, hash);
    expect(name).toBe(expected);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(isVersionOf(name, service, source)).toBe(true);
  });

  it('the same content gives the same name; other content another', () => {
    expect(objectName('a', 'b', sha('1'))).toBe(objectName('a', 'b', sha('1')));
    expect(objectName('a', 'b', sha('1'))).not.toBe(objectName('a', 'b', sha('2')));
    expect(isVersionOf('a_bc_12345678', 'a', 'b')).toBe(false);
  });
});

describe('resolveObjects', () => {
  it.each<[string, ObjectRefOption, Record<string, unknown>]>([
    [
      'env',
      { source: 'admin_token', env: 'ADMIN_TOKEN' },
      { name: `accountservice_admin_token_${sha('s3cr3t-value').slice(0, 8)}`, target: 'admin_token', mode: 0o444, origin: 'env ADMIN_TOKEN' },
    ],
    [
      'file, mode as octal string, owner',
      { source: 'g', file: 'conf/greeting.txt', mode: '0400', uid: '65532', gid: '65532' },
      { mode: 0o400, uid: '65532', gid: '65532', origin: 'file conf/greeting.txt' },
    ],
    ['external keeps its name', { source: 'db', external: true, name: 'prod_db_password' }, { name: 'prod_db_password', external: true }],
    ['external defaults to the source as name', { source: 'db', external: true }, { name: 'db' }],
    ['mode as a number', { source: 'admin_token', env: 'ADMIN_TOKEN', mode: 256 }, { mode: 0o400 }],
  ])('secret from %s', (_n, ref, expected) => {
    const r = resolveObjects('secret', [ref], ctx);
    expect(r.problems).toEqual([]);
    expect(r.objects[0]).toMatchObject(expected);
  });

  it('labels say which project and service made the object; configs default to /{source}', () => {
    const r = resolveObjects('config', [{ source: 'greeting', file: 'conf/greeting.txt' }], ctx);
    expect(r.objects[0]).toMatchObject({
      target: '/greeting',
      labels: {
        [OBJECT_LABELS.managedBy]: 'nx-swarm',
        [OBJECT_LABELS.service]: 'accountservice',
        [OBJECT_LABELS.source]: 'greeting',
        [OBJECT_LABELS.project]: 'accountservice',
        [OBJECT_LABELS.hash]: sha('Hello'),
      },
    });
  });

  it.each<[string, ObjectRefOption[], RegExp]>([
    ['missing file', [{ source: 'g', file: 'conf/nope.txt' }], /secrets\[0\]\.file: conf\/nope.txt does not exist \(secret "g"\)/],
    ['unset variable', [{ source: 't', env: 'NOT_SET' }], /secrets\[0\]\.env: the environment variable NOT_SET is not set/],
    ['no content', [{ source: 't' }], /secrets\[0\] \(t\) needs its content/],
    ['two ways', [{ source: 't', env: 'ADMIN_TOKEN', file: 'conf/greeting.txt' }], /gives its content 2 ways \(file, env\)/],
    ['bad source', [{ source: '../x', env: 'ADMIN_TOKEN' }], /secrets\[0\]\.source "..\/x" must be a name/],
    [
      'twice',
      [
        { source: 't', env: 'ADMIN_TOKEN' },
        { source: 't', env: 'ADMIN_TOKEN' },
      ],
      /secrets\[1\]: secret "t" is listed twice/,
    ],
    ['bad mode', [{ source: 't', env: 'ADMIN_TOKEN', mode: '999' }], /mode "999" is not a file mode/],
    ['name without external', [{ source: 't', env: 'ADMIN_TOKEN', name: 'x' }], /name only applies with "external": true/],
  ])('problem: %s', (_n, refs, re) => {
    expect(resolveObjects('secret', refs, ctx).problems.join('\n')).toMatch(re);
  });

  it('a problem never carries the content', () => {
    const r = resolveObjects('secret', [{ source: 't', env: 'ADMIN_TOKEN', mode: 'x' }], ctx);
    expect(JSON.stringify(r.problems)).not.toContain('s3cr3t-value');
  });

  it('a config target must be absolute', () => {
    expect(resolveObjects('config', [{ source: 'g', file: 'conf/greeting.txt', target: 'rel' }], ctx).problems[0]).toMatch(
      /configs\[0\]\.target must be an absolute path/,
    );
  });
});

describe('planObjects', () => {
  const [token] = resolveObjects('secret', [{ source: 'admin_token', env: 'ADMIN_TOKEN' }], ctx).objects;
  const [old] = resolveObjects('secret', [{ source: 'admin_token', env: 'OLD' }], { ...ctx, env: { OLD: 'old' } }).objects;
  const [ext] = resolveObjects('secret', [{ source: 'db', external: true }], ctx).objects;
  const summary = (name: string, id: string): ObjectSummary => ({ ID: id, Spec: { Name: name, Labels: {} } });

  it.each<[string, Parameters<typeof planObjects>, { create: string[]; missing: string[]; lines: string[]; ids: Record<string, string> }]>([
    [
      'added: created, said with its origin',
      [[token], [], []],
      { create: [token.name], missing: [], ids: {}, lines: [`secret admin_token: added (new version ${token.name}, from env ADMIN_TOKEN)`] },
    ],
    [
      'content changed: the service mounts an older version',
      [[token], [summary(old.name, 'o1')], [referenceSpec(old, 'o1')]],
      { create: [token.name], missing: [], ids: {}, lines: [`secret admin_token: content changed (new version ${token.name})`] },
    ],
    [
      'unchanged: nothing to create, no line',
      [[token], [summary(token.name, 's1')], [referenceSpec(token, 's1')]],
      { create: [], missing: [], ids: { [token.name]: 's1' }, lines: [] },
    ],
    [
      'external that exists',
      [[ext], [summary('db', 'e1')], []],
      { create: [], missing: [], ids: { db: 'e1' }, lines: ['secret db: mounts the existing secret db'] },
    ],
    ['external that does not exist', [[ext], [], []], { create: [], missing: ['db'], ids: {}, lines: ['secret db: mounts the existing secret db'] }],
  ])('%s', (_n, args, expected) => {
    const p = planObjects(...args);
    expect({ create: p.create.map((o) => o.name), missing: p.missing.map((o) => o.name), ids: p.ids, lines: p.lines }).toEqual(expected);
  });
});

describe('prunable', () => {
  const mk = (name: string, managed = true): ObjectSummary => ({
    ID: name,
    Spec: { Name: name, Labels: managed ? { [OBJECT_LABELS.managedBy]: 'nx-swarm' } : {} },
  });
  it.each<[string, ObjectSummary[], string[], string[]]>([
    ['unused versions go', [mk('a_1'), mk('a_2')], ['a_2'], ['a_1']],
    ['all in use: none', [mk('a_1'), mk('a_2')], ['a_1', 'a_2'], []],
    ['never one the plugin did not create', [mk('a_1', false)], [], []],
  ])('%s', (_n, ours, inUse, expected) => {
    expect(prunable(ours, new Set(inUse)).map((o) => o.Spec.Name)).toEqual(expected);
  });
});
