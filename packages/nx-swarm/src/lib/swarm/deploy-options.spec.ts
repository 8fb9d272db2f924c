import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEPLOY_DEFAULTS, DeployOptionsError, normalizeDeployOptions, resolveOrder } from './deploy-options';
import { SwarmDeployOptions, parseDuration } from './options';

const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../executors/swarm-deploy/schema.json'), 'utf8'));
const prop = (p: string) => p.split('.').reduce((s, k) => (k === '[]' ? s.items : s.properties[k]), schema);
const ns = (v: string | number) => parseDuration(v);

describe('DEPLOY_DEFAULTS equal schema.json', () => {
  const d = DEPLOY_DEFAULTS;
  it.each<[string, unknown, (v: never) => unknown]>([
    ['replicas', d.replicas, (v) => v],
    ['mode', d.mode, (v) => v],
    ['networks', d.networks, (v) => v],
    ['ports.[].protocol', d.protocol, (v) => v],
    ['ports.[].mode', d.publishMode, (v) => v],
    ['endpointMode', d.endpointMode, (v) => v],
    ['restartPolicy.condition', d.restartCondition, (v) => v],
    ['restartPolicy.delay', d.restartDelayNs, ns],
    ['restartPolicy.maxAttempts', d.restartMaxAttempts, (v) => v],
    ['updateConfig.parallelism', d.update.parallelism, (v) => v],
    ['updateConfig.delay', d.update.delayNs, ns],
    ['updateConfig.failureAction', d.update.failureAction, (v) => v],
    ['updateConfig.maxFailureRatio', d.update.maxFailureRatio, (v) => v],
    ['rollbackConfig.parallelism', d.rollback.parallelism, (v) => v],
    ['rollbackConfig.delay', d.rollback.delayNs, ns],
    ['rollbackConfig.failureAction', d.rollback.failureAction, (v) => v],
    ['rollbackConfig.monitor', d.rollback.monitorNs, ns],
    ['rollbackConfig.maxFailureRatio', d.rollback.maxFailureRatio, (v) => v],
    ['withRegistryAuth', d.withRegistryAuth, (v) => v],
    ['timeout', d.timeoutNs, ns],
    ['dryRun', d.dryRun, (v) => v],
  ])('%s', (p, code, parse) => {
    expect(prop(p).default).toBeDefined();
    expect(parse(prop(p).default as never)).toEqual(code);
  });

  it('updateConfig.monitor has no fixed default (sized from the health check); the description names the flat 10s', () => {
    expect(prop('updateConfig.monitor').default).toBeUndefined();
    expect(prop('updateConfig.monitor').description).toMatch(/10s without one/);
    expect(d.update.monitorNs).toBe(10e9);
  });
});

describe('normalizeDeployOptions', () => {
  const norm = (o: SwarmDeployOptions) => normalizeDeployOptions(o, { projectName: 'accountservice' });

  it('applies every default once', () => {
    expect(norm({})).toEqual({
      service: 'accountservice',
      image: undefined,
      mode: 'replicated',
      replicas: 1,
      networks: ['my_network'],
      ports: [],
      env: undefined,
      labels: {},
      constraints: [],
      placementPreferences: [],
      maxReplicasPerNode: undefined,
      resources: undefined,
      restartPolicy: undefined,
      healthcheck: undefined,
      mounts: [],
      update: { parallelism: 1, delayNs: 0, order: 'start-first', failureAction: 'rollback', monitorNs: 10e9, maxFailureRatio: 0 },
      rollback: { parallelism: 0, delayNs: 0, order: 'start-first', failureAction: 'pause', monitorNs: 5e9, maxFailureRatio: 0 },
      monitorSet: false,
      orderNote: undefined,
      endpointMode: 'vip',
      withRegistryAuth: 'auto',
      timeoutNs: 120e9,
      dryRun: false,
      tryPath: undefined,
      secrets: [],
      configs: [],
      hardening: {},
    });
  });

  it.each<[string, SwarmDeployOptions, unknown]>([
    ['nothing set: nothing in the spec', {}, {}],
    [
      'every hardening option, in Engine API form',
      {
        user: '65532:65532',
        groups: ['999'],
        readOnly: true,
        capAdd: ['net_bind_service'],
        capDrop: ['ALL'],
        init: true,
        stopSignal: 'SIGINT',
        stopGracePeriod: '30s',
        sysctls: { 'net.core.somaxconn': '1024' },
        ulimits: { nproc: 512, nofile: { soft: 1024, hard: 65536 } },
      },
      {
        User: '65532:65532',
        Groups: ['999'],
        ReadOnly: true,
        CapabilityAdd: ['CAP_NET_BIND_SERVICE'],
        CapabilityDrop: ['ALL'],
        Init: true,
        StopSignal: 'SIGINT',
        StopGracePeriod: 30e9,
        Sysctls: { 'net.core.somaxconn': '1024' },
        Ulimits: [
          { Name: 'nofile', Soft: 1024, Hard: 65536 },
          { Name: 'nproc', Soft: 512, Hard: 512 },
        ],
      },
    ],
    ['init: false is said (it overrides a daemon default)', { init: false }, { Init: false }],
  ])('hardening: %s', (_name, options, expected) => {
    expect(norm(options).hardening).toEqual(expected);
  });

  it('hardening problems are collected with the rest', () => {
    expect(() => norm({ stopGracePeriod: 'soon', ulimits: { nofile: { soft: 10, hard: 5 } } })).toThrow(
      /stopGracePeriod "soon" is not a duration[\s\S]*ulimits.nofile: soft limit 10 is above the hard limit 5/,
    );
  });

  it.each<[string, SwarmDeployOptions, (o: ReturnType<typeof norm>) => unknown, unknown]>([
    [
      'durations in ns',
      { updateConfig: { delay: '1s', monitor: '3s' }, timeout: '1m30s' },
      (o) => [o.update.delayNs, o.update.monitorNs, o.monitorSet, o.timeoutNs],
      [1e9, 3e9, true, 90e9],
    ],
    ['numbers are seconds', { timeout: 5 }, (o) => o.timeoutNs, 5e9],
    ['port defaults', { ports: [{ target: 53 }] }, (o) => o.ports, [{ target: 53, protocol: 'tcp', mode: 'ingress' }]],
    [
      'host port → stop-first, said once',
      { ports: [{ target: 1, published: 2, mode: 'host' }] },
      (o) => [o.update.order, o.rollback.order, /stop-first: port 2/.test(o.orderNote ?? '')],
      ['stop-first', 'stop-first', true],
    ],
    ['rollback order follows update order', { updateConfig: { order: 'stop-first' } }, (o) => o.rollback.order, 'stop-first'],
    ['env object → list', { env: { A: 1, B: true } }, (o) => o.env, ['A=1', 'B=true']],
    [
      'resources parsed',
      { resources: { limits: { cpus: '0.5', memory: '64m' } } },
      (o) => o.resources,
      { limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 1024 ** 2 } },
    ],
    [
      'restart policy defaults',
      { restartPolicy: { condition: 'on-failure' } },
      (o) => o.restartPolicy,
      { condition: 'on-failure', delayNs: 5e9, maxAttempts: 0, windowNs: undefined },
    ],
    [
      'healthcheck in Engine API form',
      { healthcheck: { test: ['/app', 'hc'], interval: '2s' } },
      (o) => o.healthcheck,
      { Test: ['CMD', '/app', 'hc'], Interval: 2e9 },
    ],
    ['constraints trimmed', { constraints: [' node.role==manager '] }, (o) => o.constraints, ['node.role==manager']],
  ])('%s', (_n, options, pick, expected) => expect(pick(norm(options))).toEqual(expected));

  it.each<[string, SwarmDeployOptions, RegExp]>([
    ['bad duration', { updateConfig: { monitor: '10 seconds' } }, /updateConfig\.monitor "10 seconds" is not a duration/],
    ['bad memory', { resources: { limits: { memory: 'lots' } } }, /resources\.limits\.memory "lots" is not a size/],
    ['bad cpus', { resources: { limits: { cpus: '-1' } } }, /must be a positive number of CPUs/],
    ['zero timeout', { timeout: 0 }, /timeout must be greater than 0/],
    ['cross-field rule', { ports: [{ target: 1, published: 2 }], endpointMode: 'dnsrr' }, /can't be used with endpointMode "dnsrr"/],
  ])('%s → DeployOptionsError listing it', (_n, options, message) => {
    let error: unknown;
    try {
      norm(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeployOptionsError);
    expect((error as DeployOptionsError).problems.join('\n')).toMatch(message);
  });

  it('lists every problem at once', () => {
    expect(() => norm({ timeout: '5 d', updateConfig: { delay: 'x' }, networks: ['ingress'] })).toThrow(
      /ingress[\s\S]*timeout[\s\S]*updateConfig\.delay/,
    );
  });
});

describe('resolveOrder', () => {
  it('no note with start-first', () => expect(resolveOrder({}).note).toBeUndefined());
  it('an explicit order has no note', () =>
    expect(resolveOrder({ ports: [{ target: 1, published: 2, mode: 'host' }], updateConfig: { order: 'stop-first' } }).note).toBeUndefined());
});
