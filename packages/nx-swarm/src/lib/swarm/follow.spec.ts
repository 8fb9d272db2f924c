/** follow() against a fake SwarmApi: what it does when the new tasks can never be placed. */
import { FakeSwarmApi, task } from '../../../test/support/fake-swarm-api';
import { ConvergenceInput, NodeLike } from './convergence';
import { DeployError } from './deploy-error';
import { extraTasksNote, follow } from './follow';
import type { ServiceSpec } from './service-spec';

const OLD = `reg/acct:c-1@sha256:${'1'.repeat(64)}`;
const ARM = `reg/acct:c-2@sha256:${'2'.repeat(64)}`;
const node = (n: number, arch: string): NodeLike => ({
  ID: `node${n}`,
  Description: { Hostname: `nxlab${n}`, Platform: { Architecture: arch, OS: 'linux' } },
  Status: { State: 'ready', Addr: `192.168.213.1${n}` },
});

function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

const tracker = (over: Partial<ConvergenceInput> = {}): ConvergenceInput => ({
  kind: 'update',
  serviceName: 'acct',
  image: ARM,
  previousImage: OLD,
  desiredReplicas: 1,
  hasHealthcheck: false,
  failureAction: 'rollback',
  deadlineMs: 60_000,
  settleMs: 5000,
  ...over,
});

const spec = (image: string, platforms?: { Architecture: string; OS: string }[]): ServiceSpec =>
  ({
    Name: 'acct',
    TaskTemplate: { ContainerSpec: { Image: image }, ...(platforms ? { Placement: { Platforms: platforms } } : {}) },
    Mode: { Replicated: { Replicas: 1 } },
  }) as ServiceSpec;

describe("follow: an image index that lacks every node's platform", () => {
  function world(failureAction = 'rollback') {
    const api = new FakeSwarmApi();
    api.nodes = [node(1, 'x86_64'), node(2, 'x86_64')];
    const desired = spec(ARM, [{ Architecture: 'arm64', OS: 'linux' }]);
    const svc = api.addService(desired, { ID: 's1', PreviousSpec: spec(OLD) });
    svc.UpdateStatus = { State: 'updating', Message: 'update in progress' };
    api.tasks.set('s1', [
      task('pending0001', 'pending', ARM, {
        NodeID: undefined,
        Status: { State: 'pending', Err: 'no suitable node (unsupported platform on 2 nodes)' },
      }),
    ]);
    api.upToDate.set('s1', ['pending0001']);
    // The previous spec written back: its task runs at once and the update completes.
    api.onWrite = () => {
      svc.UpdateStatus = { State: 'completed', Message: 'update completed' };
      api.tasks.set('s1', [task('back0001', 'running', OLD)]);
      api.upToDate.set('s1', ['back0001']);
    };
    return { api, desired, tracker: tracker({ failureAction }) };
  }

  it('failureAction rollback: puts the previous spec back at once, then fails naming the nodes, their platform and the fix', async () => {
    const { api, desired, tracker } = world();
    const warnings: string[] = [];
    const clock = fakeClock();
    const error = await follow(api, { serviceId: 's1', desired, tracker, view: {}, log: () => {}, warn: (w) => warnings.push(w), ...clock }).catch(
      (e) => e,
    );
    expect(api.writes).toHaveLength(1);
    expect(api.writes[0].spec!.TaskTemplate.ContainerSpec.Image).toBe(OLD);
    expect(warnings.join('\n')).toMatch(/No node can run the new tasks .*putting the previous spec back/);
    expect(clock.now()).toBeLessThan(5000);
    expect(error).toBeInstanceOf(DeployError);
    expect(error.message).toMatch(
      /rolled back: reg\/acct:c-1@sha256:1+ is running again\. The new tasks can't be placed on any node: no node can run the task \(scheduler: "unsupported platform on 2 nodes"\)\. The image index has only linux\/arm64; nxlab1 \(192\.168\.213\.11\) and nxlab2 \(192\.168\.213\.12\) are linux\/amd64, so no node can run it\. Build the image for linux\/amd64 too/,
    );
  });

  it('failureAction pause: writes nothing, fails at once with the diagnosis', async () => {
    const { api, desired, tracker } = world('pause');
    const clock = fakeClock();
    const error = await follow(api, { serviceId: 's1', desired, tracker, view: {}, log: () => {}, warn: () => {}, ...clock }).catch((e) => e);
    expect(api.writes).toHaveLength(0);
    expect(clock.now()).toBeLessThan(5000);
    expect(error.message).toMatch(/can't be placed on any node: .*are linux\/amd64.*docker service rollback acct/);
  });
});

describe('extraTasksNote: a slot that swarm runs twice (after a manager or engine restart)', () => {
  const t = (id: string, slot: number | undefined, state = 'running', desired = 'running') =>
    ({ ID: id.padEnd(25, '0'), Slot: slot, DesiredState: desired, Status: { State: state } }) as const;
  it.each([
    { name: 'as many running tasks as replicas', tasks: [t('a', 1), t('b', 2)], replicas: 2, want: undefined },
    {
      name: 'a global service (no replicas)',
      tasks: [t('a', undefined), t('b', undefined), t('c', undefined)],
      replicas: undefined,
      want: undefined,
    },
    {
      name: 'an old task shutting down is not counted',
      tasks: [t('a', 1), t('b', 1, 'running', 'shutdown'), t('c', 2)],
      replicas: 2,
      want: undefined,
    },
    { name: 'a scale-down under way (distinct slots)', tasks: [t('a', 1), t('b', 2), t('c', 3)], replicas: 1, want: undefined },
    { name: 'a starting task is not yet a second one', tasks: [t('a', 1), t('b', 1, 'starting'), t('c', 2)], replicas: 2, want: undefined },
    {
      name: 'slot 1 twice',
      tasks: [t('b', 2), t('a', 1), t('c', 1)],
      replicas: 2,
      want: 'Swarm runs 3 tasks of acct for 2 replicas (slot 1: a00000000000, c00000000000). This happens for a while after a manager or engine restart, until swarm removes the extra ones by itself; check with `docker service ps acct`.',
    },
    {
      name: 'one replica, twice',
      tasks: [t('a', 1), t('c', 1)],
      replicas: 1,
      want: expect.stringContaining('Swarm runs 2 tasks of acct for 1 replica (slot 1: a00000000000, c00000000000)'),
    },
  ])('$name', ({ tasks, replicas, want }) => {
    expect(extraTasksNote([...tasks], replicas, 'acct')).toEqual(want);
  });
});
