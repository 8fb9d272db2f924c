import { chooseUrlHost } from './url-host';

describe('chooseUrlHost', () => {
  const base = { mode: 'host', endpointLocal: true, taskNodeAddrs: [] as string[], localAddrs: ['127.0.0.1', '192.0.2.2', '192.168.213.1'] };

  it('the local engine (its node address is one of ours): 127.0.0.1', () => {
    expect(chooseUrlHost({ ...base, managerAddr: '127.0.0.1', taskNodeAddrs: ['127.0.0.1'] })).toBe('127.0.0.1');
    expect(chooseUrlHost({ ...base, mode: 'ingress', managerAddr: '192.0.2.2' })).toBe('127.0.0.1');
  });

  it('a local socket of an engine in another network namespace (the lab): the node running a task', () => {
    expect(chooseUrlHost({ ...base, managerAddr: '192.168.213.11', taskNodeAddrs: ['192.168.213.12', '192.168.213.13'] })).toBe('192.168.213.12');
  });

  it('ingress: the manager address, or the tcp endpoint host', () => {
    expect(chooseUrlHost({ ...base, mode: 'ingress', managerAddr: '192.168.213.11' })).toBe('192.168.213.11');
    expect(chooseUrlHost({ ...base, mode: 'ingress', endpointLocal: false, endpointHost: 'swarm.example', managerAddr: '10.1.2.3' })).toBe(
      'swarm.example',
    );
  });

  it('host mode on a remote swarm: the node of a task, never 127.0.0.1', () => {
    expect(chooseUrlHost({ ...base, endpointLocal: false, endpointHost: 'mgr.example', managerAddr: '10.1.2.3', taskNodeAddrs: ['10.1.2.4'] })).toBe(
      '10.1.2.4',
    );
  });

  it('nothing known: falls back to the endpoint', () => {
    expect(chooseUrlHost({ ...base, endpointLocal: false, endpointHost: 'mgr.example' })).toBe('mgr.example');
    expect(chooseUrlHost({ ...base })).toBe('127.0.0.1');
  });
});
