import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeRegistryAuth, encodeRegistryAuth, planRegistryAuth, redact, resolveRegistryAuth, runCredentialHelper } from './registry-auth';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const CONFIG = '/home/u/.docker/config.json';

describe('encodeRegistryAuth', () => {
  it.each([
    [{ username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' }],
    [{ identitytoken: 'tok' }],
    // bytes that produce "+" and "/" in standard base64, and need padding
    [{ username: '>>>???', password: 'ü~~~', serveraddress: 'r' }],
  ])('is base64url with padding of the JSON: %j', (credentials) => {
    const header = encodeRegistryAuth(credentials);
    expect(header).not.toMatch(/[+/]/);
    expect(header.length % 4).toBe(0);
    const std = Buffer.from(JSON.stringify(credentials)).toString('base64');
    expect(header).toBe(std.replace(/\+/g, '-').replace(/\//g, '_'));
    expect(decodeRegistryAuth(header)).toEqual(credentials);
  });

  it('matches a known value', () => {
    expect(encodeRegistryAuth({ username: 'u', password: 'p', serveraddress: 's' })).toBe(
      'eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAiLCJzZXJ2ZXJhZGRyZXNzIjoicyJ9',
    );
  });
});

describe('planRegistryAuth', () => {
  it.each<[string, string, string | undefined, object]>([
    ['no config file', '127.0.0.1:5000', undefined, { kind: 'none', server: '127.0.0.1:5000' }],
    ['empty config', '127.0.0.1:5000', '{}', { kind: 'none' }],
    [
      'auths with auth (user:pass, password containing a colon)',
      '127.0.0.1:5000',
      JSON.stringify({ auths: { '127.0.0.1:5000': { auth: b64('alice:s3:cret') } } }),
      { kind: 'inline', credentials: { username: 'alice', password: 's3:cret', serveraddress: '127.0.0.1:5000' } },
    ],
    [
      'auths keyed by URL',
      '127.0.0.1:5000',
      JSON.stringify({ auths: { 'http://127.0.0.1:5000/v2/': { auth: b64('a:b') } } }),
      { kind: 'inline', credentials: { username: 'a', password: 'b', serveraddress: '127.0.0.1:5000' } },
    ],
    [
      'auths with identitytoken',
      'registry.example.com',
      JSON.stringify({ auths: { 'registry.example.com': { auth: b64('a:b'), identitytoken: 'tok' } } }),
      { kind: 'inline', credentials: { identitytoken: 'tok' } },
    ],
    [
      'Docker Hub key',
      'docker.io',
      JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } }),
      {
        kind: 'inline',
        server: 'https://index.docker.io/v1/',
        credentials: { username: 'hub', password: 'pw', serveraddress: 'https://index.docker.io/v1/' },
      },
    ],
    ['other registry only', '127.0.0.1:5000', JSON.stringify({ auths: { 'other:1': { auth: b64('a:b') } } }), { kind: 'none' }],
    [
      'credsStore',
      '127.0.0.1:5000',
      JSON.stringify({ credsStore: 'pass', auths: { '127.0.0.1:5000': {} } }),
      { kind: 'helper', helper: 'pass', fallback: undefined },
    ],
    [
      'credHelpers wins over credsStore',
      'ghcr.io',
      JSON.stringify({ credsStore: 'pass', credHelpers: { 'ghcr.io': 'gh' } }),
      { kind: 'helper', helper: 'gh', server: 'ghcr.io' },
    ],
    [
      'credHelpers for another registry falls to credsStore',
      '127.0.0.1:5000',
      JSON.stringify({ credsStore: 'pass', credHelpers: { 'ghcr.io': 'gh' } }),
      { kind: 'helper', helper: 'pass' },
    ],
  ])('%s', (_name, domain, text, expected) => {
    expect(planRegistryAuth(domain, text, CONFIG)).toMatchObject(expected);
  });

  it('explains invalid JSON without echoing it', () => {
    expect(() => planRegistryAuth('r', '{"auths": {"r": {"auth": "c2VjcmV0"', CONFIG)).toThrow(`${CONFIG} is not valid JSON`);
  });
});

describe('redact', () => {
  it('removes secrets and their base64 form', () => {
    expect(redact(`pw hunter22 and ${b64('hunter22')}`, ['hunter22'])).toBe('pw *** and ***');
  });
});

describe('credential helpers (fake docker-credential-fake on PATH)', () => {
  let bin: string;
  let env: NodeJS.ProcessEnv;
  const log = () => path.join(bin, 'calls.log');

  beforeAll(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-cred-'));
    // Records argv and stdin; knows one server with a password, one with an identity token.
    fs.writeFileSync(
      path.join(bin, 'docker-credential-fake'),
      `#!/bin/sh
server=$(cat)
echo "$* $server" >> "${path.join(bin, 'calls.log')}"
case "$server" in
  127.0.0.1:5000) printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}\\n' "$server" ;;
  tok.example.com) printf '{"ServerURL":"%s","Username":"<token>","Secret":"idtok"}\\n' "$server" ;;
  broken.example.com) echo "keychain locked" >&2; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
  });
  afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

  it.each<[string, object | undefined]>([
    ['127.0.0.1:5000', { username: 'alice', password: 's3cret', serveraddress: '127.0.0.1:5000' }],
    ['tok.example.com', { identitytoken: 'idtok' }],
    ['unknown.example.com', undefined],
  ])('get %s', async (server, expected) => {
    expect(await runCredentialHelper('fake', server, { env })).toEqual(expected);
  });

  it('passes "get" as argv and the server on stdin', async () => {
    fs.rmSync(log(), { force: true });
    await runCredentialHelper('fake', '127.0.0.1:5000', { env });
    expect(fs.readFileSync(log(), 'utf8')).toBe('get 127.0.0.1:5000\n');
  });

  it('reports a failing helper with its own words', async () => {
    await expect(runCredentialHelper('fake', 'broken.example.com', { env })).rejects.toThrow(
      /docker-credential-fake get failed for broken.example.com \(exit 3\): keychain locked/,
    );
  });

  it('reports a missing helper', async () => {
    await expect(runCredentialHelper('missing', 'x', { env })).rejects.toThrow(/docker-credential-missing is not on PATH/);
  });

  it('refuses helper names that are not names', async () => {
    await expect(runCredentialHelper('../evil', 'x', { env })).rejects.toThrow(/not a credential helper name/);
  });

  it('resolveRegistryAuth: credsStore through the helper, auths as fallback', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-dockercfg-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ credsStore: 'fake', auths: { 'fallback.example.com': { auth: b64('bob:pw') } } }),
      );
      const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
      const viaEnv = { ...env, DOCKER_CONFIG: dir };
      await expect(resolveRegistryAuth('127.0.0.1:5000', viaEnv, read)).resolves.toEqual({
        server: '127.0.0.1:5000',
        credentials: { username: 'alice', password: 's3cret', serveraddress: '127.0.0.1:5000' },
        source: 'docker-credential-fake',
      });
      await expect(resolveRegistryAuth('fallback.example.com', viaEnv, read)).resolves.toMatchObject({
        credentials: { username: 'bob', password: 'pw' },
        source: `auths in ${path.join(dir, 'config.json')}`,
      });
      await expect(resolveRegistryAuth('nothing.example.com', viaEnv, read)).resolves.toEqual({ server: 'nothing.example.com', source: 'none' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
