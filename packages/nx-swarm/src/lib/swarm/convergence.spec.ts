import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ConvergenceInput,
  ConvergenceTracker,
  NodeLike,
  Observation,
  TaskLike,
  Verdict,
  explainNoSuitableNode,
  explainPlatformMismatch,
  explainTaskError,
  isIdle,
  isStuckRollback,
  namedTaskId,
  nodePlatform,
  platformFits,
} from './convergence';

/**
 * Sequences recorded on this engine (Docker 20.10.24, one-node swarm, host-mode port, dnsrr) by
 * test/fixtures/convergence/record.js: every distinct (service, tasks, up-to-date tasks) snapshot.
 */
interface Recorded {
  scenario: string;
  snapshots: (Omit<Observation, 'now'> & { t: number; nodes?: NodeLike[] })[];
}
const load = (name: string): Recorded =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '../../../test/fixtures/convergence', `${name}.json`), 'utf8'));

/**
 * What followed a recording that stops at a rollback_completed with a task of the rolled-back spec
 * still preparing (the recorder stopped at the verdict of its day): that task running, 1 s later.
 */
function thenRunning(s: Recorded['snapshots'][number]): Recorded['snapshots'][number] {
  const current = new Set(s.upToDate);
  return {
    ...s,
    t: s.t + 1000,
    tasks: s.tasks.map((t) =>
      current.has(t.ID) && (t.DesiredState === 'ready' || t.DesiredState === 'running')
        ? { ...t, DesiredState: 'running', Status: { ...t.Status, State: 'running' } }
        : t,
    ),
  };
}

function run(name: string, input: Partial<ConvergenceInput>, extraTimeMs = 0, continued = false) {
  const rec = load(name);
  if (continued) rec.snapshots.push(thenRunning(rec.snapshots[rec.snapshots.length - 1]));
  const last = rec.snapshots[rec.snapshots.length - 1];
  const full: ConvergenceInput = {
    kind: 'update',
    serviceName: 'nxswarm-it-rec',
    image: last.service.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    hasHealthcheck: false,
    failureAction: 'rollback',
    deadlineMs: 120_000,
    settleMs: 3000,
    ...input,
  };
  const tracker = new ConvergenceTracker(full);
  const lines: string[] = [];
  let verdict: Verdict | undefined;
  const snaps = [...rec.snapshots];
  // The recorder keeps only changes; replay the last state until the time we want to look at.
  if (extraTimeMs) snaps.push({ ...last, t: last.t + extraTimeMs });
  for (const s of snaps) {
    const step = tracker.observe({ now: s.t, service: s.service, tasks: s.tasks, upToDate: s.upToDate, nodes: s.nodes });
    lines.push(...step.lines);
    verdict = step.verdict;
    if (verdict.status !== 'converging') break;
  }
  return { verdict: verdict!, lines };
}

/** The recorded stuck rollback, replayed, then the previous spec re-issued (as follow() does). */
function forcedRollback() {
  const rec = load('update-crash-rollback');
  const last = rec.snapshots[rec.snapshots.length - 1];
  const tracker = new ConvergenceTracker({
    kind: 'update',
    serviceName: 's',
    image: 'nxswarm-it-crash:probe',
    desiredReplicas: 1,
    hasHealthcheck: false,
    failureAction: 'rollback',
    deadlineMs: 60_000,
    settleMs: 0,
  });
  rec.snapshots.forEach((s) => tracker.observe({ now: s.t, service: s.service, tasks: s.tasks, upToDate: s.upToDate }));
  tracker.markRollbackForced();
  return { last, tracker };
}

describe('ConvergenceTracker on recorded sequences', () => {
  it('create, healthy: converges once the task runs (healthy) and stays up for the settle time', () => {
    const { verdict, lines } = run(
      'create-healthy',
      { kind: 'create', image: 'nxswarm-it-acct:probe', desiredReplicas: 1, hasHealthcheck: true },
      3000,
    );
    expect(verdict).toMatchObject({ status: 'converged', running: 1, desired: 1 });
    expect(lines.join('\n')).toMatch(/starting \(waiting for the health check\)/);
    expect(lines).toContain('  replicas 1/1 running');
  });

  it('create, healthy: not converged before the settle time', () => {
    const { verdict } = run('create-healthy', { kind: 'create', image: 'nxswarm-it-acct:probe', desiredReplicas: 1, settleMs: 10_000 }, 3000);
    expect(verdict.status).toBe('converging');
  });

  it('rolling update: converges only when UpdateStatus is completed', () => {
    const rec = load('update-completed');
    const tracker = new ConvergenceTracker({
      kind: 'update',
      serviceName: 's',
      image: 'nxswarm-it-acct:probe2',
      desiredReplicas: 1,
      hasHealthcheck: true,
      failureAction: 'rollback',
      deadlineMs: 120_000,
      settleMs: 3000,
    });
    const verdicts = rec.snapshots.map((s) => tracker.observe({ now: s.t, service: s.service, tasks: s.tasks, upToDate: s.upToDate }).verdict.status);
    // running at 9.4 s but the monitor window is still open ("updating"): keep waiting
    expect(verdicts.slice(0, -1).every((v) => v === 'converging')).toBe(true);
    expect(verdicts[verdicts.length - 1]).toBe('converged');
  });

  it('rolling update: converged once every new task ran for the monitor period, without waiting for the Delay after the last batch', () => {
    const tracker = new ConvergenceTracker({
      kind: 'update',
      serviceName: 's',
      image: 'v2',
      desiredReplicas: 1,
      hasHealthcheck: true,
      failureAction: 'rollback',
      deadlineMs: 120_000,
      settleMs: 5000,
    });
    const svc = {
      ID: 's1',
      Spec: { TaskTemplate: { ContainerSpec: { Image: 'v2' } } },
      UpdateStatus: { State: 'updating', Message: 'update in progress' },
    };
    const t = (state: string): TaskLike => ({
      ID: 'new1',
      Slot: 1,
      DesiredState: 'running',
      Spec: { ContainerSpec: { Image: 'v2' } },
      Status: { State: state },
    });
    const old: TaskLike = { ID: 'old1', Slot: 1, DesiredState: 'shutdown', Spec: { ContainerSpec: { Image: 'v1' } }, Status: { State: 'shutdown' } };
    const at = (now: number, state: string) =>
      tracker.observe({ now, service: svc, tasks: [old, t(state)], upToDate: ['new1'], specIsOurs: true }).verdict.status;
    expect(at(0, 'starting')).toBe('converging');
    expect(tracker.msUntilWatched(0)).toBeUndefined(); // nothing running yet: only a state change helps
    expect(at(1000, 'running')).toBe('converging'); // watched 0 s
    expect(tracker.msUntilWatched(2000)).toBe(4000); // the deployer polls again right when the window ends
    expect(at(5999, 'running')).toBe('converging'); // 4.999 s: swarm would still roll back a crash
    expect(at(6000, 'running')).toBe('converged'); // 5 s: past swarm's failure window, "updating" only for the Delay
  });

  it('rolling update: a crash inside the monitor period is still a failure (rolled back)', () => {
    const tracker = new ConvergenceTracker({
      kind: 'update',
      serviceName: 's',
      image: 'v2',
      previousImage: 'v1',
      desiredReplicas: 1,
      hasHealthcheck: false,
      failureAction: 'rollback',
      deadlineMs: 120_000,
      settleMs: 5000,
    });
    const t = (state: string, image = 'v2', id = 'new1'): TaskLike => ({
      ID: id,
      Slot: 1,
      DesiredState: state === 'running' ? 'running' : 'shutdown',
      Spec: { ContainerSpec: { Image: image } },
      Status: { State: state, Err: state === 'failed' ? 'task: non-zero exit (1)' : undefined },
    });
    const obs = (now: number, state: string, tasks: TaskLike[]) =>
      tracker.observe({
        now,
        service: {
          ID: 's1',
          Spec: { TaskTemplate: { ContainerSpec: { Image: state.startsWith('rollback') ? 'v1' : 'v2' } } },
          UpdateStatus: { State: state },
        },
        tasks,
        upToDate: tasks.filter((x) => x.Spec?.ContainerSpec?.Image === (state.startsWith('rollback') ? 'v1' : 'v2')).map((x) => x.ID),
      }).verdict;
    expect(obs(0, 'updating', [t('running')]).status).toBe('converging');
    expect(obs(3000, 'updating', [t('failed')]).status).toBe('converging'); // the updater decides
    const v = obs(4000, 'rollback_completed', [t('failed'), t('running', 'v1', 'back')]);
    expect(v.status).toBe('failed');
    expect(v.status === 'failed' && v.failure.kind).toBe('rolled-back');
  });

  it('update to an image that exits 1: rollback is a failed deploy, says which image runs now and why', () => {
    const { verdict } = run('update-crash-paused', {
      image: 'nxswarm-it-crash:probe',
      failureAction: 'pause',
      previousImage: 'nxswarm-it-acct:probe2',
      desiredReplicas: 1,
    });
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('update-paused');
    expect(verdict.failure.message).toMatch(/paused \("update paused due to failure or early termination of task/);
    expect(verdict.failure.message).toMatch(/the container exited with code 1/);
    expect(verdict.failure).toMatchObject({ exitCode: 1, wantLogs: true });
  });

  it('update to an unhealthy image: rolled back, explained as a failed health check', () => {
    const { verdict, lines } = run('update-unhealthy-rollback', {
      image: 'nxswarm-it-unhealthy:probe',
      previousImage: 'nxswarm-it-acct:probe2',
      desiredReplicas: 1,
      hasHealthcheck: true,
    });
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('rolled-back');
    expect(verdict.failure.message).toMatch(/was rolled back: nxswarm-it-acct:probe2 is running again/);
    expect(verdict.failure.message).toMatch(/health check failed/);
    expect(verdict.failure).toMatchObject({ wantHealthLog: true, runningImage: 'nxswarm-it-acct:probe2' });
    expect(lines.join('\n')).toMatch(/update rollback_started/);
  });

  it('update to an image the node does not have: REJECTED "No such image" → push to a registry', () => {
    const { verdict } = run('update-missing-image', { image: 'nxswarm-it-missing:nope', desiredReplicas: 1 });
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('rolled-back');
    expect(verdict.failure.message).toMatch(/has no image nxswarm-it-missing:nope.*push it to a registry/);
  });

  it('create of an image that exits 1: fails at the first failed task with the exit code', () => {
    const { verdict } = run('create-crash', { kind: 'create', image: 'nxswarm-it-crash:probe', desiredReplicas: 1 });
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure).toMatchObject({ kind: 'task-failed', exitCode: 1, wantLogs: true });
    expect(verdict.failure.message).toMatch(/failed: the container exited with code 1/);
  });

  it('unsatisfiable constraint: pending is not a failure before the deadline…', () => {
    const { verdict } = run('update-constraint-pending', {
      image: 'nxswarm-it-acct:probe2',
      desiredReplicas: 1,
      deadlineMs: 60_000,
      constraints: ['node.labels.zone==nowhere'],
    });
    expect(verdict.status).toBe('converging');
  });

  it('…and past the deadline says which constraint', () => {
    const { verdict } = run(
      'update-constraint-pending',
      { image: 'nxswarm-it-acct:probe2', desiredReplicas: 1, deadlineMs: 10_000, constraints: ['node.labels.zone==nowhere'] },
      10_000,
    );
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('unschedulable');
    expect(verdict.failure.message).toMatch(/scheduling constraints not satisfied.*"node.labels.zone==nowhere"/);
  });

  it('host-mode port held by another service: unschedulable at the deadline', () => {
    const { verdict } = run(
      'create-port-conflict-pending',
      { kind: 'create', image: 'nxswarm-it-acct:probe', desiredReplicas: 1, deadlineMs: 5000, publishedPorts: [17990] },
      5000,
    );
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.message).toMatch(/host-mode port 17990 is already bound/);
  });

  it('stuck rollback (swarmkit race): detected, and a timeout says a rollback is in progress', () => {
    const rec = load('update-crash-rollback');
    const last = rec.snapshots[rec.snapshots.length - 1];
    expect(isStuckRollback(last.service, last.tasks)).toBe(true);
    expect(rec.snapshots.slice(0, -2).some((s) => isStuckRollback(s.service, s.tasks))).toBe(false);
    const { verdict } = run('update-crash-rollback', { image: 'nxswarm-it-crash:probe', desiredReplicas: 1, deadlineMs: 30_000 }, 30_000);
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('timeout');
    expect(verdict.failure.message).toMatch(/A rollback is in progress/);
  });

  it('stuck rollback unblocked by re-issuing the previous spec: its completion is reported as a rollback', () => {
    const { last, tracker } = forcedRollback();
    const running = {
      ...last.tasks.find((t) => t.ID.startsWith('ux88'))!,
      DesiredState: 'running',
      Status: { State: 'running', Message: 'started' },
    };
    const step = tracker.observe({
      now: last.t + 8000,
      service: { ...last.service, UpdateStatus: { State: 'completed', Message: 'update completed' } },
      tasks: [...last.tasks.filter((t) => !t.ID.startsWith('ux88')), running],
      upToDate: [running.ID],
    });
    expect(step.verdict.status).toBe('failed');
    if (step.verdict.status !== 'failed') return;
    expect(step.verdict.failure.kind).toBe('rolled-back');
    expect(step.verdict.failure.message).toMatch(/exited with code 1/);
  });

  it('after the re-issue, the rolled-back spec running and watched while the updater still says "updating" is no success', () => {
    const { last, tracker } = forcedRollback();
    const running = {
      ...last.tasks.find((t) => t.ID.startsWith('ux88'))!,
      DesiredState: 'running',
      Status: { State: 'running', Message: 'started' },
    };
    const updating = {
      now: last.t + 8000,
      service: { ...last.service, UpdateStatus: { State: 'updating', Message: 'update in progress' } },
      tasks: [...last.tasks.filter((t) => !t.ID.startsWith('ux88')), running],
      upToDate: [running.ID],
      specIsOurs: false,
    };
    expect(tracker.observe(updating).verdict.status).toBe('converging');
    expect(tracker.observe({ ...updating, now: last.t + 20_000 }).verdict.status).toBe('converging');
  });

  it('prints one line per change, nothing when nothing changed', () => {
    const rec = load('update-completed');
    const tracker = new ConvergenceTracker({
      kind: 'update',
      serviceName: 's',
      image: 'x',
      desiredReplicas: 1,
      hasHealthcheck: false,
      failureAction: 'rollback',
      deadlineMs: 120_000,
      settleMs: 0,
    });
    const s = rec.snapshots[2];
    expect(tracker.observe({ now: 1, ...s }).lines.length).toBeGreaterThan(0);
    expect(tracker.observe({ now: 2, ...s }).lines).toEqual([]);
  });
});

describe('explainTaskError', () => {
  const task = (Err: string, State = 'failed') => ({ ID: 't1', Status: { State, Err } });
  it.each<[string, RegExp]>([
    ['No such image: someprefix/accountservice:c-1', /push it to a registry \(docker-image with push: true\) for multi-node swarms/],
    ["pull access denied for x, repository does not exist or may require 'docker login'", /withRegistryAuth/],
    ['invalid mount config for type "bind": bind source path does not exist: /srv/x', /bind-mount source must exist on every node/],
    ['task: non-zero exit (2): dockerexec: unhealthy container', /health check failed/],
    ['starting container failed: Bind for 0.0.0.0:17000 failed: port is already allocated', /held by another process/],
    ['task: non-zero exit (137)', /exited with code 137/],
    ['no suitable node (insufficient resources on 1 node)', /resources.reservations/],
  ])('%s', (err, expected) => expect(explainTaskError(task(err), { image: 'img' })).toMatch(expected));

  it('max replicas per node', () => expect(explainNoSuitableNode('max replicas per node limit exceed', {})).toMatch(/maxReplicasPerNode/));

  it('a node not available, none known to be down: says so without blaming a port', () => {
    const m = explainNoSuitableNode('host-mode port already in use on 2 nodes; 1 node not available for new tasks', { publishedPorts: [6767] }, []);
    expect(m).toMatch(/Some nodes are not available for new tasks \(down, drained or paused/);
  });

  it('unhealthy in Status.Message (not Err) counts as a failed health check', () =>
    expect(explainTaskError({ ID: 't', Status: { State: 'shutdown', Message: 'dockerexec: unhealthy container' } }, { image: 'img' })).toMatch(
      /health check failed/,
    ));
});

/**
 * Sequences recorded on the three-node lab (tools/swarm-lab, Engine 20.10.24) by
 * test/fixtures/convergence/record-lab.js while the lab suite ran (100 ms poll, changes only).
 */
describe('ConvergenceTracker on the multi-node lab', () => {
  const image = (name: string, at: 'first' | 'last' = 'first') => {
    const snaps = load(name).snapshots;
    return snaps[at === 'first' ? 0 : snaps.length - 1].service.Spec!.TaskTemplate!.ContainerSpec!.Image!;
  };
  const lab = { serviceName: 'nxlab-acct', desiredReplicas: 3, hasHealthcheck: true, publishedPorts: [6767], deadlineMs: 60_000, settleMs: 5000 };

  it('health check fails (Engine 20.10): the task ends "complete" exit 0 and UpdateStatus jumps to rollback_completed; still diagnosed as a health check', () => {
    const sick = image('lab-update-unhealthy-rollback');
    const rec = load('lab-update-unhealthy-rollback');
    // What makes it hard: no rollback_started is ever seen, and the task is not "failed".
    expect(rec.snapshots.some((s) => s.service.UpdateStatus?.State === 'rollback_started')).toBe(false);
    const { verdict, lines } = run('lab-update-unhealthy-rollback', { ...lab, image: sick }, 0, true);
    expect(lines.join('\n')).toMatch(/starting \(waiting for the health check\)/);
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('rolled-back');
    expect(verdict.failure.message).toMatch(/was rolled back: .* is running again\. The new task failed: its health check never passed/);
    // The task and its node are named, with what its status says.
    expect(verdict.failure.message).toMatch(/task gryp1[0-9a-z]{7} on nxlab3 \(192\.168\.213\.13\): complete "finished", exit code 0/);
    expect(verdict.failure).toMatchObject({ wantHealthLog: true, wantLogs: true });
    expect(verdict.failure.task?.ID).toMatch(/^gryp1/);
    expect(verdict.failure.task?.NodeID).toBeDefined();
  });

  it('health check fails: the task named by UpdateStatus is used even when it is no longer in the list (looked up by ID)', () => {
    const rec = load('lab-update-unhealthy-rollback');
    const last = rec.snapshots[rec.snapshots.length - 1];
    const sickTask = last.tasks.find((t) => t.ID.startsWith('gryp1'))!;
    const tracker = new ConvergenceTracker({ kind: 'update', ...lab, image: image('lab-update-unhealthy-rollback'), failureAction: 'rollback' });
    const step = tracker.observe({
      now: 15_000,
      // Seen for the first time in rollback_started, naming the task; the deployer appended GET /tasks/ID.
      service: {
        ...last.service,
        UpdateStatus: { State: 'rollback_started', Message: `update rolled back due to failure or early termination of task ${sickTask.ID}` },
      },
      tasks: last.tasks,
      upToDate: last.upToDate,
      nodes: last.nodes,
    });
    expect(step.verdict.status).toBe('converging');
    const after = thenRunning(last);
    const done = tracker.observe({
      now: 16_000,
      service: last.service,
      tasks: after.tasks.filter((t) => t.ID !== sickTask.ID),
      upToDate: last.upToDate,
      nodes: last.nodes,
    });
    expect(done.verdict.status).toBe('failed');
    if (done.verdict.status !== 'failed') return;
    expect(done.verdict.failure.task?.ID).toBe(sickTask.ID);
    expect(namedTaskId(`update rolled back due to failure or early termination of task ${sickTask.ID}`)).toBe(sickTask.ID);
  });

  it("two deploys at once: the first one fails as superseded as soon as the other deploy's spec replaces its own", () => {
    const v2 = image('lab-concurrent-superseded');
    const v3 = image('lab-concurrent-superseded', 'last');
    expect(v3).not.toBe(v2);
    const { verdict } = run('lab-concurrent-superseded', { ...lab, image: v2, hasHealthcheck: true });
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('superseded');
    expect(verdict.failure.message).toContain(`another deploy replaced this one, and nxlab-acct now runs ${v3} (not ours)`);
  });

  it("two deploys at once: the last writer follows its rollout to the end (the other deploy's spec before its own write is not held against it)", () => {
    const rec = load('lab-concurrent-superseded');
    const v3 = image('lab-concurrent-superseded', 'last');
    const from = rec.snapshots.findIndex((s) => s.service.Spec!.TaskTemplate!.ContainerSpec!.Image === v3);
    const tracker = new ConvergenceTracker({ kind: 'update', ...lab, image: v3, failureAction: 'rollback' });
    const verdicts = rec.snapshots.slice(from).map((s) => tracker.observe({ now: s.t, ...s }).verdict);
    expect(verdicts.slice(0, -1).every((v) => v.status === 'converging')).toBe(true);
    expect(verdicts[verdicts.length - 1]).toMatchObject({ status: 'converged', running: 3, desired: 3 });
  });

  it('the other deploy wrote an identical spec: not superseded (specIsOurs)', () => {
    const rec = load('lab-concurrent-superseded');
    const v2 = image('lab-concurrent-superseded');
    const tracker = new ConvergenceTracker({ kind: 'update', ...lab, image: v2, failureAction: 'rollback' });
    const s = rec.snapshots[rec.snapshots.length - 1];
    expect(tracker.observe({ now: s.t, ...s, specIsOurs: true }).verdict.status).toBe('converged');
  });

  it('a rollback puts the previous spec back: that is not "superseded"', () => {
    const { verdict } = run('lab-update-unhealthy-rollback', { ...lab, image: image('lab-update-unhealthy-rollback') }, 0, true);
    expect(verdict.status === 'failed' && verdict.failure.kind).toBe('rolled-back');
  });

  it('rollback_completed while a task of the previous spec is still preparing: not "running again" yet; waits for it, and says so', () => {
    // The recording ends so: UpdateStatus rollback_completed, 2 of 3 tasks of the previous spec
    // running, the third still preparing (desired "ready"). Engine 26 does the same with 1 replica.
    const { verdict, lines } = run('lab-update-unhealthy-rollback', { ...lab, image: image('lab-update-unhealthy-rollback') });
    expect(verdict.status).toBe('converging');
    expect(lines.join('\n')).toMatch(/rolled back; waiting for \S+ to run again/);
  });

  it('…and when they do not all run by the deadline: rolled back, with how many of its tasks run', () => {
    const last = load('lab-update-unhealthy-rollback').snapshots.at(-1)!;
    const { verdict } = run(
      'lab-update-unhealthy-rollback',
      { ...lab, image: image('lab-update-unhealthy-rollback'), deadlineMs: last.t + 5000 },
      5000,
    );
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('rolled-back');
    expect(verdict.failure.message).toMatch(/was rolled back to \S+, but only 2\/3 of its tasks were running at the deadline/);
    expect(verdict.failure.message).not.toMatch(/is running again/);
    expect(verdict.failure.message).toMatch(/The new task failed: its health check never passed/);
  });

  it('worker killed: at the deadline the pending task is explained by the node that is down, not by a port conflict', () => {
    const v3 = image('lab-node-down-deadline');
    const { verdict } = run('lab-node-down-deadline', { ...lab, image: v3, deadlineMs: 30_000 }, 30_000);
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('unschedulable');
    const m = verdict.failure.message;
    expect(m).toMatch(/1 node not available for new tasks/);
    expect(m).toMatch(/Node nxlab3 \(192\.168\.213\.13\) is down/);
    expect(m).toMatch(/waits for nxlab3/);
    expect(m).not.toMatch(/Remove the other service/);
    expect(m).toMatch(/The update is still in progress/);
    expect(m).toMatch(/When nxlab3 \(192\.168\.213\.13\) is back, swarm resumes the update \(or rolls it back/);
  });

  it('worker killed with the rollout half done: says which versions run', () => {
    const rec = load('lab-node-down-deadline');
    const v3 = image('lab-node-down-deadline');
    const last = rec.snapshots[rec.snapshots.length - 1];
    // Slot 2 already on v3 (as in 3 of 7 lab runs): two versions run at the deadline.
    const old = last.tasks.find((t) => t.DesiredState === 'running' && t.Status.State === 'running')!;
    const upgraded: TaskLike = { ...old, ID: 'v3task000000000000000000', Spec: { ContainerSpec: { Image: v3 } } };
    const tasks = [...last.tasks.filter((t) => t.ID !== old.ID), upgraded];
    const tracker = new ConvergenceTracker({ kind: 'update', ...lab, image: v3, deadlineMs: 30_000, failureAction: 'rollback' });
    const step = tracker.observe({ now: 31_000, service: last.service, tasks, upToDate: [...last.upToDate, upgraded.ID], nodes: last.nodes });
    expect(step.verdict.status).toBe('failed');
    if (step.verdict.status !== 'failed') return;
    const m = step.verdict.failure.message;
    expect(m).toMatch(/The rollout is left between versions: 1 task of \S+( \(new\))?, 1 task of \S+( \(new\))? running \(update updating\)/);
    expect(m).toContain(`1 task of ${v3} (new)`);
    expect(m).toMatch(/When nxlab3 \(192\.168\.213\.13\) is back, swarm resumes the update/);
  });
});

describe('following a rollout this deploy did not start (no-op with tasks not up to date)', () => {
  it("a rollback_completed left over from an earlier deploy is not a failure: the current spec's rollout is done", () => {
    const rec = load('update-unhealthy-rollback');
    const last = rec.snapshots[rec.snapshots.length - 1];
    const us = last.service.UpdateStatus!;
    expect(us.State).toBe('rollback_completed');
    const image = last.service.Spec!.TaskTemplate!.ContainerSpec!.Image!;
    const base = {
      kind: 'update' as const,
      serviceName: 's',
      image,
      desiredReplicas: 1,
      hasHealthcheck: false,
      failureAction: 'rollback',
      deadlineMs: 60_000,
      settleMs: 0,
    };
    const running = last.tasks.filter((t) => t.DesiredState === 'running').map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
    const obs = { now: 1, service: last.service, tasks: running, upToDate: running.map((t) => t.ID) };
    expect(new ConvergenceTracker({ ...base, priorUpdateStatus: us }).observe(obs).verdict.status).toBe('converged');
    // Without the prior status (this deploy's own update) the same snapshot is a rollback.
    expect(new ConvergenceTracker(base).observe(obs).verdict.status).toBe('failed');
  });
});

describe('isIdle (the no-op check)', () => {
  const t = (State: string): TaskLike => ({ ID: State + Math.random(), DesiredState: 'running', Status: { State } });
  it('all wanted tasks up to date and running: idle', () => expect(isIdle([t('running'), t('running')], 2)).toBe(true));
  it('right after another deploy wrote the same spec (UpdateStatus reset, no task up to date yet): not idle', () =>
    expect(isIdle([], 3)).toBe(false));
  it('a new task still starting: not idle', () => expect(isIdle([t('running'), t('starting')], 2)).toBe(false));
  it('replicas 0: idle', () => expect(isIdle([], 0)).toBe(true));
});

describe('platforms (Placement.Platforms of an image index vs the nodes)', () => {
  const node = (name: string, addr: string, arch?: string, os = 'linux'): NodeLike => ({
    ID: `id-${name}`,
    Description: { Hostname: name, ...(arch ? { Platform: { Architecture: arch, OS: os } } : {}) },
    Status: { State: 'ready', Addr: addr },
  });
  const lab = [node('nxlab1', '192.168.213.11', 'x86_64'), node('nxlab2', '192.168.213.12', 'x86_64'), node('nxlab3', '192.168.213.13', 'x86_64')];
  const AMD64 = { Architecture: 'amd64', OS: 'linux' };
  const ARM64 = { Architecture: 'arm64', OS: 'linux' };

  it.each<[string | undefined, string | undefined, string | undefined]>([
    ['x86_64', 'linux', 'linux/amd64'],
    ['aarch64', 'linux', 'linux/arm64'],
    ['armv7l', 'linux', 'linux/arm/v7'],
    ['armv6l', 'linux', 'linux/arm/v6'],
    ['amd64', 'windows', 'windows/amd64'],
    [undefined, undefined, undefined],
  ])('nodePlatform: an engine reporting %s/%s is %s', (arch, os, expected) => {
    const n: NodeLike = { ID: 'n', Description: arch || os ? { Platform: { Architecture: arch, OS: os } } : {} };
    expect(nodePlatform(n)).toBe(expected);
  });

  // swarmkit's PlatformFilter: x86_64 = amd64, aarch64 = arm64, an empty field matches, else equal strings.
  it.each<[string, { Architecture: string; OS: string }[], string, boolean]>([
    ['amd64 index on an x86_64 node', [AMD64, ARM64], 'x86_64', true],
    ['arm64 index on an aarch64 node', [AMD64, ARM64], 'aarch64', true],
    ['arm64-only index on an x86_64 node', [ARM64], 'x86_64', false],
    ['"arm" on an armv7l node (swarm compares the strings)', [{ Architecture: 'arm', OS: 'linux' }], 'armv7l', false],
    ['an open architecture', [{ Architecture: '', OS: 'linux' }], 'armv7l', true],
    ['no platforms: anything', [], 'riscv64', true],
  ])('platformFits: %s', (_n, platforms, arch, fits) => {
    expect(platformFits(platforms, node('x', '10.0.0.1', arch))).toBe(fits);
  });

  it.each<[string, string, { Architecture: string; OS: string }[] | undefined, NodeLike[] | undefined, RegExp[]]>([
    [
      'arm64-only index on three amd64 nodes (the lab): every node named, its platform, the fix',
      'unsupported platform on 3 nodes',
      [ARM64],
      lab,
      [
        /^no node can run the task \(scheduler: "unsupported platform on 3 nodes"\)\. /,
        /The image index has only linux\/arm64; nxlab1 \(192\.168\.213\.11\), nxlab2 \(192\.168\.213\.12\) and nxlab3 \(192\.168\.213\.13\) are linux\/amd64, so no node can run it\./,
        /Build the image for linux\/amd64 too: add it to the build target's matrix \(go-cross-build `targets`\) or to docker-image's `platforms` option, then deploy again\.$/,
      ],
    ],
    [
      'mixed swarm, amd64-only index: the Raspberry Pi is named, the x86 box is not',
      'host-mode port already in use on 1 node; unsupported platform on 1 node',
      [AMD64],
      [node('box', '10.0.0.1', 'x86_64'), node('pi', '10.0.0.2', 'aarch64')],
      [
        /The image index has only linux\/amd64; pi \(10\.0\.0\.2\) is linux\/arm64, so swarm places no task there\./,
        /Build the image for linux\/arm64 too/,
        /^(?!.*box).*$/s,
      ],
    ],
    [
      'two foreign platforms: grouped by platform',
      'unsupported platform on 2 nodes',
      [AMD64],
      [node('box', '10.0.0.1', 'x86_64'), node('pi4', '10.0.0.2', 'aarch64'), node('pi2', '10.0.0.3', 'armv7l')],
      [
        /pi2 \(10\.0\.0\.3\) is linux\/arm\/v7; pi4 \(10\.0\.0\.2\) is linux\/arm64/,
        /Build the image for linux\/arm\/v7 and linux\/arm64 too: add them/,
      ],
    ],
    [
      'no index known (an explicit image): the nodes and their platforms',
      'unsupported platform on 1 node',
      undefined,
      [node('pi', '10.0.0.2', 'aarch64')],
      [/The image's platform doesn't match the nodes \(pi \(10\.0\.0\.2\) is linux\/arm64\)/],
    ],
    ['nodes unknown', 'unsupported platform on 3 nodes', [ARM64], undefined, [/index has only linux\/arm64, which the nodes don't run/]],
  ])('%s', (_n, reason, platforms, nodes, expected) => {
    const text = explainNoSuitableNode(reason, { platforms }, nodes);
    for (const re of expected) expect(text).toMatch(re);
  });

  it.each<[string, { Architecture: string; OS: string }[] | undefined, string, RegExp]>([
    [
      'an index with 32-bit arm (open architecture) and arm64 on an amd64 node: the node, its platform, the fix',
      [ARM64, { Architecture: '', OS: 'linux' }],
      'reg/acct:c-2@sha256:' + '2'.repeat(64),
      /^nxlab2 \(192\.168\.213\.12\) is linux\/amd64, and the image index has only linux\/arm64, 32-bit arm: the node found no image for its platform \("No such image: .*"\)\. Build the image for linux\/amd64 too: .*`platforms` option/,
    ],
    [
      'no open entry: a local-only image, as before',
      [AMD64],
      'reg/acct:c-2@sha256:' + '2'.repeat(64),
      /A local-only image exists only on the engine that built it/,
    ],
    ['not pinned by digest: a local-only image', [ARM64, { Architecture: '', OS: 'linux' }], 'acct:c-2', /A local-only image/],
  ])('"No such image" (Engine 20.10\'s words for a pull that found nothing): %s', (_n, platforms, ref, expected) => {
    const t: TaskLike = { ID: 't1', NodeID: 'id-nxlab2', Status: { State: 'rejected', Message: 'preparing', Err: `No such image: ${ref}` } };
    expect(explainTaskError(t, { image: ref, platforms }, lab)).toMatch(expected);
  });

  it('explainPlatformMismatch without nodes or platforms still says what to do', () => {
    expect(explainPlatformMismatch(undefined, undefined)).toMatch(/build the image for the nodes' platform/);
  });

  describe("tracker: an index that lacks every node's platform fails at once, not at the deadline", () => {
    const OLD = 'reg/acct:c-1@sha256:' + '1'.repeat(64);
    const ARM = 'reg/acct:c-2@sha256:' + '2'.repeat(64);
    const input = (over: Partial<ConvergenceInput> = {}): ConvergenceInput => ({
      kind: 'update',
      serviceName: 'nxlab-acct',
      image: ARM,
      previousImage: OLD,
      desiredReplicas: 3,
      hasHealthcheck: true,
      failureAction: 'rollback',
      platforms: [ARM64],
      deadlineMs: 60_000,
      settleMs: 5000,
      ...over,
    });
    const running = (id: string, slot: number): TaskLike => ({
      ID: id,
      Slot: slot,
      NodeID: `id-nxlab${slot}`,
      DesiredState: 'running',
      Spec: { ContainerSpec: { Image: OLD } },
      Status: { State: 'running' },
    });
    const pending: TaskLike = {
      ID: 'pendingtask0001',
      Slot: 2,
      DesiredState: 'running',
      Spec: { ContainerSpec: { Image: ARM } },
      Status: { State: 'pending', Message: 'pending task scheduling', Err: 'no suitable node (unsupported platform on 3 nodes)' },
    };
    const obs = (nodes: NodeLike[] = lab): Observation => ({
      now: 1200,
      service: {
        ID: 's',
        Spec: { TaskTemplate: { ContainerSpec: { Image: ARM } } },
        UpdateStatus: { State: 'updating', Message: 'update in progress' },
      },
      tasks: [running('old1', 1), running('old3', 3), pending],
      upToDate: [pending.ID],
      nodes,
    });

    it('failureAction rollback: unschedulable, asks the deployer to put the previous spec back', () => {
      const v = new ConvergenceTracker(input()).observe(obs()).verdict;
      expect(v.status).toBe('failed');
      if (v.status !== 'failed') return;
      expect(v.failure.kind).toBe('unschedulable');
      expect(v.failure.wantRollback).toBe(true);
      expect(v.failure.message).toMatch(
        /^Task nxlab-acct\.2 \(pendingtask0\) of reg\/acct:c-2@sha256:2+ can't be placed on any node: no node can run the task/,
      );
      expect(v.failure.detail).toMatch(
        /nxlab1 \(192\.168\.213\.11\), nxlab2 \(192\.168\.213\.12\) and nxlab3 \(192\.168\.213\.13\) are linux\/amd64/,
      );
    });

    it('failureAction pause: fails, and says how to get out', () => {
      const v = new ConvergenceTracker(input({ failureAction: 'pause' })).observe(obs()).verdict;
      expect(v.status === 'failed' && v.failure.wantRollback).toBe(false);
      expect(v.status === 'failed' && v.failure.message).toMatch(
        /waits for the pending task forever: roll back with `docker service rollback nxlab-acct`/,
      );
    });

    it('create: fails, the service stays created', () => {
      const v = new ConvergenceTracker(input({ kind: 'create' })).observe(obs()).verdict;
      expect(v.status === 'failed' && v.failure.message).toMatch(/stays created with its tasks pending/);
    });

    it('one node fits (a mixed swarm, the others busy): keeps waiting, the deadline explains', () => {
      const mixed = [...lab.slice(0, 2), node('pi', '10.0.0.2', 'aarch64')];
      const t = new ConvergenceTracker(input());
      expect(t.observe(obs(mixed)).verdict.status).toBe('converging');
    });

    it('without the index platforms or the nodes: no early verdict', () => {
      expect(new ConvergenceTracker(input({ platforms: undefined })).observe(obs()).verdict.status).toBe('converging');
      expect(new ConvergenceTracker(input()).observe({ ...obs(), nodes: undefined }).verdict.status).toBe('converging');
    });

    it('after the deployer put the previous spec back: its completion is a rollback, explained by the platforms', () => {
      const t = new ConvergenceTracker(input());
      const first = t.observe(obs()).verdict;
      t.markRollbackForced(first.status === 'failed' ? `The new tasks can't be placed on any node: ${first.failure.detail}` : '');
      const back = running('old2', 2);
      const during = t.observe({
        ...obs(),
        now: 2000,
        service: { ID: 's', Spec: { TaskTemplate: { ContainerSpec: { Image: OLD } } }, UpdateStatus: { State: 'updating' } },
        tasks: [running('old1', 1), running('old3', 3), { ...pending, DesiredState: 'shutdown', Status: { ...pending.Status, State: 'shutdown' } }],
        upToDate: ['old1', 'old3'],
      });
      expect(during.verdict.status).toBe('converging');
      const done = t.observe({
        ...obs(),
        now: 9000,
        service: {
          ID: 's',
          Spec: { TaskTemplate: { ContainerSpec: { Image: OLD } } },
          UpdateStatus: { State: 'completed', Message: 'update completed' },
        },
        tasks: [running('old1', 1), back, running('old3', 3)],
        upToDate: ['old1', 'old2', 'old3'],
      }).verdict;
      expect(done.status).toBe('failed');
      if (done.status !== 'failed') return;
      expect(done.failure.kind).toBe('rolled-back');
      expect(done.failure.message).toMatch(
        /^Deploy of reg\/acct:c-2@sha256:2+ failed and nxlab-acct was rolled back: reg\/acct:c-1@sha256:1+ is running again\. The new tasks can't be placed on any node: .*index has only linux\/arm64; nxlab1/,
      );
    });
  });
});
