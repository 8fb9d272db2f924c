/**
 * The page's model, run with Node's test runner (bundled by esbuild first: see the project's
 * test target). The Go side's diff is tested in internal/snapshot; this checks that the page
 * applies the same patches the same way and describes the changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type Patch,
  type Snapshot,
  type Task,
  applyPatch,
  changes,
  formatBytes,
  formatPort,
  preferredColor,
  serviceColors,
  serviceHash,
  tasksByNode,
} from '../src/model';

const task = (id: string, slot: number, over: Partial<Task> = {}): Task => ({
  id,
  serviceId: 's1',
  serviceName: 'acc',
  nodeId: 'n1',
  slot,
  state: 'running',
  desired: 'running',
  image: 'someprefix/acc:c-aaaaaaaaaaaa',
  tag: 'c-aaaaaaaaaaaa',
  health: 'healthy',
  since: '2026-11-25T12:00:00Z',
  ...over,
});

const base = (): Snapshot => ({
  seq: 4,
  time: '2026-11-25T12:00:00Z',
  swarm: { manager: true, engine: '20.10.24', api: '1.41' },
  nodes: [
    {
      id: 'n1',
      hostname: 'vm',
      role: 'manager',
      leader: true,
      state: 'ready',
      availability: 'active',
      engineVersion: '20.10.24',
      platform: 'linux/x86_64',
    },
  ],
  services: [{ id: 's1', name: 'acc', mode: 'replicated', desired: 1, running: 1, image: 'someprefix/acc:c-aaaaaaaaaaaa' }],
  tasks: [task('t1', 1)],
  networks: null,
});

const patch = (over: Partial<Patch>): Patch => ({
  from: 4,
  to: 5,
  time: '2026-11-25T12:00:01Z',
  nodes: {},
  services: {},
  tasks: {},
  networks: {},
  ...over,
});

test('scale 1 → 3: tasks are added in order, the service is replaced', () => {
  const next = applyPatch(
    base(),
    patch({
      services: { upsert: [{ ...base().services![0], desired: 3 }] },
      tasks: { upsert: [task('t3', 3, { state: 'starting' }), task('t2', 2, { state: 'starting' })] },
    }),
  );
  assert.equal(next.seq, 5);
  assert.deepEqual(
    next.tasks!.map((t) => t.id),
    ['t1', 't2', 't3'],
  );
  assert.equal(next.services![0].desired, 3);
  assert.deepEqual(
    changes(base(), next).map((c) => [c.kind, c.id]),
    [
      ['service-changed', 's1'],
      ['arrived', 't2'],
      ['arrived', 't3'],
    ],
  );
  assert.match(changes(base(), next)[0].text, /replicas 1 → 3/);
  assert.equal(changes(base(), next)[1].text, 'acc.2 c-aaaaaaaaaaaa arrived on vm (starting)');
});

test('rolling update step: the old task leaves, the new one arrives', () => {
  const leaving = applyPatch(base(), patch({ tasks: { upsert: [task('t1', 1, { desired: 'shutdown' })] } }));
  assert.deepEqual(
    changes(base(), leaving).map((c) => c.text),
    ['acc.1 c-aaaaaaaaaaaa running → running, leaving'],
  );

  const replaced = applyPatch(leaving, {
    ...patch({ tasks: { upsert: [task('t9', 1, { tag: 'c-bbbbbbbbbbbb' })], remove: ['t1'] } }),
    from: 5,
    to: 6,
  });
  assert.deepEqual(
    replaced.tasks!.map((t) => [t.id, t.tag]),
    [['t9', 'c-bbbbbbbbbbbb']],
  );
  assert.deepEqual(
    changes(leaving, replaced).map((c) => [c.kind, c.text]),
    [
      ['arrived', 'acc.1 c-bbbbbbbbbbbb arrived on vm (running)'],
      ['left', 'acc.1 c-aaaaaaaaaaaa left vm'],
    ],
  );
});

test('a patch that does not start from this snapshot is refused (the page resyncs)', () => {
  assert.throws(() => applyPatch(base(), patch({ from: 3, to: 4 })), /does not apply/);
});

test('applyPatch does not modify its input, and handles null lists from Go', () => {
  const s = base();
  const before = JSON.stringify(s);
  const next = applyPatch(s, patch({ networks: { upsert: [{ id: 'net1', name: 'my_network', driver: 'overlay' }] }, tasks: { remove: ['t1'] } }));
  assert.equal(JSON.stringify(s), before);
  assert.deepEqual(
    next.networks!.map((n) => n.name),
    ['my_network'],
  );
  assert.deepEqual(next.tasks, []);
});

test('swarm changes and node order (managers first)', () => {
  const next = applyPatch(
    base(),
    patch({
      swarm: { manager: false, error: 'cannot read the Docker Engine' },
      nodes: {
        upsert: [
          {
            id: 'n0',
            hostname: 'a-worker',
            role: 'worker',
            leader: false,
            state: 'down',
            availability: 'drain',
            engineVersion: '27',
            platform: 'linux/aarch64',
          },
        ],
      },
    }),
  );
  assert.equal(next.swarm.error, 'cannot read the Docker Engine');
  assert.deepEqual(
    next.nodes!.map((n) => n.hostname),
    ['vm', 'a-worker'],
  );
  assert.deepEqual(
    changes(base(), next).map((c) => c.text),
    ['node a-worker joined (worker)'],
  );
});

test('service colours: stable per name, distinct among the services present', () => {
  const a = serviceColors(['accountservice', 'swarm-visualizer']);
  assert.deepEqual(serviceColors(['swarm-visualizer', 'accountservice']), a, 'independent of order');
  assert.equal(a.get('accountservice'), preferredColor('accountservice'));
  // names whose preferred colours collide still get different ones
  const similar = ['nxswarm-viz-22865', 'nxswarm-viz-acct-22865', 'accountservice', 'swarm-visualizer'];
  const c = serviceColors(similar);
  assert.equal(new Set(c.values()).size, 4);
  // 11 services: 11 different colours; the 12th repeats one
  const many = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
  assert.equal(new Set(serviceColors(many.slice(0, 11)).values()).size, 11);
  assert.equal(serviceColors(many).size, 12);
  assert.equal(new Set(serviceColors(many).values()).size, 11);
  assert.equal(serviceHash('x'), serviceHash('x'));
  assert.match(preferredColor('x'), /^#[0-9a-f]{6}$/);
});

test('formatting', () => {
  assert.equal(formatPort({ published: 6767, target: 6767, protocol: 'tcp', mode: 'host' }), '6767→6767 host');
  assert.equal(formatPort({ target: 53, protocol: 'udp', mode: 'ingress' }), '*→53/udp ingress');
  assert.equal(formatBytes(25276502016), '24 GiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(undefined), '');
});

test('tasks grouped by node; unscheduled tasks under ""', () => {
  const s = base();
  s.tasks!.push(task('t5', 5, { nodeId: undefined, state: 'pending' }));
  const m = tasksByNode(s);
  assert.deepEqual(
    m.get('n1')!.map((t) => t.id),
    ['t1'],
  );
  assert.deepEqual(
    m.get('')!.map((t) => t.id),
    ['t5'],
  );
});
