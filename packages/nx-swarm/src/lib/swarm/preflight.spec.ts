import { normalizeDeployOptions } from './deploy-options';
import { SwarmDeployOptions } from './options';
import {
  KernelProbe,
  detectIpvs,
  effectiveHealthcheck,
  receiptHealthcheck,
  ipvsProblem as ipvs,
  portConflicts,
  registryAuthHeader,
  swarmManagerProblem,
} from './preflight';
import type { ServiceInspect } from './swarm-api';

const ipvsProblem = (options: SwarmDeployOptions, support: 'available' | 'missing') =>
  ipvs(normalizeDeployOptions(options, { projectName: 'svc' }), support);

const probe = (files: Record<string, string>, release = '6.1.0-18-amd64'): KernelProbe => ({
  exists: (p) => p in files,
  readText: (p) => files[p],
  release,
});

describe('detectIpvs', () => {
  it.each<[string, Record<string, string>, 'available' | 'missing']>([
    ['nothing (this machine: no /proc/net/ip_vs, no /lib/modules)', {}, 'missing'],
    ['loaded: /proc/net/ip_vs', { '/proc/net/ip_vs': '' }, 'available'],
    ['loaded: /sys/module/ip_vs', { '/sys/module/ip_vs': '' }, 'available'],
    ['built in', { '/lib/modules/6.1.0-18-amd64/modules.builtin': 'kernel/net/netfilter/ipvs/ip_vs.ko\n' }, 'available'],
    [
      'loadable (modules.dep)',
      { '/lib/modules/6.1.0-18-amd64/modules.dep': 'kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n' },
      'available',
    ],
    ['loadable (module file)', { '/lib/modules/6.1.0-18-amd64/kernel/net/netfilter/ipvs/ip_vs.ko.zst': '' }, 'available'],
    ['modules of another kernel only', { '/lib/modules/5.10.0/modules.dep': 'kernel/net/netfilter/ipvs/ip_vs.ko: \n' }, 'missing'],
    [
      'builtin list without ip_vs (ip_vs_rr is not ip_vs)',
      { '/lib/modules/6.1.0-18-amd64/modules.builtin': 'kernel/net/netfilter/ipvs/ip_vs_rr.ko\n' },
      'missing',
    ],
  ])('%s', (_n, files, expected) => expect(detectIpvs(probe(files))).toBe(expected));
});

describe('ipvsProblem', () => {
  it.each<[string, object, RegExp | undefined]>([
    ['defaults (vip) need IPVS', {}, /endpointMode "vip" can't work here/],
    ['ingress port', { ports: [{ target: 6767, published: 6767 }] }, /6767->6767 published in ingress mode/],
    ['host + dnsrr works', { ports: [{ target: 6767, published: 6767, mode: 'host' }], endpointMode: 'dnsrr' }, undefined],
  ])('%s', (_n, options, expected) => {
    const msg = ipvsProblem(options, 'missing');
    if (expected) {
      expect(msg).toMatch(expected);
      expect(msg).toMatch(/"mode": "host".*"endpointMode": "dnsrr"/);
      expect(msg).toMatch(/Failed to create an ipvs handle/);
    } else expect(msg).toBeUndefined();
  });
  it('nothing to say when IPVS is available', () => expect(ipvsProblem({}, 'available')).toBeUndefined());
});

describe('swarmManagerProblem', () => {
  it.each<[string, object, RegExp | undefined]>([
    ['manager', { Swarm: { LocalNodeState: 'active', ControlAvailable: true } }, undefined],
    ['not in a swarm', { Swarm: { LocalNodeState: 'inactive', ControlAvailable: false } }, /not part of a swarm.*docker swarm init.*DOCKER_HOST/],
    [
      'worker',
      { Swarm: { LocalNodeState: 'active', ControlAvailable: false, RemoteManagers: [{ Addr: '10.0.0.1:2377' }] } },
      /worker, not a manager.*managers: 10.0.0.1:2377/,
    ],
    ['locked', { Swarm: { LocalNodeState: 'locked' } }, /docker swarm unlock/],
  ])('%s', (_n, info, expected) => {
    const msg = swarmManagerProblem(info, 'unix:///var/run/docker.sock (the default socket)');
    if (expected) expect(msg).toMatch(expected);
    else expect(msg).toBeUndefined();
  });
});

describe('portConflicts', () => {
  const other = (name: string, ports: { PublishedPort: number; TargetPort: number; PublishMode?: string }[]) =>
    ({
      ID: name,
      Version: { Index: 1 },
      Spec: { Name: name, EndpointSpec: { Ports: ports } },
      Endpoint: { Ports: ports },
    }) as unknown as ServiceInspect;
  const ports = normalizeDeployOptions(
    { ports: [{ target: 6767, published: 6767, mode: 'host' }], endpointMode: 'dnsrr' },
    { projectName: 'svc' },
  ).ports;
  it.each<[string, ServiceInspect[], RegExp | undefined]>([
    ['nobody else', [], undefined],
    ['our own service', [other('svc', [{ PublishedPort: 6767, TargetPort: 6767, PublishMode: 'host' }])], undefined],
    [
      'another service on the port',
      [other('b', [{ PublishedPort: 6767, TargetPort: 80, PublishMode: 'host' }])],
      /port 6767\/tcp is already published by service "b" \(mode host\)/,
    ],
    ['another service, another port', [other('b', [{ PublishedPort: 8080, TargetPort: 80 }])], undefined],
  ])('%s', (_n, services, expected) => {
    const out = portConflicts(ports, 'svc', services).join('\n');
    if (expected) expect(out).toMatch(expected);
    else expect(out).toBe('');
  });
});

describe('effectiveHealthcheck', () => {
  const image = { Test: ['CMD', '/app', 'healthcheck'], Interval: 5e9, Retries: 3 };
  it.each<[string, object | undefined, object | undefined, object | undefined]>([
    ['none anywhere', undefined, undefined, undefined],
    ["the image's", image, undefined, image],
    ['disabled by the option', image, { Test: ['NONE'] }, undefined],
    ['option fields over the image', image, { Interval: 1e9 }, { ...image, Interval: 1e9 }],
    ['option only', undefined, { Test: ['CMD', 'x'] }, { Test: ['CMD', 'x'] }],
    ['option without a test, image without a check', undefined, { Interval: 1e9 }, undefined],
  ])('%s', (_n, img, opt, expected) => expect(effectiveHealthcheck(img, opt)).toEqual(expected));

  it.each<[string, { Test: string[] } | undefined, object | undefined]>([
    ['a receipt with the image HEALTHCHECK (a pushed image the manager never pulled)', image, image],
    ['HEALTHCHECK NONE', { Test: ['NONE'] }, undefined],
    ['no health check in the receipt', undefined, undefined],
  ])('receiptHealthcheck: %s', (_n, hc, expected) => expect(receiptHealthcheck(hc)).toEqual(expected));
});

describe('registryAuthHeader (withRegistryAuth)', () => {
  const fs = require('node:fs') as typeof import('node:fs');

  const os = require('node:os') as typeof import('node:os');

  const path = require('node:path') as typeof import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxsw-auth-'));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('ci:s3cret').toString('base64') } } }),
  );
  const env = { DOCKER_CONFIG: dir, HOME: dir } as NodeJS.ProcessEnv;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each<[string, string, boolean, boolean, RegExp | undefined]>([
    [
      'auto, credentials for the registry: sent',
      'registry.example.com/team/web:1',
      true,
      true,
      /withRegistryAuth \(auto\): sending credentials for registry.example.com/,
    ],
    ['auto, none for that registry: nothing, silently', 'other.example.com/web:1', true, false, undefined],
    ['true, none: says so', 'other.example.com/web:1', false, false, /no credentials for other.example.com \(docker login other.example.com first\)/],
  ])('%s', async (_n, image, auto, sent, said) => {
    const lines: string[] = [];
    const headers = await registryAuthHeader(image, env, (l) => lines.push(l), auto);
    expect(Boolean(headers['X-Registry-Auth'])).toBe(sent);
    if (said) expect(lines.join('\n')).toMatch(said);
    else expect(lines).toEqual([]);
    expect(lines.join('\n')).not.toContain('s3cret');
  });
});
