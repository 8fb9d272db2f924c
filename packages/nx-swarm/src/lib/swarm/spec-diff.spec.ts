import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeDeployOptions } from './deploy-options';
import { buildServiceSpec } from './service-spec';
import { describeChanges, diffSpecs, needsRecreate, normalizeSpec } from './spec-diff';

/** Real `GET /services/{id}` answers of services created from buildServiceSpec on Engine 20.10.24. */
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '__fixtures__', `inspect-${name}.json`), 'utf8'));

describe('diffSpecs against real engine inspects', () => {
  it.each(['minimal', 'full'])('%s: the stored spec compares equal to the desired spec', (name) => {
    const f = fixture(name);
    const desired = buildServiceSpec(normalizeDeployOptions(f.options, { projectName: 'x' }), {
      image: 'nxswarm-it-acct:probe',
      networkIds: f.networkIds,
    });
    expect(desired).toEqual(f.desired);
    expect(diffSpecs(f.inspect.Spec, desired)).toEqual([]);
  });

  it('the stored spec differs from what was sent (the normalisation matters)', () => {
    const f = fixture('full');
    expect(JSON.stringify(f.inspect.Spec)).not.toEqual(JSON.stringify(f.desired));
  });

  it.each<[string, (o: Record<string, unknown>) => Record<string, unknown>, string[]]>([
    ['image', (o) => o, ['image']],
    ['replicas', (o) => ({ ...o, replicas: 3 }), ['replicas']],
    ['env value', (o) => ({ ...o, env: { PORT: 6767, GREETING: 'hello' } }), ['env']],
    ['monitor', (o) => ({ ...o, updateConfig: { parallelism: 1, delay: '1s', monitor: '5s' } }), ['updateConfig.Monitor']],
    ['port', (o) => ({ ...o, ports: [{ target: 6767, published: 17983, mode: 'host' }] }), ['ports']],
    ['read-only bind', (o) => ({ ...o, mounts: [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }] }), ['mounts']],
    ['label', (o) => ({ ...o, labels: { team: 'payments' } }), ['labels.team']],
  ])('detects a change of %s', (_name, change, fields) => {
    const f = fixture('full');
    const image = _name === 'image' ? 'nxswarm-it-acct:probe2' : 'nxswarm-it-acct:probe';
    const options = change(f.options);
    const desired = buildServiceSpec(normalizeDeployOptions({ ...options, service: f.options.service }, { projectName: 'x' }), {
      image,
      networkIds: f.networkIds,
    });
    expect(diffSpecs(f.inspect.Spec, desired).map((c) => c.field)).toEqual(fields);
  });
});

describe('normalizeSpec', () => {
  it.each<[string, unknown, unknown]>([
    [
      'absent UpdateConfig = swarm defaults',
      { UpdateConfig: undefined },
      { UpdateConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, Order: 'stop-first' } },
    ],
    [
      'Isolation default, Runtime container, Init false',
      { TaskTemplate: { ContainerSpec: { Image: 'x', Isolation: 'default', Init: false, DNSConfig: {} }, Runtime: 'container' } },
      { TaskTemplate: { ContainerSpec: { Image: 'x' } } },
    ],
    ['Replicas 0 is kept', { Mode: { Replicated: { Replicas: 0 } } }, { Mode: { Replicated: { Replicas: 0 } } }],
    [
      'port defaults',
      { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } },
      { EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] } },
    ],
    [
      'empty resources',
      { TaskTemplate: { ContainerSpec: { Image: 'x' }, Resources: { Limits: {}, Reservations: {} } } },
      { TaskTemplate: { ContainerSpec: { Image: 'x' } } },
    ],
  ])('%s', (_name, a, b) => {
    const base = { Name: 's', TaskTemplate: { ContainerSpec: { Image: 'x' } }, Mode: { Replicated: { Replicas: 1 } } };
    const merge = (x: Record<string, unknown>) => ({ ...base, ...x });
    expect(normalizeSpec(merge(a as Record<string, unknown>))).toEqual(normalizeSpec(merge(b as Record<string, unknown>)));
  });

  it('keeps Parallelism 0 (all at once) different from the default 1', () => {
    const a = { Name: 's', UpdateConfig: { Parallelism: 0, Order: 'stop-first' } };
    const b = { Name: 's', UpdateConfig: { Parallelism: 1, Order: 'stop-first' } };
    expect(diffSpecs(a, b).map((c) => [c.path, c.from, c.to])).toEqual([['UpdateConfig.Parallelism', 0, 1]]);
  });
});

describe('describeChanges / needsRecreate', () => {
  it('formats changes in the user vocabulary and hides env values', () => {
    const cur = {
      Name: 's',
      TaskTemplate: { ContainerSpec: { Image: 'a:1', Env: ['A=1', 'B=2'] }, Networks: [{ Target: 'id1' }] },
      UpdateConfig: { Monitor: 5e9 },
    };
    const des = {
      Name: 's',
      TaskTemplate: { ContainerSpec: { Image: 'a:2', Env: ['A=secret', 'C=3'] }, Networks: [{ Target: 'id1' }] },
      UpdateConfig: { Monitor: 10e9 },
    };
    expect(describeChanges(diffSpecs(cur, des))).toEqual(['env: ~A +C -B', 'image: a:1 → a:2', 'updateConfig.Monitor: 5s → 10s']);
  });

  it('replicated → global needs a re-create', () => {
    const changes = diffSpecs({ Name: 's', Mode: { Replicated: { Replicas: 1 } } }, { Name: 's', Mode: { Global: {} } });
    expect(needsRecreate(changes)?.field).toMatch(/^mode/);
    expect(
      needsRecreate(diffSpecs({ Name: 's', Mode: { Replicated: { Replicas: 1 } } }, { Name: 's', Mode: { Replicated: { Replicas: 2 } } })),
    ).toBeUndefined();
  });
});
