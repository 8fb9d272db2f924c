/**
 * The executors on a real three-node swarm (tools/swarm-lab: one manager, two workers, each its own
 * dockerd in a network namespace; a registry on the lab bridge; an nginx edge on 127.0.0.1 that
 * balances the host-mode port 6767 of every node and retries the next node on connection errors).
 *
 * Every scenario runs under a bounded open-loop load (100 req/s through the edge, at most ~40 s)
 * from tools/loadgen and records its figures in tmp/lab/figures.json (docs/reliability.md).
 * Scenarios share one service and run in order; each restores what it breaks (nodes, registry)
 * in `finally`, and afterAll removes the service (and the lab, when this file started it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import deployExecutor from '../../src/executors/swarm-deploy/executor';
import rmExecutor from '../../src/executors/swarm-service-rm/executor';
import type { SwarmDeployOptions } from '../../src/lib/swarm/options';
import { renamePeople, replaceInFile } from '../support/accountservice';
import {
  FIGURES_FILE,
  Figure,
  LabImage,
  LabState,
  Load,
  buildLabImage,
  captureLogger,
  dockerFor,
  edgeStats,
  ensureLab,
  executorContext,
  httpGet,
  lab,
  removeLoadgen,
  removeServiceQuietly,
  serviceTasks,
  serviceView,
  sleep,
  summarizeLoad,
  waitConverged,
  waitNodesReady,
  writeFigures,
} from './support/lab';

const SERVICE = 'nxlab-acct';
const NETWORK = 'nxlab_net';
const DEPLOY_TIMEOUT_S = 60;

let state: LabState;
let startedHere = false;
let ws: string;
const images: Record<string, LabImage> = {};
const figures: Figure[] = [];
const log = captureLogger();
const suiteStarted = Date.now();
let labUpMs = 0;

/** A release that cannot start: logs why and exits 1. */
const crashOnStart = (src: string) =>
  replaceInFile(
    path.join(src, 'main.go'),
    'logger.Printf("Starting accountservice (version %s)", version)',
    'logger.Printf("Starting accountservice (version %s)", version)\n\treturn errors.New("fatal: required setting DATABASE_URL is missing")',
  );
/** A release that serves but whose /health answers 503, so HEALTHCHECK fails. */
const failHealth = (src: string) => {
  renamePeople('PersonSick_')(src);
  replaceInFile(path.join(src, 'internal/service/handlers.go'), 'if h.store.IsOpen() {', 'if false && h.store.IsOpen() {');
};

const options = (image: string, extra: Partial<SwarmDeployOptions> = {}): SwarmDeployOptions => ({
  service: SERVICE,
  image,
  replicas: 3,
  networks: [NETWORK],
  ports: [{ target: 6767, published: 6767, mode: 'host' }],
  endpointMode: 'dnsrr',
  // One node at a time, stop-first (host-mode port: one task per node), 1 s between nodes, 5 s watch.
  updateConfig: { parallelism: 1, delay: '1s', order: 'stop-first', monitor: '5s', failureAction: 'rollback' },
  rollbackConfig: { parallelism: 1, order: 'stop-first', monitor: '2s' },
  restartPolicy: { delay: '1s' },
  // The image's own health check (/accountservice healthcheck → GET /health), probed every 2 s.
  healthcheck: { interval: '2s', startPeriod: '2s' },
  timeout: `${DEPLOY_TIMEOUT_S}s`,
  ...extra,
});

async function deploy(opts: SwarmDeployOptions, ctxImage?: LabImage) {
  const started = Date.now();
  const ctx = ctxImage
    ? executorContext(ctxImage.workspaceRoot, 'accountservice', ctxImage.projectRoot)
    : executorContext(ws, 'accountservice', 'lab-deploy');
  const result = await deployExecutor(opts, ctx, { env: { ...process.env, DOCKER_HOST: state.dockerHost }, pollMs: 250 });
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

/** A deploy that also records what runs the moment it returns (to check a claimed success). */
async function deployAndLook(opts: SwarmDeployOptions) {
  const result = await deploy(opts);
  const tasks = await serviceTasks(manager(), SERVICE);
  return { ...result, runningAtReturn: tasks.filter((t) => t.state === 'running').map((t) => t.image) };
}

const manager = () => dockerFor(state.dockerHost);
const errorLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('[error]'))
    .join('\n');
/** "v2" for the ref of images.v2, for figures. */
const tag = (ref?: string) => Object.values(images).find((i) => i.ref === ref)?.name ?? ref ?? '-';

/** Precondition of a scenario: the service runs `image` on all three nodes (deploys it when not). */
async function ensureRunning(image: LabImage): Promise<void> {
  const svc = await serviceView(manager(), SERVICE);
  const tasks = svc ? await serviceTasks(manager(), SERVICE) : [];
  if (svc?.image === image.ref && tasks.length === 3 && tasks.every((t) => t.state === 'running' && t.image === image.ref)) return;
  const mark = log.mark();
  const r = await deploy(options(image.ref));
  if (!r.success) throw new Error(`precondition: could not deploy ${image.name}:\n${errorLines(log.since(mark))}`);
  await waitConverged(manager(), SERVICE, image.ref, 3, 30_000);
}

/**
 * Runs fn under 100 req/s through the edge: the load starts `lead` ms before fn and stops `tail` ms
 * after it (at most maxSeconds in all). When fn throws, the load is killed and the error rethrown.
 */
async function underLoad<T>(fn: () => Promise<T>, { lead = 2000, tail = 2000, maxSeconds = 45 } = {}) {
  const load = await Load.start(`${state.edgeUrl}/accounts/10000`, { maxSeconds });
  try {
    await sleep(lead);
    const value = await fn();
    const report = await load.stop(tail);
    return { value, report, edge: edgeStats(load.edgeLogOffset) };
  } catch (error) {
    load.kill();
    throw error;
  }
}
const bodyNames = (bodies?: Record<string, number>) => Object.keys(bodies ?? {}).filter((k) => !k.startsWith('edge'));

/** Keeps a scenario's figures (tmp/lab/figures.json) and everything the executors printed (tmp/lab/NN.log). */
function record(f: Figure, out?: string) {
  figures.push(f);
  process.stdout.write(`lab figure: ${JSON.stringify(f)}\n`);
  if (out !== undefined) {
    const file = path.join(
      path.dirname(FIGURES_FILE),
      `${String(figures.length).padStart(2, '0')}-${f.scenario.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.log`,
    );
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, out + '\n');
  }
}

beforeAll(async () => {
  const t0 = Date.now();
  const up = await ensureLab();
  state = up.state;
  startedHere = up.startedHere;
  labUpMs = Date.now() - t0;
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxlab-ws-'));
  await removeServiceQuietly(state, SERVICE); // a leftover of an interrupted run
  // Versions, built and pushed by the docker-image executor (sequential: 2 cores).
  const plan: [string, ((src: string) => void) | undefined][] = [
    ['v1', undefined],
    ['v2', renamePeople('PersonV2_')],
    ['v3', renamePeople('PersonV3_')],
    ['crash', crashOnStart],
    ['sick', failHealth],
  ];
  for (const [name, patch] of plan) {
    const built = await buildLabImage(state, ws, name, { patch });
    if (!built.success || !built.image) throw new Error(`docker-image failed for ${name}:\n${log.text()}`);
    images[name] = built.image;
  }
}, 300_000);

afterAll(async () => {
  try {
    if (state) {
      const rm = await rmExecutor(
        { service: SERVICE, removeNetworks: true, timeout: 60 },
        executorContext(ws ?? os.tmpdir(), 'accountservice', 'lab-deploy'),
        { env: { ...process.env, DOCKER_HOST: state.dockerHost } },
      );
      if (!rm.success) await removeServiceQuietly(state, SERVICE);
    }
    writeFigures(figures, {
      machine: `${os.cpus().length} cores, ${os.release()}`,
      labUpSeconds: labUpMs / 1000,
      labStartedHere: startedHere,
      suiteSeconds: (Date.now() - suiteStarted) / 1000,
      ranAt: new Date().toISOString(),
    });
    if (startedHere && !process.env.NXLAB_KEEP) {
      const down = await lab('down');
      if (down.exitCode !== 0) process.stderr.write(`lab.sh down failed:\n${down.all}\n`);
    }
  } finally {
    log.restore();
    removeLoadgen();
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  }
}, 180_000);

describe('multi-node swarm lab', () => {
  it('deploys 3 replicas, one per node, pinned by digest from the lab registry; every node answers through the edge', async () => {
    const v1 = images.v1;
    expect(v1.ref).toMatch(new RegExp(`^${state.registry.replace(/\./g, '\\.')}/nxlab/accountservice:c-[0-9a-f]{12}@sha256:[0-9a-f]{64}$`));
    const result = await deploy(options(v1.ref));
    expect(log.text()).not.toMatch(/never pushed/);
    expect(result.success).toBe(true);

    const tasks = await waitConverged(manager(), SERVICE, v1.ref, 3, 10_000);
    expect(new Set(tasks.map((t) => t.node))).toEqual(new Set(state.nodes.map((n) => n.name)));
    expect((await serviceView(manager(), SERVICE))!.image).toBe(v1.ref);
    // The workers got the image from the registry (the manager built it).
    const digest = v1.ref.split('@')[1];
    for (const node of state.nodes.filter((n) => n.name !== state.manager)) {
      const img = (await dockerFor(node.dockerHost).getImage(v1.ref).inspect()) as { RepoDigests: string[] };
      expect(img.RepoDigests).toContain(`${state.registry}/nxlab/accountservice@${digest}`);
    }
    // Each node serves on its own address, and the edge spreads over all three.
    for (const node of state.nodes) {
      expect(await httpGet(`http://${node.address}:${state.edgeTarget}/accounts/10000`)).toEqual({
        status: 200,
        body: '{"id":"10000","name":"Person_0"}',
      });
    }
    const load = await Load.start(`${state.edgeUrl}/accounts/10000`, { maxSeconds: 5 });
    const report = await load.stop(3000);
    const edge = edgeStats(load.edgeLogOffset);
    expect(report.failed).toBe(0);
    expect(Object.keys(edge.byUpstream).sort()).toEqual(state.nodes.map((n) => `${n.address}:${state.edgeTarget}`).sort());
    record({
      scenario: 'spread',
      outcome: `created, 3/3 on ${tasks
        .map((t) => t.node)
        .sort()
        .join(', ')}`,
      seconds: result.seconds,
      load: summarizeLoad(report),
      edge,
    });
  });

  it('rolling update to a new version under 100 req/s through the edge: 0 failed requests', async () => {
    await ensureRunning(images.v1);
    const mark = log.mark();
    const { value: result, report, edge } = await underLoad(() => deploy(options(images.v2.ref)));
    record(
      {
        scenario: 'rolling update v1→v2',
        outcome: result.success ? 'updated' : 'failed',
        seconds: result.seconds,
        load: summarizeLoad(report),
        edge,
      },
      log.since(mark),
    );
    expect(result.success).toBe(true);
    await waitConverged(manager(), SERVICE, images.v2.ref, 3, 10_000);
    expect(report.failed).toBe(0);
    expect(bodyNames(summarizeLoad(report)!.bodies).sort()).toEqual(['PersonV2_0', 'Person_0']);
  });

  for (const bad of [
    { name: 'crash', what: 'exits on start', expect: /rolled back[\s\S]*exited with code 1[\s\S]*DATABASE_URL is missing/ },
    // The diagnosis must name the health check: that is what the user has to fix.
    { name: 'sick', what: 'fails its health check', expect: /rolled back[\s\S]*health/i },
  ]) {
    it(`a bad release (${bad.what}) fails with a diagnosis, swarm rolls back, 0 failed requests, the old version serves`, async () => {
      await ensureRunning(images.v2);
      const mark = log.mark();
      const { value: result, report, edge } = await underLoad(() => deploy(options(images[bad.name].ref)));
      const out = log.since(mark);
      const after = await serviceView(manager(), SERVICE);
      record(
        {
          scenario: `bad release (${bad.what})`,
          outcome: `${result.success ? 'REPORTED SUCCESS' : 'failed'}; service ${after?.updateState}, spec image ${after?.image === images.v2.ref ? 'v2 (old)' : after?.image}`,
          seconds: result.seconds,
          load: summarizeLoad(report),
          edge,
          notes: out
            .split('\n')
            .filter((l) => l.startsWith('[error]') || l.startsWith('[warn]'))
            .slice(0, 8),
        },
        out,
      );
      expect(result.success).toBe(false);
      // The diagnosis is what the executor reports as the failure (its error lines), not progress lines.
      expect(errorLines(out)).toMatch(bad.expect);
      expect(after!.image).toBe(images.v2.ref);
      // rollback_completed, or "completed" when the deployer had to re-issue the previous spec to
      // unblock swarmkit's stuck stop-first rollback (it says so in a warning).
      if (after!.updateState !== 'rollback_completed') {
        expect(after!.updateState).toBe('completed');
        expect(out).toMatch(/\[warn\].*rollback is stuck/);
      }
      await waitConverged(manager(), SERVICE, images.v2.ref, 3, 20_000);
      expect(result.seconds).toBeLessThan(DEPLOY_TIMEOUT_S + 10);
      expect(report.failed).toBe(0);
      // After the rollback every node serves the old version again.
      for (const node of state.nodes) {
        expect((await httpGet(`http://${node.address}:${state.edgeTarget}/accounts/10000`)).body).toContain('PersonV2_0');
      }
    });
  }

  it('a worker engine killed during a deploy: the deploy ends within its deadline, and after the engine returns the service converges', async () => {
    await ensureRunning(images.v2);
    const victim = state.nodes[state.nodes.length - 1].name;
    const timeoutS = 30;
    const mark = log.mark();
    let killedAfterS = 0;
    let during: { service?: Awaited<ReturnType<typeof serviceView>>; tasks: Awaited<ReturnType<typeof serviceTasks>> } = { tasks: [] };
    const { value, report, edge } = await underLoad(
      async () => {
        let result: Awaited<ReturnType<typeof deploy>>;
        try {
          const started = Date.now();
          const pending = deploy(options(images.v3.ref, { timeout: `${timeoutS}s` }));
          // Kill the worker once the rollout has begun (the first new task exists).
          const until = Date.now() + 20_000;
          while (Date.now() < until) {
            if ((await serviceTasks(manager(), SERVICE)).some((t) => t.image === images.v3.ref)) break;
            await sleep(200);
          }
          const killed = await lab('kill', victim);
          killedAfterS = (Date.now() - started) / 1000;
          expect(killed.exitCode).toBe(0);
          result = await pending;
          during = { service: await serviceView(manager(), SERVICE), tasks: await serviceTasks(manager(), SERVICE) };
        } finally {
          const restarted = await lab('start', victim);
          expect(restarted.exitCode).toBe(0);
        }
        await waitNodesReady(manager(), 3, 60_000);
        // When the node returns, swarm finishes the interrupted update by itself: it resumes it, or
        // rolls it back when it counts the returning node's terminated task as a failure (the
        // executor's failure message says so). Deploying again while swarm is still deciding joins
        // that rollout and inherits its outcome, so wait, as the message tells the user, until
        // swarm has settled.
        const settleUntil = Date.now() + 60_000;
        while (Date.now() < settleUntil) {
          const state = (await serviceView(manager(), SERVICE))?.updateState;
          if (state !== 'updating' && state !== 'rollback_started') break;
          await sleep(500);
        }
        // The user's next step after a failed deploy: deploy again. It must converge on all three nodes.
        const again = await deploy(options(images.v3.ref));
        return { result, again };
      },
      { lead: 1000, tail: 1000 },
    );
    const { result, again } = value;
    const out = log.since(mark);
    let final: Awaited<ReturnType<typeof waitConverged>> = [];
    let finalProblem = '';
    try {
      final = await waitConverged(manager(), SERVICE, images.v3.ref, 3, 30_000);
    } catch (error) {
      finalProblem = (error as Error).message;
    }
    const end = await serviceView(manager(), SERVICE);
    record(
      {
        scenario: `worker engine ${victim} killed (SIGKILL) during a deploy v2→v3`,
        outcome:
          `deploy ${result.success ? 'succeeded' : 'failed'} after ${result.seconds.toFixed(1)} s (engine killed at ${killedAfterS.toFixed(1)} s); ` +
          `right after: update ${during.service?.updateState}, spec ${tag(during.service?.image)}, ` +
          `tasks ${during.tasks.map((t) => `${t.node || '-'}:${tag(t.image)}/${t.state}`).join(' ')}; ` +
          `redeploy after the node returned: ${again.success ? `success (${again.report?.action})` : 'FAILED'} in ${again.seconds.toFixed(1)} s; ` +
          `end: spec ${tag(end?.image)}, update ${end?.updateState}, ` +
          (finalProblem
            ? `NOT converged on v3`
            : `3/3 v3 on ${final
                .map((t) => t.node)
                .sort()
                .join(', ')}`),
        seconds: result.seconds,
        load: summarizeLoad(report),
        edge,
        notes: out
          .split('\n')
          .filter((l) => l.startsWith('[error]') || l.startsWith('[warn]'))
          .slice(0, 8),
      },
      out,
    );
    expect(finalProblem).toBe('');
    // Bounded: a verdict within its deadline (plus polling slack).
    expect(result.seconds).toBeLessThan(timeoutS + 15);
    const mixed = new Set(during.tasks.filter((t) => t.state === 'running').map((t) => t.image)).size > 1;
    if (!result.success) {
      // A clear failure names the node that went down (the scheduler only says "1 node not available").
      expect(errorLines(out)).toMatch(new RegExp(`${victim}|\\bdown\\b`, 'i'));
      // Left between versions (old and new tasks running): the failure must say so.
      if (mixed) expect(errorLines(out)).toMatch(/in progress|partial|half|between versions|mix/i);
    } else {
      expect(mixed).toBe(false);
    }
    // Nothing half-updated once the node is back and the deploy re-run.
    expect(again.success).toBe(true);
    expect(new Set(final.map((t) => t.node)).size).toBe(3);
    expect(report.failed).toBe(0);
  });

  it('registry stopped: the push fails with a clear message and the running service is untouched', async () => {
    await ensureRunning(images.v3);
    const before = await serviceView(manager(), SERVICE);
    const tasksBefore = (await serviceTasks(manager(), SERVICE)).map((t) => t.id).sort();
    const mark = log.mark();
    const { value: built, report } = await underLoad(
      async () => {
        try {
          const stopped = await lab('registry-stop');
          expect(stopped.exitCode).toBe(0);
          return await buildLabImage(state, ws, 'v4', { patch: renamePeople('PersonV4_') });
        } finally {
          const started = await lab('registry-start');
          expect(started.exitCode).toBe(0);
        }
      },
      { lead: 1000, tail: 1000 },
    );
    const out = log.since(mark);
    const after = await serviceView(manager(), SERVICE);
    record(
      {
        scenario: 'registry stopped during the push',
        outcome: `docker-image ${built.success ? 'SUCCEEDED' : 'failed'}; service version ${before!.version} → ${after!.version}`,
        load: summarizeLoad(report),
        notes: out
          .split('\n')
          .filter((l) => l.startsWith('[error]'))
          .slice(0, 4),
      },
      out,
    );
    expect(built.success).toBe(false);
    expect(out).toMatch(new RegExp(`\\[error\\].*${state.registry.replace(/\./g, '\\.')}`));
    expect(out).toMatch(/connection refused|connect/i);
    expect(after!.version).toBe(before!.version);
    expect((await serviceTasks(manager(), SERVICE)).map((t) => t.id).sort()).toEqual(tasksBefore);
    expect(report.failed).toBe(0);
  });

  it('a local-only image on the multi-node swarm: warned before deploying, REJECTED tasks explained with the fix, rolled back', async () => {
    // Built on the manager only, never pushed, no registry in its name: what a single-node setup produces.
    await ensureRunning(images.v3);
    const built = await buildLabImage(state, ws, 'local', {
      patch: renamePeople('PersonLocal_'),
      push: false,
      registry: null,
      repository: 'nxlab-local/accountservice',
    });
    expect(built.success).toBe(true);
    const local = built.image!;
    const mark = log.mark();
    // No "image" option: the deploy takes the receipt the image target wrote, as in the real pipeline.
    const { image: _unused, ...fromReceipt } = options('');
    const { value: result, report } = await underLoad(() => deploy(fromReceipt, local));
    const out = log.since(mark);
    const lines = out.split('\n');
    const warnAt = lines.findIndex((l) => /\[warn\].*never pushed[\s\S]*REJECTED/.test(l));
    const updateAt = lines.findIndex((l) => /Updating nxlab-acct/.test(l));
    const after = await serviceView(manager(), SERVICE);
    record(
      {
        scenario: 'local-only image on 3 nodes',
        outcome: `${result.success ? 'REPORTED SUCCESS' : 'failed'}; warning ${warnAt >= 0 ? 'before' : 'MISSING'} the update; service ${after?.updateState}`,
        seconds: result.seconds,
        load: summarizeLoad(report),
        notes: lines.filter((l) => l.startsWith('[error]') || l.startsWith('[warn]')).slice(0, 6),
      },
      out,
    );
    expect(warnAt).toBeGreaterThanOrEqual(0);
    expect(updateAt).toBeGreaterThan(warnAt);
    expect(result.success).toBe(false);
    expect(out).toMatch(/No such image[\s\S]*push/i);
    expect(after!.image).toBe(images.v3.ref);
    await waitConverged(manager(), SERVICE, images.v3.ref, 3, 20_000);
    expect(report.failed).toBe(0);
  });

  it('two deploys of the same service at once (same image): both succeed, no "update out of sequence" leaks out', async () => {
    await ensureRunning(images.v3);
    const mark = log.mark();
    const { value: results, report } = await underLoad(() =>
      Promise.all([deployAndLook(options(images.v1.ref)), deployAndLook(options(images.v1.ref))]),
    );
    const out = log.since(mark);
    const final = await waitConverged(manager(), SERVICE, images.v1.ref, 3, 20_000);
    record(
      {
        scenario: 'two deploys at once, same image (v3→v1)',
        outcome: results
          .map(
            (r) =>
              `${r.success ? `success (${r.report?.action})` : 'failed'} in ${r.seconds.toFixed(1)} s, running then: ${r.runningAtReturn.map(tag).join(',')}`,
          )
          .join(' / '),
        load: summarizeLoad(report),
        notes: out
          .split('\n')
          .filter((l) => l.startsWith('[error]') || l.startsWith('[warn]') || /sequence|up to date/i.test(l))
          .slice(0, 6),
      },
      out,
    );
    expect(out).not.toMatch(/out of sequence/i);
    expect(results.map((r) => r.success)).toEqual([true, true]);
    // A success means v1 runs everywhere when the executor returns, for both callers.
    for (const r of results) expect(r.runningAtReturn).toEqual([images.v1.ref, images.v1.ref, images.v1.ref]);
    expect(final).toHaveLength(3);
    expect(report.failed).toBe(0);
  });

  it('two deploys of the same service at once (different images): both end with a verdict, the service ends consistent', async () => {
    await ensureRunning(images.v1);
    const mark = log.mark();
    const { value: results, report } = await underLoad(async () => {
      const a = deployAndLook(options(images.v2.ref, { timeout: '40s' }));
      await sleep(1500);
      const b = deployAndLook(options(images.v3.ref, { timeout: '40s' }));
      return Promise.all([a, b]);
    });
    const out = log.since(mark);
    const svc = await serviceView(manager(), SERVICE);
    const finalImage = svc!.image;
    const final = await waitConverged(manager(), SERVICE, finalImage, 3, 30_000);
    record(
      {
        scenario: 'two deploys at once, different images (v1→v2 and, 1.5 s later, →v3)',
        outcome:
          `v2 deploy ${results[0].success ? 'succeeded' : 'failed'} in ${results[0].seconds.toFixed(1)} s (running then: ${results[0].runningAtReturn.map(tag).join(',')}), ` +
          `v3 deploy ${results[1].success ? 'succeeded' : 'failed'} in ${results[1].seconds.toFixed(1)} s (running then: ${results[1].runningAtReturn.map(tag).join(',')}); ` +
          `final ${tag(finalImage)}, update ${svc!.updateState}`,
        load: summarizeLoad(report),
        notes: out
          .split('\n')
          .filter((l) => l.startsWith('[error]') || l.startsWith('[warn]') || /sequence|up to date/i.test(l))
          .slice(0, 6),
      },
      out,
    );
    expect(out).not.toMatch(/out of sequence/i);
    // The last writer wins: the v3 deploy converges. The superseded v2 deploy may fail (superseded)
    // but must not report success unless v2 really ran everywhere when it returned.
    expect(finalImage).toBe(images.v3.ref);
    expect(results[1].success).toBe(true);
    expect(results[1].runningAtReturn).toEqual([images.v3.ref, images.v3.ref, images.v3.ref]);
    if (results[0].success) expect(results[0].runningAtReturn).toEqual([images.v2.ref, images.v2.ref, images.v2.ref]);
    expect(final).toHaveLength(3);
    expect(results.every((r) => r.seconds < 40 + 15)).toBe(true);
    expect(report.failed).toBe(0);
  });

  it('rotating a config and a secret under 100 req/s through the edge: new versions on all three nodes, 0 failed requests', async () => {
    await ensureRunning(images.v1);
    fs.mkdirSync(path.join(ws, 'conf'), { recursive: true });
    const withObjects = (greeting: string, token: string) => {
      fs.writeFileSync(path.join(ws, 'conf/greeting.txt'), greeting);
      process.env.NXLAB_ADMIN_TOKEN = token;
      return options(images.v1.ref, {
        configs: [{ source: 'greeting', file: 'conf/greeting.txt', target: '/config/greeting.txt' }],
        secrets: [{ source: 'admin_token', env: 'NXLAB_ADMIN_TOKEN' }],
      });
    };
    try {
      const first = await deploy(withObjects('greeting one', `lab-token-one-${process.pid}`));
      expect(first.success).toBe(true);
      const mark = log.mark();
      const { value: result, report, edge } = await underLoad(() => deploy(withObjects('greeting two', `lab-token-two-${process.pid}`)));
      const out = log.since(mark);
      record(
        {
          scenario: 'config + secret rotation',
          outcome: result.success ? 'rotated' : 'failed',
          seconds: result.seconds,
          load: summarizeLoad(report),
          edge,
        },
        out,
      );
      expect(result.success).toBe(true);
      expect(out).toMatch(/secret admin_token: content changed/);
      expect(out).toMatch(/config greeting: content changed/);
      expect(out).not.toContain('lab-token-');
      expect(report.failed).toBe(0);
      const spec = (await manager().getService(SERVICE).inspect()) as {
        Spec: { TaskTemplate: { ContainerSpec: { Secrets: { SecretName: string }[] } } };
      };
      const mounted = spec.Spec.TaskTemplate.ContainerSpec.Secrets.map((x) => x.SecretName);
      expect(mounted).toHaveLength(1);
      expect((await waitConverged(manager(), SERVICE, images.v1.ref, 3, 30_000)).length).toBe(3);
      // every node's task answers with the new greeting
      for (const node of state.nodes) {
        expect(await httpGet(`http://${node.address}:${state.edgeTarget}/greeting`)).toEqual({ status: 200, body: 'greeting two' });
      }
    } finally {
      delete process.env.NXLAB_ADMIN_TOKEN;
    }
  });

  it('an image index linux/amd64 + linux/arm64: the spec pins the index digest, Placement.Platforms has both, every amd64 node runs it and answers', async () => {
    await ensureRunning(images.v1);
    const built = await buildLabImage(state, ws, 'multi', { patch: renamePeople('PersonMulti_'), platforms: ['linux/amd64', 'linux/arm64'] });
    expect(built.success).toBe(true);
    const multi = (images.multi = built.image!);
    expect(multi.receipt.platforms?.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(multi.ref).toBe(`${multi.receipt.contentRef}@${multi.receipt.indexDigest}`);
    const mark = log.mark();
    // No "image" option: the deploy takes the receipt (and with it the index's platforms).
    const { image: _unused, ...fromReceipt } = options('');
    const { value: result, report, edge } = await underLoad(() => deploy(fromReceipt, multi));
    const out = log.since(mark);
    const spec = (await manager().getService(SERVICE).inspect()) as {
      Spec: { TaskTemplate: { ContainerSpec: { Image: string }; Placement?: { Platforms?: { Architecture: string; OS: string }[] } } };
    };
    record(
      {
        scenario: 'image index linux/amd64 + linux/arm64 on 3 amd64 nodes (v1→multi)',
        outcome: `${result.success ? 'updated' : 'FAILED'}; spec pins ${spec.Spec.TaskTemplate.ContainerSpec.Image === multi.ref ? 'the index digest' : spec.Spec.TaskTemplate.ContainerSpec.Image}; Placement.Platforms ${(spec.Spec.TaskTemplate.Placement?.Platforms ?? []).map((p) => `${p.OS}/${p.Architecture}`).join(', ')}`,
        seconds: result.seconds,
        load: summarizeLoad(report),
        edge,
      },
      out,
    );
    expect(result.success).toBe(true);
    expect(spec.Spec.TaskTemplate.ContainerSpec.Image).toBe(multi.ref);
    expect(spec.Spec.TaskTemplate.Placement?.Platforms).toEqual([
      { Architecture: 'amd64', OS: 'linux' },
      { Architecture: 'arm64', OS: 'linux' },
    ]);
    const tasks = await waitConverged(manager(), SERVICE, multi.ref, 3, 20_000);
    expect(new Set(tasks.map((t) => t.node))).toEqual(new Set(state.nodes.map((n) => n.name)));
    // Each node pulled the index and runs its own platform's image: the amd64 config (image id = config digest).
    const amd64 = multi.receipt.platforms!.find((p) => p.platform === 'linux/amd64')!;
    for (const node of state.nodes) {
      const img = (await dockerFor(node.dockerHost).getImage(multi.ref).inspect()) as { Id: string; Architecture: string };
      expect({ node: node.name, id: img.Id, arch: img.Architecture }).toEqual({ node: node.name, id: amd64.configDigest, arch: 'amd64' });
      expect((await httpGet(`http://${node.address}:${state.edgeTarget}/accounts/10000`)).body).toBe('{"id":"10000","name":"PersonMulti_0"}');
    }
    expect(report.failed).toBe(0);
  });

  it("an arm64-only index on the amd64 nodes: the deploy fails fast naming the nodes' platform and the fix, the previous spec is put back, 0 failed requests", async () => {
    const old = images.multi ?? images.v1;
    const oldBody = images.multi ? 'PersonMulti_0' : 'Person_0';
    await ensureRunning(old);
    const built = await buildLabImage(state, ws, 'arm64only', { patch: renamePeople('PersonArm_'), platforms: ['linux/arm64'] });
    expect(built.success).toBe(true);
    const arm = built.image!;
    const mark = log.mark();
    const { image: _unused, ...fromReceipt } = options('');
    const { value: result, report, edge } = await underLoad(() => deploy(fromReceipt, arm));
    const out = log.since(mark);
    const after = await serviceView(manager(), SERVICE);
    const errors = errorLines(out);
    record(
      {
        scenario: 'arm64-only image index on 3 amd64 nodes',
        outcome: `${result.success ? 'REPORTED SUCCESS' : 'failed'} in ${result.seconds.toFixed(1)} s; service ${after?.updateState}, spec image ${after?.image === old.ref ? `${old.name} (old)` : after?.image}`,
        seconds: result.seconds,
        load: summarizeLoad(report),
        edge,
        notes: out
          .split('\n')
          .filter((l) => l.startsWith('[error]') || l.startsWith('[warn]'))
          .slice(0, 6),
      },
      out,
    );
    expect(result.success).toBe(false);
    expect(errors).toMatch(/unsupported platform on 3 nodes/);
    expect(errors).toMatch(/index has only linux\/arm64/);
    for (const node of state.nodes) expect(errors).toContain(`${node.name} (${node.address})`);
    expect(errors).toMatch(/are linux\/amd64/);
    expect(errors).toMatch(/Build the image for linux\/amd64 too.*platforms/);
    expect(errors).toMatch(/rolled back/);
    expect(after!.image).toBe(old.ref);
    await waitConverged(manager(), SERVICE, old.ref, 3, 20_000);
    // Fails fast: no waiting for the deadline (nothing would ever schedule).
    expect(result.seconds).toBeLessThan(DEPLOY_TIMEOUT_S / 2);
    expect(report.failed).toBe(0);
    for (const node of state.nodes) {
      expect((await httpGet(`http://${node.address}:${state.edgeTarget}/accounts/10000`)).body).toContain(oldBody);
    }
  });
});
