import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConvergenceInput, ConvergenceTracker, Observation, Verdict, explainNoSuitableNode, explainTaskError, isStuckRollback } from './convergence';

/**
 * Sequences recorded on this engine (Docker 20.10.24, one-node swarm, host-mode port, dnsrr) by
 * test/fixtures/convergence/record.js: every distinct (service, tasks, up-to-date tasks) snapshot.
 */
interface Recorded {
  scenario: string;
  snapshots: (Omit<Observation, 'now'> & { t: number })[];
}
const load = (name: string): Recorded =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '../../../test/fixtures/convergence', `${name}.json`), 'utf8'));

function run(name: string, input: Partial<ConvergenceInput>, extraTimeMs = 0) {
  const rec = load(name);
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
    const step = tracker.observe({ now: s.t, service: s.service, tasks: s.tasks, upToDate: s.upToDate });
    lines.push(...step.lines);
    verdict = step.verdict;
    if (verdict.status !== 'converging') break;
  }
  return { verdict: verdict!, lines };
}

describe('ConvergenceTracker on recorded sequences', () => {
  it('create, healthy: converges once the task runs (healthy) and stays up for the settle time', () => {
    const { verdict, lines } = run('create-healthy', { kind: 'create', image: 'nxswarm-it-acct:probe', desiredReplicas: 1, hasHealthcheck: true }, 3000);
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
    const tracker = new ConvergenceTracker({ kind: 'update', serviceName: 's', image: 'nxswarm-it-acct:probe2', desiredReplicas: 1, hasHealthcheck: true, failureAction: 'rollback', deadlineMs: 120_000, settleMs: 3000 });
    const verdicts = rec.snapshots.map((s) => tracker.observe({ now: s.t, service: s.service, tasks: s.tasks, upToDate: s.upToDate }).verdict.status);
    // running at 9.4 s but the monitor window is still open ("updating"): keep waiting
    expect(verdicts.slice(0, -1).every((v) => v === 'converging')).toBe(true);
    expect(verdicts[verdicts.length - 1]).toBe('converged');
  });

  it('update to an image that exits 1: rollback is a failed deploy, says which image runs now and why', () => {
    const { verdict } = run('update-crash-paused', { image: 'nxswarm-it-crash:probe', failureAction: 'pause', previousImage: 'nxswarm-it-acct:probe2', desiredReplicas: 1 });
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('update-paused');
    expect(verdict.failure.message).toMatch(/paused \("update paused due to failure or early termination of task/);
    expect(verdict.failure.message).toMatch(/the container exited with code 1/);
    expect(verdict.failure).toMatchObject({ exitCode: 1, wantLogs: true });
  });

  it('update to an unhealthy image: rolled back, explained as a failed health check', () => {
    const { verdict, lines } = run('update-unhealthy-rollback', { image: 'nxswarm-it-unhealthy:probe', previousImage: 'nxswarm-it-acct:probe2', desiredReplicas: 1, hasHealthcheck: true });
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
    const { verdict } = run('update-constraint-pending', { image: 'nxswarm-it-acct:probe2', desiredReplicas: 1, deadlineMs: 60_000, constraints: ['node.labels.zone==nowhere'] });
    expect(verdict.status).toBe('converging');
  });

  it('…and past the deadline says which constraint', () => {
    const { verdict } = run('update-constraint-pending', { image: 'nxswarm-it-acct:probe2', desiredReplicas: 1, deadlineMs: 10_000, constraints: ['node.labels.zone==nowhere'] }, 10_000);
    expect(verdict.status).toBe('failed');
    if (verdict.status !== 'failed') return;
    expect(verdict.failure.kind).toBe('unschedulable');
    expect(verdict.failure.message).toMatch(/scheduling constraints not satisfied.*"node.labels.zone==nowhere"/);
  });

  it('host-mode port held by another service: unschedulable at the deadline', () => {
    const { verdict } = run('create-port-conflict-pending', { kind: 'create', image: 'nxswarm-it-acct:probe', desiredReplicas: 1, deadlineMs: 5000, publishedPorts: [17990] }, 5000);
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
    const rec = load('update-crash-rollback');
    const last = rec.snapshots[rec.snapshots.length - 1];
    const tracker = new ConvergenceTracker({ kind: 'update', serviceName: 's', image: 'nxswarm-it-crash:probe', desiredReplicas: 1, hasHealthcheck: false, failureAction: 'rollback', deadlineMs: 60_000, settleMs: 0 });
    rec.snapshots.forEach((s) => tracker.observe({ now: s.t, service: s.service, tasks: s.tasks, upToDate: s.upToDate }));
    tracker.markRollbackForced();
    const running = { ...last.tasks.find((t) => t.ID.startsWith('ux88'))!, DesiredState: 'running', Status: { State: 'running', Message: 'started' } };
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

  it('prints one line per change, nothing when nothing changed', () => {
    const rec = load('update-completed');
    const tracker = new ConvergenceTracker({ kind: 'update', serviceName: 's', image: 'x', desiredReplicas: 1, hasHealthcheck: false, failureAction: 'rollback', deadlineMs: 120_000, settleMs: 0 });
    const s = rec.snapshots[2];
    expect(tracker.observe({ now: 1, ...s }).lines.length).toBeGreaterThan(0);
    expect(tracker.observe({ now: 2, ...s }).lines).toEqual([]);
  });
});

describe('explainTaskError', () => {
  const task = (Err: string, State = 'failed') => ({ ID: 't1', Status: { State, Err } });
  it.each<[string, RegExp]>([
    ['No such image: someprefix/accountservice:c-1', /push it to a registry \(docker-image with push: true\) for multi-node swarms/],
    ['pull access denied for x, repository does not exist or may require \'docker login\'', /withRegistryAuth/],
    ['invalid mount config for type "bind": bind source path does not exist: /srv/x', /bind-mount source must exist on every node/],
    ['task: non-zero exit (2): dockerexec: unhealthy container', /health check failed/],
    ['starting container failed: Bind for 0.0.0.0:17000 failed: port is already allocated', /held by another process/],
    ['task: non-zero exit (137)', /exited with code 137/],
    ['no suitable node (insufficient resources on 1 node)', /resources.reservations/],
  ])('%s', (err, expected) => expect(explainTaskError(task(err), { image: 'img' })).toMatch(expected));

  it('max replicas per node', () => expect(explainNoSuitableNode('max replicas per node limit exceed', {})).toMatch(/maxReplicasPerNode/));
});
