import { normalizeDeployOptions } from './deploy-options';
import { SwarmDeployOptions } from './options';
import { BuildSpecInput, buildServiceSpec as build } from './service-spec';

const input = { image: 'someprefix/accountservice:c-1', networkIds: { my_network: 'net1' } };
const buildServiceSpec = (options: SwarmDeployOptions, i: BuildSpecInput) =>
  build(normalizeDeployOptions(options, { projectName: 'accountservice' }), i);

describe('buildServiceSpec', () => {
  it('builds the defaults', () => {
    const spec = buildServiceSpec({}, input);
    expect(spec).toEqual({
      Name: 'accountservice',
      Labels: { 'io.nx-swarm.managed-by': 'nx-swarm' },
      TaskTemplate: { ContainerSpec: { Image: 'someprefix/accountservice:c-1' }, Networks: [{ Target: 'net1' }], ForceUpdate: 0 },
      Mode: { Replicated: { Replicas: 1 } },
      UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: 'rollback', Monitor: 10e9, MaxFailureRatio: 0, Order: 'start-first' },
      RollbackConfig: { Parallelism: 0, Delay: 0, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' },
      EndpointSpec: { Mode: 'vip', Ports: [] },
    });
  });

  it.each<[string, SwarmDeployOptions, (s: ReturnType<typeof buildServiceSpec>) => unknown, unknown]>([
    ['replicas', { replicas: 3 }, (s) => s.Mode, { Replicated: { Replicas: 3 } }],
    ['global mode', { mode: 'global' }, (s) => s.Mode, { Global: {} }],
    ['env object', { env: { PORT: 6767, DEBUG: true } }, (s) => s.TaskTemplate.ContainerSpec.Env, ['PORT=6767', 'DEBUG=true']],
    ['env list', { env: ['A=1'] }, (s) => s.TaskTemplate.ContainerSpec.Env, ['A=1']],
    ['labels', { labels: { team: 'a' } }, (s) => s.Labels, { team: 'a', 'io.nx-swarm.managed-by': 'nx-swarm' }],
    [
      'host port',
      { ports: [{ target: 6767, published: 6767, mode: 'host' }] },
      (s) => s.EndpointSpec,
      { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 6767, PublishedPort: 6767, PublishMode: 'host' }] },
    ],
    [
      'auto published port',
      { ports: [{ target: 53, protocol: 'udp' }] },
      (s) => s.EndpointSpec?.Ports,
      [{ Protocol: 'udp', TargetPort: 53, PublishMode: 'ingress' }],
    ],
    ['dnsrr', { endpointMode: 'dnsrr' }, (s) => s.EndpointSpec?.Mode, 'dnsrr'],
    [
      'host port → stop-first',
      { ports: [{ target: 1, published: 2, mode: 'host' }] },
      (s) => [s.UpdateConfig?.Order, s.RollbackConfig?.Order],
      ['stop-first', 'stop-first'],
    ],
    ['explicit order wins', { updateConfig: { order: 'stop-first' } }, (s) => s.UpdateConfig?.Order, 'stop-first'],
    [
      'constraints & preferences',
      { constraints: ['node.role == manager'], placementPreferences: ['spread=node.labels.zone'], maxReplicasPerNode: 2 },
      (s) => s.TaskTemplate.Placement,
      { Constraints: ['node.role == manager'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 },
    ],
    [
      'resources',
      { resources: { limits: { cpus: '0.5', memory: '64m', pids: 10 }, reservations: { memory: '16m' } } },
      (s) => s.TaskTemplate.Resources,
      { Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 1024 ** 2, Pids: 10 }, Reservations: { MemoryBytes: 16 * 1024 ** 2 } },
    ],
    [
      'restart policy',
      { restartPolicy: { condition: 'on-failure', delay: '1s', maxAttempts: 3 } },
      (s) => s.TaskTemplate.RestartPolicy,
      { Condition: 'on-failure', Delay: 1e9, MaxAttempts: 3 },
    ],
    [
      'healthcheck override',
      { healthcheck: { test: ['/app', 'healthcheck'], interval: '2s', retries: 2 } },
      (s) => s.TaskTemplate.ContainerSpec.Healthcheck,
      { Test: ['CMD', '/app', 'healthcheck'], Interval: 2e9, Retries: 2 },
    ],
    [
      'healthcheck shell string',
      { healthcheck: { test: 'curl -f localhost' } },
      (s) => s.TaskTemplate.ContainerSpec.Healthcheck,
      { Test: ['CMD-SHELL', 'curl -f localhost'] },
    ],
    ['healthcheck disable', { healthcheck: { disable: true } }, (s) => s.TaskTemplate.ContainerSpec.Healthcheck, { Test: ['NONE'] }],
    [
      'read-only docker socket bind mount',
      { mounts: [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', readOnly: true }] },
      (s) => s.TaskTemplate.ContainerSpec.Mounts,
      [{ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock', ReadOnly: true }],
    ],
    [
      'volume & tmpfs',
      {
        mounts: [
          { type: 'volume', source: 'data', target: '/data', volumeNoCopy: true },
          { type: 'tmpfs', target: '/tmp', tmpfsSize: '16m', tmpfsMode: '1777' },
        ],
      },
      (s) => s.TaskTemplate.ContainerSpec.Mounts,
      [
        { Type: 'volume', Source: 'data', Target: '/data', VolumeOptions: { NoCopy: true } },
        { Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 16 * 1024 ** 2, Mode: 0o1777 } },
      ],
    ],
    [
      'update config',
      { updateConfig: { parallelism: 2, delay: '5s', failureAction: 'pause', monitor: '3s', maxFailureRatio: 0.5 } },
      (s) => s.UpdateConfig,
      { Parallelism: 2, Delay: 5e9, FailureAction: 'pause', Monitor: 3e9, MaxFailureRatio: 0.5, Order: 'start-first' },
    ],
    ['unknown network name kept', { networks: ['other'] }, (s) => s.TaskTemplate.Networks, [{ Target: 'other' }]],
  ])('%s', (_name, options, pick, expected) => {
    expect(pick(buildServiceSpec(options, input))).toEqual(expected);
  });

  it('takes the monitor the deployer sized', () => {
    expect(buildServiceSpec({}, { ...input, monitorNs: 5e9 }).UpdateConfig?.Monitor).toBe(5e9);
  });

  it('carries ForceUpdate over', () => {
    expect(buildServiceSpec({}, { ...input, forceUpdate: 7 }).TaskTemplate.ForceUpdate).toBe(7);
  });
});
