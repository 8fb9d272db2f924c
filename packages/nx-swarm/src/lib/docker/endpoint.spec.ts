import * as path from 'node:path';
import { contextDirName, describeEndpoint, isLocalEndpoint, parseDockerHost, resolveDockerEndpoint } from './endpoint';

const files = (map: Record<string, string>) => (file: string) => map[file];

describe('resolveDockerEndpoint', () => {
  const home = '/home/u';
  const cfg = path.join(home, '.docker');
  const ctxDir = contextDirName('remote');
  const meta = path.join(cfg, 'contexts/meta', ctxDir, 'meta.json');
  const tlsDir = path.join(cfg, 'contexts/tls', ctxDir, 'docker');

  it.each([
    ['no env, no config', {}, {}, 'unix:///var/run/docker.sock (the default socket)'],
    ['unix DOCKER_HOST', { DOCKER_HOST: 'unix:///tmp/d.sock' }, {}, 'unix:///tmp/d.sock (DOCKER_HOST)'],
    ['tcp without TLS', { DOCKER_HOST: 'tcp://10.0.0.5:2375' }, {}, 'tcp://10.0.0.5:2375 (DOCKER_HOST)'],
    ['bare host:port', { DOCKER_HOST: 'localhost:2375' }, {}, 'tcp://localhost:2375 (DOCKER_HOST)'],
    ['tcp with TLS verify', { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }, {}, 'tcp+tls://h:2376 (DOCKER_HOST)'],
    ['ssh: no port unless given (ssh config decides)', { DOCKER_HOST: 'ssh://me@box' }, {}, 'ssh://me@box (DOCKER_HOST)'],
    ['ssh alias with port and remote socket', { DOCKER_HOST: 'ssh://mgr:2222/run/docker.sock' }, {}, 'ssh://mgr:2222/run/docker.sock (DOCKER_HOST)'],
    [
      'DOCKER_CONTEXT wins over currentContext',
      { DOCKER_CONTEXT: 'remote' },
      {
        [path.join(cfg, 'config.json')]: JSON.stringify({ currentContext: 'other' }),
        [meta]: JSON.stringify({ Endpoints: { docker: { Host: 'ssh://deploy@prod-mgr' } } }),
      },
      'ssh://deploy@prod-mgr (docker context "remote")',
    ],
    [
      'DOCKER_CONTEXT=default wins over currentContext',
      { DOCKER_CONTEXT: 'default' },
      { [path.join(cfg, 'config.json')]: JSON.stringify({ currentContext: 'remote' }), [meta]: '{}' },
      'unix:///var/run/docker.sock (the default socket)',
    ],
    [
      'DOCKER_CONFIG moves config.json and the contexts',
      { DOCKER_CONFIG: '/ci/docker' },
      {
        '/ci/docker/config.json': JSON.stringify({ currentContext: 'remote' }),
        [path.join('/ci/docker/contexts/meta', ctxDir, 'meta.json')]: JSON.stringify({ Endpoints: { docker: { Host: 'ssh://ci@mgr' } } }),
      },
      'ssh://ci@mgr (docker context "remote")',
    ],
    ['DOCKER_HOST wins over context', { DOCKER_HOST: 'unix:///a.sock', DOCKER_CONTEXT: 'remote' }, {}, 'unix:///a.sock (DOCKER_HOST)'],
    [
      'DOCKER_CONTEXT',
      { DOCKER_CONTEXT: 'remote' },
      { [meta]: JSON.stringify({ Name: 'remote', Endpoints: { docker: { Host: 'tcp://r:2375' } } }) },
      'tcp://r:2375 (docker context "remote")',
    ],
    [
      'currentContext in config.json, with TLS material',
      {},
      {
        [path.join(cfg, 'config.json')]: JSON.stringify({ currentContext: 'remote' }),
        [meta]: JSON.stringify({ Endpoints: { docker: { Host: 'tcp://r:2376' } } }),
        [path.join(tlsDir, 'ca.pem')]: 'CA',
      },
      'tcp+tls://r:2376 (docker context "remote")',
    ],
    [
      'currentContext default',
      {},
      { [path.join(cfg, 'config.json')]: '{"currentContext":"default"}' },
      'unix:///var/run/docker.sock (the default socket)',
    ],
  ])('%s', (_name, env, fileMap, expected) => {
    const endpoint = resolveDockerEndpoint({ HOME: home, ...env }, files(fileMap));
    expect(describeEndpoint(endpoint)).toBe(expected);
  });

  it('explains a missing context', () => {
    expect(() => resolveDockerEndpoint({ HOME: home, DOCKER_CONTEXT: 'gone' }, files({}))).toThrow(
      /Docker context "gone" \(from DOCKER_CONTEXT\) does not exist.*docker context ls/,
    );
  });

  it.each([
    [
      'DOCKER_CERT_PATH',
      { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' },
      {},
      { verify: true, caPath: '/c/ca.pem', origin: 'DOCKER_CERT_PATH=/c' },
    ],
    [
      'DOCKER_TLS_VERIFY alone: ~/.docker',
      { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1' },
      {},
      { verify: true, caPath: path.join(cfg, 'ca.pem'), origin: `${cfg} (DOCKER_TLS_VERIFY is set and DOCKER_CERT_PATH is not)` },
    ],
    [
      'a context with SkipTLSVerify',
      { DOCKER_CONTEXT: 'remote' },
      {
        [meta]: JSON.stringify({ Endpoints: { docker: { Host: 'tcp://r:2376', SkipTLSVerify: true } } }),
        [path.join(tlsDir, 'ca.pem')]: 'CA',
      },
      { verify: false, caPath: path.join(tlsDir, 'ca.pem'), origin: `docker context "remote" (${tlsDir})` },
    ],
  ])('TLS material: %s', (_name, env, fileMap, tls) => {
    const endpoint = resolveDockerEndpoint({ HOME: home, ...env }, files(fileMap));
    expect(endpoint).toMatchObject({ kind: 'tcp', protocol: 'https', tls });
  });

  it('explains a broken context file', () => {
    expect(() => resolveDockerEndpoint({ HOME: home, DOCKER_CONTEXT: 'remote' }, files({ [meta]: '{nope' }))).toThrow(/not valid JSON/);
  });

  it('uses the context TLS files', () => {
    const endpoint = resolveDockerEndpoint(
      { HOME: home, DOCKER_CONTEXT: 'remote' },
      files({ [meta]: JSON.stringify({ Endpoints: { docker: { Host: 'tcp://r:2376' } } }), [path.join(tlsDir, 'cert.pem')]: 'C' }),
    );
    expect(endpoint).toMatchObject({ kind: 'tcp', protocol: 'https', tls: { verify: true, certPath: path.join(tlsDir, 'cert.pem') } });
  });
});

describe('parseDockerHost', () => {
  it('rejects nonsense', () => {
    expect(() => parseDockerHost('ftp://x', 'DOCKER_HOST')).toThrow(/unsupported scheme/);
  });
  it.each([
    ['ssh://me:secret@box', /passwords are not supported/],
    ['ssh://', /needs a host/],
  ])('refuses %s', (value, message) => {
    expect(() => parseDockerHost(value, 'DOCKER_HOST')).toThrow(message);
  });
  it('keeps the parts of an ssh address apart', () => {
    expect(parseDockerHost('ssh://deploy@mgr.example:2222', 'DOCKER_HOST')).toEqual({
      kind: 'ssh',
      host: 'mgr.example',
      port: 2222,
      username: 'deploy',
      socketPath: undefined,
      source: 'DOCKER_HOST',
    });
  });
  it.each([
    ['unix:///var/run/docker.sock', true],
    ['tcp://127.0.0.1:2375', true],
    ['tcp://10.1.2.3:2375', false],
    ['ssh://me@host', false],
  ])('%s is local: %s', (host, local) => {
    expect(isLocalEndpoint(parseDockerHost(host, 'DOCKER_HOST'))).toBe(local);
  });
});
