import { normalizeDeployOptions } from './deploy-options';
import { SwarmDeployOptions } from './options';
import { crossFieldProblems, engineProblems } from './validate-options';

describe('crossFieldProblems', () => {
  const ok: SwarmDeployOptions = { ports: [{ target: 6767, published: 6767, mode: 'host' }], endpointMode: 'dnsrr' };

  it('accepts the host-mode + dnsrr setup', () => {
    expect(crossFieldProblems(ok, 'accountservice')).toEqual([]);
  });

  it.each<[string, SwarmDeployOptions, string, RegExp]>([
    ['invalid service name', {}, 'my_service', /"my_service" is not a valid swarm service name.*`service` option/],
    ['service name from an npm-scoped project', {}, '@scope/app', /not a valid swarm service name/],
    ['replicas with global', { mode: 'global', replicas: 2 }, 'svc', /can't be combined with mode "global"/],
    ['maxReplicasPerNode with global', { mode: 'global', maxReplicasPerNode: 2 }, 'svc', /maxReplicasPerNode only applies to mode "replicated"/],
    [
      'duplicate published port',
      {
        ports: [
          { target: 80, published: 8080, mode: 'host' },
          { target: 81, published: 8080, mode: 'host' },
        ],
        endpointMode: 'dnsrr',
      },
      'svc',
      /port 8080\/tcp is published twice/,
    ],
    [
      'ingress + dnsrr',
      { ports: [{ target: 6767, published: 6767 }], endpointMode: 'dnsrr' },
      'svc',
      /ingress mode, which can't be used with endpointMode "dnsrr".*"mode": "host"/,
    ],
    [
      'bind without absolute source',
      { mounts: [{ type: 'bind', source: 'data', target: '/data' }] },
      'svc',
      /bind mount needs an absolute host path/,
    ],
    ['relative mount target', { mounts: [{ type: 'volume', target: 'data' }] }, 'svc', /mounts\[0\]\.target must be an absolute path/],
    ['tmpfs with source', { mounts: [{ type: 'tmpfs', source: 'x', target: '/tmp' }] }, 'svc', /a tmpfs mount has no source/],
    [
      'tmpfs options on a volume',
      { mounts: [{ type: 'volume', target: '/d', tmpfsSize: '1m' }] },
      'svc',
      /tmpfsSize\/tmpfsMode only apply to type "tmpfs"/,
    ],
    ['bad tmpfs mode', { mounts: [{ type: 'tmpfs', target: '/t', tmpfsMode: '999' }] }, 'svc', /tmpfsMode must be an octal mode/],
    ['bad constraint', { constraints: ['node.role manager'] }, 'svc', /"node.role manager" is not a constraint/],
    ['bad preference', { placementPreferences: ['node.labels.zone'] }, 'svc', /use e.g. "spread=node.labels.zone"/],
    ['ingress network', { networks: ['ingress'] }, 'svc', /"ingress" is the routing-mesh network/],
    ['healthcheck disable + test', { healthcheck: { disable: true, test: ['CMD', 'x'] } }, 'svc', /either "disable": true or "test"/],
    ['empty healthcheck test', { healthcheck: { test: [] } }, 'svc', /healthcheck\.test must not be empty/],
    ['env without =', { env: ['FOO'] }, 'svc', /env entries must look like "KEY=value"/],
    ['tryPath without /', { tryPath: 'health' }, 'svc', /tryPath must start with "\/"/],
  ])('%s', (_name, options, service, message) => {
    expect(crossFieldProblems(options, service).join('\n')).toMatch(message);
  });

  it('reports every problem at once', () => {
    expect(crossFieldProblems({ mode: 'global', replicas: 2, networks: ['ingress'] }, 'bad_name')).toHaveLength(3);
  });
});

describe('engineProblems', () => {
  const ok: SwarmDeployOptions = { ports: [{ target: 6767, published: 6767, mode: 'host' }], endpointMode: 'dnsrr' };
  it.each<[string, SwarmDeployOptions, number | undefined, boolean]>([
    ['start-first + fixed host port on one node', { ...ok, updateConfig: { order: 'start-first' } }, 1, true],
    ['start-first + fixed host port, 1 replica on 3 nodes', { ...ok, updateConfig: { order: 'start-first' } }, 3, false],
    ['start-first + fixed host port, 3 replicas on 3 nodes', { ...ok, replicas: 3, updateConfig: { order: 'start-first' } }, 3, true],
    ['start-first rollback + host port, global', { ...ok, mode: 'global', rollbackConfig: { order: 'start-first' } }, undefined, true],
    [
      'start-first + host port without a fixed number',
      { ports: [{ target: 80, mode: 'host' }], endpointMode: 'dnsrr', updateConfig: { order: 'start-first' } },
      1,
      false,
    ],
    ['node count unknown', { ...ok, updateConfig: { order: 'start-first' } }, undefined, false],
    ['host port, order left to the plugin (stop-first)', ok, 1, false],
  ])('%s', (_name, options, nodes, fails) => {
    const errors = engineProblems(normalizeDeployOptions(options, { projectName: 'svc' }), nodes);
    expect(errors.some((e) => /order "start-first" can't work with the fixed host-mode port/.test(e))).toBe(fails);
    expect(errors.length).toBeLessThanOrEqual(1); // a rollback order inherited from updateConfig is not a second problem
  });
});
