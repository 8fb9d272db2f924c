import { SwarmDeployOptions } from './options';
import { validateOptions } from './validate-options';

describe('validateOptions', () => {
  const ok: SwarmDeployOptions = { ports: [{ target: 6767, published: 6767, mode: 'host' }], endpointMode: 'dnsrr' };

  it('accepts the host-mode + dnsrr setup', () => {
    expect(validateOptions(ok, 'accountservice', { nodes: 1 })).toEqual({ errors: [], warnings: [] });
  });

  it.each<[string, SwarmDeployOptions, string, RegExp]>([
    ['invalid service name', {}, 'my_service', /"my_service" is not a valid swarm service name.*`service` option/],
    ['service name from an npm-scoped project', {}, '@scope/app', /not a valid swarm service name/],
    ['replicas < 0', { replicas: -1 }, 'svc', /replicas must be a whole number >= 0, got -1/],
    ['fractional replicas', { replicas: 1.5 }, 'svc', /replicas must be a whole number/],
    ['replicas with global', { mode: 'global', replicas: 2 }, 'svc', /can't be combined with mode "global"/],
    ['port out of range', { ports: [{ target: 70000 }] }, 'svc', /ports\[0\]\.target must be a port between 1 and 65535, got 70000/],
    ['published out of range', { ports: [{ target: 80, published: 0 }] }, 'svc', /ports\[0\]\.published must be a port between 1 and 65535/],
    ['bad protocol', { ports: [{ target: 80, protocol: 'icmp' as never }] }, 'svc', /protocol must be tcp, udp or sctp/],
    ['duplicate published port', { ports: [{ target: 80, published: 8080, mode: 'host' }, { target: 81, published: 8080, mode: 'host' }], endpointMode: 'dnsrr' }, 'svc', /port 8080\/tcp is published twice/],
    ['ingress + dnsrr', { ports: [{ target: 6767, published: 6767 }], endpointMode: 'dnsrr' }, 'svc', /ingress mode, which can't be used with endpointMode "dnsrr".*"mode": "host"/],
    ['bind without absolute source', { mounts: [{ type: 'bind', source: 'data', target: '/data' }] }, 'svc', /bind mount needs an absolute host path/],
    ['relative mount target', { mounts: [{ type: 'volume', target: 'data' }] }, 'svc', /mounts\[0\]\.target must be an absolute path/],
    ['tmpfs with source', { mounts: [{ type: 'tmpfs', source: 'x', target: '/tmp' }] }, 'svc', /a tmpfs mount has no source/],
    ['bad duration', { updateConfig: { monitor: '10 seconds' } }, 'svc', /updateConfig\.monitor "10 seconds" is not a duration/],
    ['bad memory', { resources: { limits: { memory: 'lots' } } }, 'svc', /resources\.limits\.memory "lots" is not a size/],
    ['bad cpus', { resources: { limits: { cpus: '-1' } } }, 'svc', /must be a positive number of CPUs/],
    ['bad failure action for rollback', { rollbackConfig: { failureAction: 'rollback' as never } }, 'svc', /rollbackConfig\.failureAction must be one of pause, continue/],
    ['ratio > 1', { updateConfig: { maxFailureRatio: 2 } }, 'svc', /maxFailureRatio must be between 0 and 1/],
    ['bad constraint', { constraints: ['node.role manager'] }, 'svc', /"node.role manager" is not a constraint/],
    ['bad preference', { placementPreferences: ['node.labels.zone'] }, 'svc', /use e.g. "spread=node.labels.zone"/],
    ['ingress network', { networks: ['ingress'] }, 'svc', /"ingress" is the routing-mesh network/],
    ['zero timeout', { timeout: 0 }, 'svc', /timeout must be greater than 0/],
    ['healthcheck disable + test', { healthcheck: { disable: true, test: ['CMD', 'x'] } }, 'svc', /either "disable": true or "test"/],
    ['env without =', { env: ['FOO'] }, 'svc', /env entries must look like "KEY=value"/],
  ])('%s', (_name, options, service, message) => {
    const { errors } = validateOptions(options, service, { nodes: 1 });
    expect(errors.join('\n')).toMatch(message);
  });

  it.each<[string, SwarmDeployOptions, number | undefined, boolean]>([
    ['start-first + fixed host port on one node', { ...ok, updateConfig: { order: 'start-first' } }, 1, true],
    ['start-first + fixed host port, 1 replica on 3 nodes', { ...ok, updateConfig: { order: 'start-first' } }, 3, false],
    ['start-first + fixed host port, 3 replicas on 3 nodes', { ...ok, replicas: 3, updateConfig: { order: 'start-first' } }, 3, true],
    ['start-first rollback + host port, global', { ...ok, mode: 'global', rollbackConfig: { order: 'start-first' } }, undefined, true],
    ['start-first + host port without a fixed number', { ports: [{ target: 80, mode: 'host' }], endpointMode: 'dnsrr', updateConfig: { order: 'start-first' } }, 1, false],
    ['node count unknown', { ...ok, updateConfig: { order: 'start-first' } }, undefined, false],
  ])('%s', (_name, options, nodes, fails) => {
    const { errors } = validateOptions(options, 'svc', { nodes });
    expect(errors.some((e) => /order "start-first" can't work with the fixed host-mode port/.test(e))).toBe(fails);
  });

  it('reports every problem at once', () => {
    const { errors } = validateOptions({ replicas: -2, ports: [{ target: 0 }] }, 'bad_name');
    expect(errors).toHaveLength(3);
  });
});
