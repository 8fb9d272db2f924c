import { KernelProbe, detectIpvs, ipvsProblem, swarmManagerProblem } from './preflight';

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
    ['loadable (modules.dep)', { '/lib/modules/6.1.0-18-amd64/modules.dep': 'kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n' }, 'available'],
    ['loadable (module file)', { '/lib/modules/6.1.0-18-amd64/kernel/net/netfilter/ipvs/ip_vs.ko.zst': '' }, 'available'],
    ['modules of another kernel only', { '/lib/modules/5.10.0/modules.dep': 'kernel/net/netfilter/ipvs/ip_vs.ko: \n' }, 'missing'],
    ['builtin list without ip_vs (ip_vs_rr is not ip_vs)', { '/lib/modules/6.1.0-18-amd64/modules.builtin': 'kernel/net/netfilter/ipvs/ip_vs_rr.ko\n' }, 'missing'],
  ])('%s', (_n, files, expected) => expect(detectIpvs(probe(files))).toBe(expected));
});

describe('ipvsProblem', () => {
  it.each<[string, object, RegExp | undefined]>([
    ['defaults (vip) need IPVS', {}, /endpointMode "vip" \(the default\) can't work here/],
    ['ingress port', { ports: [{ target: 6767, published: 6767 }], endpointMode: 'dnsrr' }, /6767->6767 published in ingress mode/],
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
    ['worker', { Swarm: { LocalNodeState: 'active', ControlAvailable: false, RemoteManagers: [{ Addr: '10.0.0.1:2377' }] } }, /worker, not a manager.*managers: 10.0.0.1:2377/],
    ['locked', { Swarm: { LocalNodeState: 'locked' } }, /docker swarm unlock/],
  ])('%s', (_n, info, expected) => {
    const msg = swarmManagerProblem(info, 'unix:///var/run/docker.sock (the default socket)');
    if (expected) expect(msg).toMatch(expected);
    else expect(msg).toBeUndefined();
  });
});
