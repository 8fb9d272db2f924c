#!/usr/bin/env node
// npm run bench: nx-swarm against the tutorial's copyall.sh, side by side, on this machine's engine.
//
//   node tools/bench/bench.mjs [--runs N] [--quick] [--lab] [--out docs/benchmarks.md]
//   node tools/bench/bench.mjs --deploy-only [--runs N]   (no-op and edit → deploy-done ratios only;
//                                                         its own section of the report)
//   node tools/bench/bench.mjs --lab-only [--runs N]      (edit → serving in the lab, the Engine builder
//                                                         and the OCI builder interleaved; its own section)
//
// Measures: cold deploy, no-op redeploy, edit-one-file redeploy (time until the new version
// answers), failed requests and the longest outage during a redeploy under a steady 100 req/s,
// image size, and accountservice under 1000 req/s for 30 s (latency, CPU, memory). With --lab
// (npm run bench passes it) also edit → serving in the three-node lab (tools/swarm-lab, brought up
// and down again when it was not up). Traffic goes to 127.0.0.1 and the lab's own addresses only. It edits accountservice/internal/dbclient/dbclient.go to make a
// new version and always restores it. Writes tmp/bench/results.json and the Markdown report.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
process.chdir(ROOT);
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
const LAB = args.includes('--lab');
const RUNS = Number(flag('--runs', QUICK ? 3 : 5));
const OUT = flag('--out', 'docs/benchmarks.md');
const PORT = 6767;
const URL_ = `http://127.0.0.1:${PORT}/accounts/10000`;
const SERVICE = 'accountservice';
const NX = path.join(ROOT, 'node_modules/.bin/nx');
const DEPLOY_CONFIG = flag('--configuration', 'host');
const EDIT_FILE = 'accountservice/internal/dbclient/dbclient.go';
const LOADGEN = path.join(ROOT, 'dist/tools/loadgen/loadgen');
// Nx decides about its daemon as it does for a user here (off inside containers and CI, on elsewhere);
// the report shows which it was and measures the no-op both ways.
const env = { ...process.env, GOTOOLCHAIN: 'local', FORCE_COLOR: '0' };

const log = (...m) => console.log('bench:', ...m);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}
function timed(cmd, argv, opts = {}) {
  const t0 = performance.now();
  const r = sh(cmd, argv, opts);
  return { seconds: (performance.now() - t0) / 1000, out: `${r.stdout}${r.stderr}` };
}
const docker = (...a) => sh('docker', a, { allowFail: true });

async function get(url, timeoutMs = 1000) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
async function waitForBody(predicate, deadlineMs, startedAt = performance.now(), url = URL_) {
  while (performance.now() - startedAt < deadlineMs) {
    const r = await get(url, 500);
    if (r.status === 200 && predicate(r.body)) return (performance.now() - startedAt) / 1000;
    await sleep(50);
  }
  throw new Error(`no matching answer from ${url} within ${deadlineMs} ms`);
}

function removeService() {
  docker('service', 'rm', SERVICE);
  // Wait until the host port is free (the task's container is gone).
  for (let i = 0; i < 200; i++) {
    const ps = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`).stdout.trim();
    if (!ps) return;
    spawnSync('sleep', ['0.1']);
  }
}
function removeImages() {
  const ids = docker('images', '-q', 'someprefix/accountservice').stdout.trim().split('\n').filter(Boolean);
  if (ids.length) docker('rmi', '-f', ...new Set(ids));
}

// Edits the seeded names so the new version answers differently; restored at exit.
const original = fs.readFileSync(EDIT_FILE, 'utf8');
const restore = () => fs.writeFileSync(EDIT_FILE, original);
process.on('exit', restore);
process.on('SIGINT', () => process.exit(130));
let editCounter = 0;
function editOneFile() {
  editCounter++;
  const name = `Person${editCounter}_`;
  const next = original.replace(/"Person_/g, `"${name}`);
  if (next === original) throw new Error(`cannot find "Person_ in ${EDIT_FILE}`);
  fs.writeFileSync(EDIT_FILE, next);
  return name;
}

function startLoad(seconds, rate, extra = []) {
  const child = spawn(LOADGEN, ['-url', URL_, '-rate', String(rate), '-duration', `${seconds}s`, ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen exited ${code}`)))),
  );
}

function deployCmd() {
  return [NX, ['run', `${SERVICE}:deploy`, ...(DEPLOY_CONFIG ? [`--configuration=${DEPLOY_CONFIG}`] : []), '--outputStyle=stream']];
}

function nxDaemonDefault() {
  if (env.NX_DAEMON) return env.NX_DAEMON === 'true' ? 'on (NX_DAEMON=true)' : 'off (NX_DAEMON=false)';
  const inContainer = fs.existsSync('/.dockerenv') || /docker|kubepods|containerd/.test(readOr('/proc/1/cgroup'));
  if (env.CI || inContainer) return `off (Nx's default ${env.CI ? 'in CI' : 'inside a container'})`;
  return "on (Nx's default)";
}
function readOr(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Runs a command, keeping every output line with its time (seconds since t0). */
function spawnTimed(cmd, argv, t0, extraEnv = {}) {
  const child = spawn(cmd, argv, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let buf = '';
  const onData = (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push({ t: (performance.now() - t0) / 1000, text: buf.slice(0, i) });
      buf = buf.slice(i + 1);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const done = new Promise((r) => child.on('exit', (code) => r({ code, seconds: (performance.now() - t0) / 1000, lines })));
  return done;
}

/** Phases of one edit → serving run, from the time-stamped deploy output (seconds since the edit). */
function phasesOf(lines, servingAt) {
  const at = (re) => lines.find((l) => re.test(l.text))?.t;
  const build = at(/> nx run accountservice:build/);
  const image = at(/> nx run accountservice:image/);
  const deploy = at(/> nx run accountservice:deploy/);
  const update = at(/Updating accountservice/);
  const oldDown = at(/accountservice\.1 \S+ \S+: shutdown/);
  const d = (a, b) => (a !== undefined && b !== undefined ? b - a : NaN);
  return {
    nxStart: d(0, build),
    build: d(build, image),
    image: d(image, deploy),
    deploy: d(deploy, update),
    swarmStop: d(update, oldDown),
    swarmStart: d(oldDown, servingAt),
    serving: servingAt,
  };
}

/** Waits until the service's last update (and its monitor period) has completed. */
async function updateSettled() {
  for (let i = 0; i < 600; i++) {
    const state = docker('service', 'inspect', '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', SERVICE).stdout.trim();
    if (!/updating|rollback_started/.test(state)) return;
    await sleep(100);
  }
}

/** Swarm alone: `docker service update --force` → a new task answers (no Nx, no build). */
async function swarmFloor() {
  await updateSettled();
  const t0 = performance.now();
  docker('service', 'update', '--detach', '--force', SERVICE);
  let downAt;
  while (performance.now() - t0 < 60000) {
    const r = await get(URL_, 300);
    const t = (performance.now() - t0) / 1000;
    if (r.status !== 200 && downAt === undefined) downAt = t;
    if (r.status === 200 && downAt !== undefined) return { down: downAt, serving: t };
    await sleep(20);
  }
  throw new Error('service update --force: no new task answered within 60 s');
}

/**
 * Edit → serving in the three-node lab (tools/swarm-lab) through its nginx edge: the accountservice
 * `lab` configurations push to the lab registry and update 2 replicas on 3 nodes start-first, so the
 * new task starts on the free node while the old ones still serve.
 */
async function labEditServing() {
  return withLab(async (lab) => {
    const serving = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const name = editOneFile();
      const t0 = performance.now();
      const done = spawnTimed(NX, lab.deployArgv, t0, { DOCKER_HOST: lab.dockerHost });
      serving.push(await waitForBody((b) => b.includes(name), 120000, t0, lab.edge));
      const d = await done;
      if (d.code !== 0) throw new Error(`lab edit redeploy failed:\n${d.lines.map((l) => l.text).join('\n')}`);
      log(`lab: edit one file → new version answering through the edge ${i + 1}: ${serving.at(-1).toFixed(2)} s`);
    }
    return { editServingSeconds: { median: median(serving), runs: serving }, replicas: 2, nodes: 3 };
  });
}

/**
 * Runs fn with the lab up (brought up, and down again afterwards, when it was not) and accountservice
 * deployed there and answering through the edge; removes the service and restores the edited file at
 * the end.
 */
async function withLab(fn) {
  const wasUp = sh('bash', ['tools/swarm-lab/lab.sh', 'status'], { allowFail: true }).status === 0;
  log(`multi-node lab: ${wasUp ? 'already up' : 'lab.sh up'}`);
  if (!wasUp) sh('bash', ['tools/swarm-lab/lab.sh', 'up']);
  const labEnv = {};
  for (const line of sh('bash', ['tools/swarm-lab/lab.sh', 'env']).stdout.split('\n')) {
    const m = /^export (\w+)=(\S+)/.exec(line);
    if (m) labEnv[m[1]] = m[2];
  }
  const edge = `${labEnv.LAB_EDGE_URL}/accounts/10000`;
  const inLab = { env: { ...env, DOCKER_HOST: labEnv.DOCKER_HOST } };
  const labDocker = (...a) => sh('docker', a, { ...inLab, allowFail: true });
  const deployArgv = ['run', `${SERVICE}:deploy`, '--configuration=lab', '--outputStyle=stream'];
  try {
    if (labDocker('network', 'inspect', 'my_network').status !== 0) {
      labDocker('network', 'create', '--driver', 'overlay', '--attachable', 'my_network');
    }
    labDocker('service', 'rm', SERVICE);
    sh(NX, deployArgv, inLab);
    await waitForBody((b) => b.includes('Person_0'), 60000, performance.now(), edge);
    return await fn({ edge, dockerHost: labEnv.DOCKER_HOST, deployArgv });
  } finally {
    restore();
    labDocker('service', 'rm', SERVICE);
    if (!wasUp) sh('bash', ['tools/swarm-lab/lab.sh', 'down'], { allowFail: true });
  }
}

/**
 * --lab-only: edit one .go file → new version answering through the lab's edge, with the image
 * target's builder set to "engine" and to "oci" in turn (accountservice/project.json, restored
 * afterwards), interleaved so both see the same machine. The builder that really ran is read from
 * the image receipt. Writes tmp/bench/lab-only.json.
 */
async function labOnly() {
  const PROJECT = 'accountservice/project.json';
  const original = fs.readFileSync(PROJECT, 'utf8');
  process.on('exit', () => fs.writeFileSync(PROJECT, original));
  const setBuilder = (builder) => {
    const p = JSON.parse(original);
    p.targets.image.options.builder = builder;
    fs.writeFileSync(PROJECT, JSON.stringify(p, null, 2) + '\n');
    sh(NX, ['show', 'projects'], { allowFail: true }); // the graph recomputation lands here, not in the timing
  };
  const out = { date: new Date().toISOString(), runs: RUNS, replicas: 2, nodes: 3, builders: {} };
  try {
    await withLab(async (lab) => {
      for (let i = 0; i < RUNS; i++) {
        for (const builder of ['engine', 'oci']) {
          setBuilder(builder);
          const name = editOneFile();
          const t0 = performance.now();
          const done = spawnTimed(NX, lab.deployArgv, t0, { DOCKER_HOST: lab.dockerHost });
          const serving = await waitForBody((b) => b.includes(name), 120000, t0, lab.edge);
          const d = await done;
          if (d.code !== 0) throw new Error(`lab edit redeploy (${builder}) failed:\n${d.lines.map((l) => l.text).join('\n')}`);
          const receipt = JSON.parse(fs.readFileSync('dist/accountservice/image.json', 'utf8'));
          const ran = receipt.builder ?? 'engine';
          if (ran !== builder) throw new Error(`asked for the ${builder} builder, the receipt says ${ran}`);
          const at = (re) => d.lines.find((l) => re.test(l.text))?.t;
          const run = {
            serving,
            done: d.seconds,
            buildTask: at(/> nx run accountservice:build/),
            imageTask: at(/> nx run accountservice:image/),
            deployTask: at(/> nx run accountservice:deploy/),
            updateWritten: at(/Updating accountservice/),
          };
          (out.builders[builder] ??= []).push(run);
          log(
            `lab, ${builder} builder: edit → serving ${serving.toFixed(2)} s (deploy task at ${run.deployTask?.toFixed(2)} s), done ${d.seconds.toFixed(2)} s`,
          );
          await sleep(3000); // let the update settle before the next edit
        }
      }
    });
  } finally {
    fs.writeFileSync(PROJECT, original);
  }
  fs.mkdirSync('tmp/bench', { recursive: true });
  fs.writeFileSync('tmp/bench/lab-only.json', JSON.stringify(out, null, 2));
}

/** Puts the --lab-only section into the report (replacing an earlier one). */
function writeLabOnlySection() {
  const d = JSON.parse(fs.readFileSync('tmp/bench/lab-only.json', 'utf8'));
  const f = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const row = (b) => {
    const runs = d.builders[b] ?? [];
    const m = (k) => f(median(runs.map((r) => r[k]).filter((x) => typeof x === 'number')));
    return `| ${b === 'oci' ? 'OCI builder (push over the distribution API)' : "Engine builder (build and push through the manager's engine)"} | ${m('serving')} s (runs: ${runs.map((r) => f(r.serving)).join(', ')}) | ${m('buildTask')} s | ${m('imageTask')} s | ${m('deployTask')} s | ${m('updateWritten')} s | ${m('done')} s |`;
  };
  const section = `<!-- lab-only:start -->
## Edit → new version answering in the lab, by builder (\`node tools/bench/bench.mjs --lab-only --runs ${d.runs}\`, ${d.date})

Edit one .go file, then \`nx run accountservice:deploy --configuration=lab\` (push to the lab registry,
${d.replicas} replicas on ${d.nodes} nodes, start-first), timed until the new version answers through the
lab's edge. The image target's \`builder\` is set to each in turn (interleaved runs; the receipt confirms
which ran).

| image builder | edit → new version answering (median) | build task starts | image task starts | deploy task starts | update written | command done |
| --- | --- | --- | --- | --- | --- | --- |
${row('engine')}
${row('oci')}

Seconds since the edit, medians. The build task starts once Nx has recomputed the project graph
for the edit (in the daemon, when it runs, with every plugin); the command is done when the deployer
has verified the update (2 replicas, one at a time, each monitored).
<!-- lab-only:end -->
`;
  const text = fs.readFileSync(OUT, 'utf8');
  const start = text.indexOf('<!-- lab-only:start -->');
  const end = text.indexOf('<!-- lab-only:end -->');
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + '<!-- lab-only:end -->\n'.length)
      : text.trimEnd() + '\n\n' + section;
  fs.writeFileSync(OUT, next);
  log(`wrote the lab-only section of ${OUT}`);
}

function containerId() {
  return docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`).stdout.trim().split('\n')[0];
}

async function statsDuring(seconds) {
  // docker stats --no-stream in a loop (about one sample every 1-2 s).
  const id = containerId();
  const samples = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const r = docker('stats', '--no-stream', '--format', '{{.CPUPerc}};{{.MemUsage}}', id);
    const [cpu, mem] = r.stdout.trim().split(';');
    if (cpu && mem) samples.push({ cpu: parseFloat(cpu), memMiB: parseMem(mem.split('/')[0].trim()) });
  }
  return samples;
}
function parseMem(s) {
  const m = /([\d.]+)\s*([KMG]i?B|B)/.exec(s);
  if (!m) return NaN;
  const f = { B: 1 / 1048576, KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 }[m[2]];
  return parseFloat(m[1]) * f;
}

/**
 * --deploy-only: the two swarm-deploy figures of issue 15, in one run, without the load tests:
 * no-op `nx run accountservice:deploy` vs a cached `nx run accountservice:build`, and edit one .go
 * file → deploy command done (verified) vs copyall.sh (edit → new version answering), with the
 * deploy's own phases (update written, new task running, converged). Writes tmp/bench/deploy-only.json.
 */
async function deployOnly() {
  const out = { date: new Date().toISOString(), runs: RUNS, configuration: DEPLOY_CONFIG };
  const [cmd, a] = deployCmd();
  // copyall.sh: edit → new version answering (its service create returns after 5 s running).
  removeService();
  sh('bash', ['tools/bench/copyall.sh']);
  await waitForBody((b) => b.includes('Person_0'), 60000);
  const copy = [];
  for (let i = 0; i < Math.min(RUNS, 2); i++) {
    const name = editOneFile();
    const t0 = performance.now();
    sh('bash', ['tools/bench/copyall.sh']);
    copy.push(await waitForBody((b) => b.includes(name), 60000, t0));
    log(`copyall.sh edit → serving ${i + 1}: ${copy.at(-1).toFixed(2)} s`);
  }
  restore();
  removeService();
  out.copyallEditServingSeconds = { median: median(copy), runs: copy };
  timed(cmd, a); // create
  await waitForBody((b) => b.includes('Person_0'), 60000);
  const noop = [];
  const build = [];
  timed(NX, ['run', `${SERVICE}:build`, '--outputStyle=stream']); // warm the cache
  for (let i = 0; i < RUNS; i++) {
    noop.push(timed(cmd, a).seconds);
    build.push(timed(NX, ['run', `${SERVICE}:build`, '--outputStyle=stream']).seconds);
    log(`no-op deploy ${noop.at(-1).toFixed(2)} s, cached build ${build.at(-1).toFixed(2)} s`);
  }
  out.noopDeploySeconds = { median: median(noop), runs: noop };
  out.cachedBuildSeconds = { median: median(build), runs: build };
  out.noopRatio = median(noop) / median(build);
  const edits = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const name = editOneFile();
    const t0 = performance.now();
    const done = spawnTimed(cmd, a, t0);
    const serving = await waitForBody((b) => b.includes(name), 120000, t0);
    const d = await done;
    if (d.code !== 0) throw new Error(`edit redeploy failed:\n${d.lines.map((l) => l.text).join('\n')}`);
    const at = (re) => d.lines.find((l) => re.test(l.text))?.t;
    const run = {
      serving,
      done: d.seconds,
      deployTask: at(/> nx run accountservice:deploy/),
      updateWritten: at(/Updating accountservice/),
      newTaskRunning: d.lines.filter((l) => /accountservice\.1 \S+ \S+: running/.test(l.text)).at(-1)?.t,
      converged: at(/Updated accountservice/),
    };
    edits.push(run);
    log(`edit → serving ${serving.toFixed(2)} s, deploy done ${d.seconds.toFixed(2)} s`, run);
    await updateSettled();
  }
  restore();
  timed(cmd, a);
  await updateSettled();
  // Swarm's own floor for the same service and update config: `docker service update --force` →
  // the new task answers (no Nx, no build), against the deploy's update written → new version answering.
  const floor = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    floor.push((await swarmFloor()).serving);
    log(`docker service update --force → a new task answers: ${floor.at(-1).toFixed(2)} s`);
    await updateSettled();
  }
  out.swarmFloorSeconds = { median: median(floor), runs: floor };
  out.edit = edits;
  out.editDoneSeconds = median(edits.map((e) => e.done));
  out.editServingSeconds = median(edits.map((e) => e.serving));
  out.rolloutServingSeconds = median(edits.map((e) => e.serving - e.updateWritten));
  out.editRatioVsCopyall = out.editDoneSeconds / out.copyallEditServingSeconds.median;
  fs.mkdirSync('tmp/bench', { recursive: true });
  fs.writeFileSync('tmp/bench/deploy-only.json', JSON.stringify(out, null, 2));
  log(
    `no-op deploy ${median(noop).toFixed(2)} s vs cached build ${median(build).toFixed(2)} s: ${out.noopRatio.toFixed(2)}x (goal <= 1.25x); ` +
      `update → answering ${out.rolloutServingSeconds.toFixed(2)} s vs swarm's floor ${out.swarmFloorSeconds.median.toFixed(2)} s (goal <= floor + 1.5 s); ` +
      `edit → deploy done ${out.editDoneSeconds.toFixed(2)} s vs copyall.sh ${out.copyallEditServingSeconds.median.toFixed(2)} s: ${out.editRatioVsCopyall.toFixed(2)}x (goal <= 0.6x)`,
  );
}

/** Puts the --deploy-only section into the report (replacing an earlier one). */
function writeDeployOnlySection() {
  const text = fs.readFileSync(OUT, 'utf8');
  const i = text.indexOf('\n## swarm-deploy alone');
  // Up to the next section (the OCI and remote benchmarks write their own), or the end.
  const next = i >= 0 ? text.slice(i + 1).search(/\n(## |<!-- )/) : -1;
  const rest = i >= 0 && next >= 0 ? text.slice(i + 1 + next) : '';
  const section = deployOnlySection().replace(/\n+$/, '\n');
  fs.writeFileSync(OUT, (i >= 0 ? text.slice(0, i) : text.trimEnd() + '\n') + section + rest);
  log(`wrote the swarm-deploy section of ${OUT}`);
}

async function main() {
  if (args.includes('--deploy-only') && args.includes('--report-only')) return writeDeployOnlySection();
  if (args.includes('--deploy-only')) return deployOnly().then(writeDeployOnlySection);
  if (args.includes('--lab-only') && args.includes('--report-only')) return writeLabOnlySection();
  if (args.includes('--lab-only')) return labOnly().then(writeLabOnlySection);
  if (args.includes('--report-only')) {
    // Re-render the Markdown from the last run's figures (after editing the template).
    const results = JSON.parse(fs.readFileSync('tmp/bench/results.json', 'utf8'));
    fs.writeFileSync(OUT, report(results));
    log(`wrote ${OUT} from tmp/bench/results.json`);
    return;
  }
  const machine = {
    date: new Date().toISOString(),
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: os.release(),
    docker: docker('version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})').stdout.trim(),
    go: sh('go', ['version']).stdout.trim(),
    node: process.version,
    nx: sh(NX, ['--version']).stdout.match(/Local: (\S+)/)?.[1],
    nxDaemon: nxDaemonDefault(),
  };
  log('machine', machine);
  sh(NX, ['run', 'loadgen:build', '--outputStyle=stream']);
  const results = { machine, runs: RUNS, copyall: {}, nxswarm: {} };

  // ---------------------------------------------------------------- baseline: copyall.sh
  log('copyall.sh: cold (no image, no service)');
  removeService();
  removeImages();
  const t = timed('bash', ['tools/bench/copyall.sh']);
  results.copyall.coldSeconds = t.seconds + (await waitForBody((b) => b.includes('Person_0'), 60000));
  const copyRuns = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    timed('bash', ['tools/bench/copyall.sh']);
    await waitForBody((b) => b.includes('Person_0'), 60000);
    copyRuns.push((performance.now() - t0) / 1000);
    log(`copyall.sh unchanged redeploy ${i + 1}/${RUNS}: ${copyRuns.at(-1).toFixed(2)} s`);
  }
  results.copyall.noopSeconds = { median: median(copyRuns), runs: copyRuns };
  {
    const name = editOneFile();
    const t0 = performance.now();
    timed('bash', ['tools/bench/copyall.sh']);
    results.copyall.editServingSeconds = (performance.now() - t0) / 1000 + (await waitForBody((b) => b.includes(name), 60000));
    restore();
  }
  log('copyall.sh under 100 req/s');
  {
    const load = startLoad(25, 100);
    await sleep(5000);
    timed('bash', ['tools/bench/copyall.sh']);
    results.copyall.underLoad = await load;
  }
  const copyImage = docker('image', 'inspect', '--format', '{{.Size}}', 'someprefix/accountservice:latest').stdout.trim();
  results.copyall.imageBytes = Number(copyImage);
  removeService();

  // ---------------------------------------------------------------- nx-swarm
  log('nx-swarm: cold (empty Nx cache, no image, no service)');
  sh(NX, ['reset'], { allowFail: true });
  removeImages();
  fs.rmSync('dist/accountservice', { recursive: true, force: true });
  {
    const [cmd, a] = deployCmd();
    const t0 = performance.now();
    timed(cmd, a);
    results.nxswarm.coldSeconds = (performance.now() - t0) / 1000 + (await waitForBody((b) => b.includes('Person_0'), 60000));
  }
  const noop = [];
  let noopOut = '';
  for (let i = 0; i < RUNS; i++) {
    const [cmd, a] = deployCmd();
    const r = timed(cmd, a);
    noop.push(r.seconds);
    noopOut = r.out;
    log(`nx-swarm no-op redeploy ${i + 1}/${RUNS}: ${r.seconds.toFixed(2)} s`);
  }
  results.nxswarm.noopSeconds = { median: median(noop), runs: noop };
  results.nxswarm.noopOutputTail = noopOut.trim().split('\n').slice(-12).join('\n');
  const variants = [
    ['noopDaemonOtherSeconds', 'Nx daemon the other way', { NX_DAEMON: nxDaemonDefault().startsWith('on') ? 'false' : 'true' }],
    ['noopFromSourceSeconds', 'plugin from TypeScript source, isolated plugin workers', { NX_SWARM_FROM_SOURCE: 'true', NX_ISOLATE_PLUGINS: 'true' }],
  ];
  for (const [key, what, extra] of variants) {
    const xs = [];
    const [cmd, a] = deployCmd();
    timed(cmd, a, { env: { ...env, ...extra } }); // warm-up, not counted (starts the daemon, say)
    for (let i = 0; i < Math.min(RUNS, 3); i++) xs.push(timed(cmd, a, { env: { ...env, ...extra } }).seconds);
    results.nxswarm[key] = { median: median(xs), runs: xs, env: extra };
    log(`nx-swarm no-op redeploy, ${what}: ${median(xs).toFixed(2)} s`);
  }
  {
    const xs = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) xs.push(timed('npm', ['run', '--silent', 'deploy']).seconds);
    results.nxswarm.noopNpmRunDeploySeconds = { median: median(xs), runs: xs };
    log(`npm run deploy (npm + bootstrap + nx), nothing changed: ${median(xs).toFixed(2)} s`);
  }
  const edits = [];
  const editDeploy = [];
  const phases = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const name = editOneFile();
    const [cmd, a] = deployCmd();
    const t0 = performance.now();
    const done = spawnTimed(cmd, a, t0);
    const serving = await waitForBody((b) => b.includes(name), 120000, t0);
    const d = await done;
    if (d.code !== 0) throw new Error(`edit redeploy failed:\n${d.lines.map((l) => l.text).join('\n')}`);
    edits.push(serving);
    editDeploy.push(d.seconds);
    phases.push(phasesOf(d.lines, serving));
    log(
      `nx-swarm edit one file → new version serving ${i + 1}: ${serving.toFixed(2)} s (deploy verified after ${d.seconds.toFixed(2)} s)`,
      phases.at(-1),
    );
  }
  restore();
  results.nxswarm.editServingSeconds = { median: median(edits), runs: edits };
  results.nxswarm.editDeployDoneSeconds = { median: median(editDeploy), runs: editDeploy };
  results.nxswarm.editPhases = Object.fromEntries(Object.keys(phases[0]).map((k) => [k, median(phases.map((p) => p[k]))]));
  {
    const [cmd, a] = deployCmd();
    timed(cmd, a); // back to the original version
    const floors = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      await waitForBody(() => true, 30000);
      floors.push(await swarmFloor());
      log(`swarm alone, service update --force → new task answering: ${floors.at(-1).serving.toFixed(2)} s`);
    }
    await updateSettled();
    results.swarmFloor = {
      down: median(floors.map((x) => x.down)),
      serving: median(floors.map((x) => x.serving)),
      runs: floors.map((x) => x.serving),
    };
  }
  log('nx-swarm under 100 req/s (redeploy of a changed version)');
  {
    const [cmd, a] = deployCmd();
    timed(cmd, a); // back to the original version
    const name = editOneFile();
    const load = startLoad(25, 100);
    await sleep(5000);
    timed(cmd, a);
    results.nxswarm.underLoad = await load;
    await waitForBody((b) => b.includes(name), 10000);
    restore();
    timed(cmd, a);
  }
  const receipt = JSON.parse(fs.readFileSync('dist/accountservice/image.json', 'utf8'));
  results.nxswarm.imageBytes = receipt.size;
  results.binaryBytes = fs.statSync('dist/accountservice/accountservice-linux-amd64').size;

  log('accountservice at 1000 req/s for 30 s');
  {
    await sleep(3000);
    const idle = await statsDuring(3);
    results.idleMemMiB = median(idle.map((s) => s.memMiB));
    const load = startLoad(QUICK ? 10 : 30, 1000);
    await sleep(1000);
    const samples = await statsDuring(QUICK ? 8 : 27);
    results.at1000 = await load;
    results.at1000.cpuPercentMedian = median(samples.map((s) => s.cpu));
    results.at1000.cpuPercentMax = Math.max(...samples.map((s) => s.cpu));
    results.at1000.memMiBMax = Math.max(...samples.map((s) => s.memMiB));
    results.at1000.samples = samples.length;
  }
  log('the same with autocannon (the issue names autocannon or wrk)');
  {
    const seconds = QUICK ? 10 : 30;
    const r = sh(path.join(ROOT, 'node_modules/.bin/autocannon'), ['-R', '1000', '-c', '10', '-d', String(seconds), '--json', URL_]);
    const ac = JSON.parse(r.stdout);
    results.autocannon1000 = {
      durationSeconds: seconds,
      sent: ac.requests.total,
      failed: ac.errors + ac.timeouts + ac.non2xx,
      latencyMeanMs: ac.latency.mean,
      latencyP99Ms: ac.latency.p99,
      latencyMaxMs: ac.latency.max,
    };
  }

  if (LAB) results.lab = await labEditServing();

  fs.mkdirSync('tmp/bench', { recursive: true });
  fs.writeFileSync('tmp/bench/results.json', JSON.stringify(results, null, 2));
  fs.writeFileSync(OUT, report(results));
  log(`wrote ${OUT} and tmp/bench/results.json`);
}

function report(r) {
  const f = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const ok = (cond) => (cond ? 'met' : '**missed**');
  const plain = (cond) => (cond ? 'met' : 'missed');
  const noop = r.nxswarm.noopSeconds.median;
  const copy = r.copyall.noopSeconds.median;
  const lc = r.copyall.underLoad;
  const ln = r.nxswarm.underLoad;
  const a = r.at1000;
  const ac = r.autocannon1000;
  const runs = (x) => x.runs.map((v) => f(v)).join(', ');
  const daemon = r.machine.nxDaemon;
  const other = r.nxswarm.noopDaemonOtherSeconds;
  const src = r.nxswarm.noopFromSourceSeconds;
  const npmRun = r.nxswarm.noopNpmRunDeploySeconds;
  const ph = r.nxswarm.editPhases;
  const floor = r.swarmFloor;
  return `# Benchmarks

Generated by \`npm run bench\` (\`node tools/bench/bench.mjs --runs ${r.runs}${r.lab ? ' --lab' : ''}\`, as root) on ${r.machine.date}.
Baseline: the tutorial's workflow in [\`tools/bench/copyall.sh\`](../tools/bench/copyall.sh) (go build,
docker build, service rm, service create), adapted only where this machine forces it (\`FROM scratch\`,
host-mode port because the kernel has no IPVS). Both run on the same engine in the same run; the Go
build cache is warm for both. Load: [\`tools/loadgen\`](../tools/loadgen/README.md), open loop, to 127.0.0.1.

| machine | |
| --- | --- |
| CPU | ${r.machine.cpus} |
| memory | ${r.machine.memory} |
| kernel | ${r.machine.kernel} |
| Docker Engine | ${r.machine.docker} |
| Go / Node / Nx | ${r.machine.go} / ${r.machine.node} / ${r.machine.nx} |
| Nx daemon | ${daemon} |

## Deploy times (seconds; median of ${r.runs} where repeated, 3 for the variants)

| figure | copyall.sh | nx-swarm | target | |
| --- | --- | --- | --- | --- |
| cold deploy (empty Nx cache, no image, no service) → answering | ${f(r.copyall.coldSeconds)} | ${f(r.nxswarm.coldSeconds)} | | |
| redeploy, nothing changed: \`nx run accountservice:deploy\` (daemon ${daemon.split(' ')[0]}) | ${f(copy)} (runs: ${runs(r.copyall.noopSeconds)}) | ${f(noop)} (runs: ${runs(r.nxswarm.noopSeconds)}) | ≤ 2 s and ≥ 5× faster | ${ok(noop <= 2 && copy / noop >= 5)} (${f(copy / noop, 1)}×) |
| the same with the Nx daemon ${daemon.startsWith('off') ? 'on' : 'off'} | | ${f(other.median)} (runs: ${runs(other)}) | | |
| the same with the plugin run from TypeScript source and isolated plugin workers (Nx's defaults for a local plugin) | | ${f(src.median)} (runs: ${runs(src)}) | | |
| \`npm run deploy\`, nothing changed (npm + bootstrap checks + the above) | | ${f(npmRun.median)} (runs: ${runs(npmRun)}) | | |
| edit one .go file → new version answering | ${f(r.copyall.editServingSeconds)} | ${f(r.nxswarm.editServingSeconds.median)} (runs: ${runs(r.nxswarm.editServingSeconds)}) | ≤ 5 s | ${ok(r.nxswarm.editServingSeconds.median <= 5)} |
| edit one .go file → deploy command verified and done | | ${f(r.nxswarm.editDeployDoneSeconds.median)} | | |
${r.lab ? `| edit one .go file → new version answering through the edge of the three-node lab (\`--configuration=lab\`: push to the lab registry, ${r.lab.replicas} replicas on ${r.lab.nodes} nodes, start-first) | | ${f(r.lab.editServingSeconds.median)} (runs: ${runs(r.lab.editServingSeconds)}) | ≤ 5 s | ${ok(r.lab.editServingSeconds.median <= 5)} |\n` : ''}| swarm alone: \`docker service update --force\` → new task answering (no Nx, no build) | | ${f(floor.serving)} (runs: ${floor.runs.map((x) => f(x)).join(', ')}) | | |

Cold deploys are not like for like: nx-swarm builds two binaries (linux/amd64 and linux/arm64, as
the build target is configured) and its deploy returns only once the task is healthy; copyall.sh
builds one binary and \`docker service create\` returns once the task has been running for 5 s.
copyall.sh's unchanged redeploy includes the same service create wait.

## Where the time goes

Edit one .go file → new version answering, split by the time-stamped output of the deploy command
(median of the runs above):

| phase | seconds |
| --- | --- |
| \`nx run\` start, project graph, task hashing | ${f(ph.nxStart)} |
| build: task process + Go build of two targets (linux/amd64, linux/arm64) | ${f(ph.build)} |
| image: task process + classic-builder build of the FROM scratch image | ${f(ph.image)} |
| deploy: task process + spec diff + \`service update\` | ${f(ph.deploy)} |
| swarm: update accepted → old task shut down (moby waits 2 s after taking a task on an overlay network out of service discovery, then sends SIGTERM) | ${f(ph.swarmStop)} |
| swarm: old task gone → new task answering (the host port is free, the new task is scheduled, attached to my_network, started) | ${f(ph.swarmStart)} |
| **new version answering** | **${f(ph.serving)}** |

- **No-op ≤ 2 s: ${plain(noop <= 2)}** (${f(noop)} s for \`nx run accountservice:deploy\`;
  \`npm run deploy\` adds npm and bootstrap's checks: ${f(npmRun.median)} s). An unchanged deploy
  runs two Nx task processes (\`image\` and \`deploy\`; \`build\` is a cache hit) whose executors
  take 40–200 ms each (printed as "in N ms"); the rest is Node and Nx starting. Two workspace
  settings took it from ${f(src.median)} s to ${f(noop)} s: the workspace runs the compiled plugin
  from \`node_modules/nx-swarm\`, as users get it from npm (\`tools/plugin/install.mjs\`, run by
  bootstrap; from TypeScript source every task process also loads \`typescript\`,
  \`@swc-node/register\` and an ESM loader thread, about 0.45 s), and \`.env\` sets
  \`NX_ISOLATE_PLUGINS=false\` (no plugin worker processes for each project-graph computation,
  about 0.7 s). Neither \`image\` nor \`deploy\` is served from Nx's cache: their product lives in
  the engine, and a cache key computed before the run cannot see an image or service removed since.
- **Edit → serving ≤ 5 s: ${plain(r.nxswarm.editServingSeconds.median <= 5)}** (${f(r.nxswarm.editServingSeconds.median)} s).
  Swarm by itself takes ${f(floor.serving)} s here from \`docker service update\` to a new task
  answering, ${f(floor.down)} s of it before the old task stops, with nothing built. On one node
  with a host-mode port the update must be stop-first, and the service is attached to
  \`my_network\` (an overlay), which is what makes moby wait a fixed 2 s before stopping the old
  task. That leaves ${f(5 - floor.serving)} s for Nx, the Go build and the image build, which take
  ${f(ph.nxStart + ph.build + ph.image + ph.deploy)} s here (the build task alone ${f(ph.build)} s).
  The target cannot be met on one node. ${
    r.lab
      ? `In the three-node lab (\`npm run bench\` runs it too, see
  [reliability.md](reliability.md)) start-first removes the stop-first gap: the new task starts on
  the free node while the old ones serve, and the new version answers through the edge after
  ${f(r.lab.editServingSeconds.median)} s. What remains is the build, the push to the lab registry and the edge,
  which skips a node for 2 s after it refused a connection.`
      : 'Several nodes with start-first (the lab, see [reliability.md](reliability.md)) remove the stop-first gap, but not the build.'
  }

## Redeploy under a steady 100 req/s (one node, host-mode port)

| | copyall.sh (rm + create) | nx-swarm (rolling update) |
| --- | --- | --- |
| requests sent | ${lc.sent} | ${ln.sent} |
| failed | ${lc.failed} (${
    Object.entries(lc.errors)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || 'none'
  }) | ${ln.failed} (${
    Object.entries(ln.errors)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || 'none'
  }) |
| longest outage | ${f(lc.longestOutageMs / 1000)} s | ${f(ln.longestOutageMs / 1000)} s |

On one node a fixed host-mode port allows one task, so the update is stop-first and a short gap is
unavoidable; zero failed requests needs several nodes behind an edge proxy (see
[reliability.md](reliability.md)).

## Image

| | bytes |
| --- | --- |
| accountservice-linux-amd64 binary | ${r.binaryBytes} |
| nx-swarm image (FROM scratch) | ${r.nxswarm.imageBytes} (binary + ${r.nxswarm.imageBytes - r.binaryBytes} bytes; target ≤ 100 KB over the binary: ${ok(r.nxswarm.imageBytes - r.binaryBytes <= 100 * 1024)}) |
| tutorial's iron/base image | about 6 MB over the binary (reported by the tutorial) |

## accountservice at 1000 req/s (${f(a.durationSeconds, 0)} s each, loopback)

| figure | loadgen (open loop) | autocannon -R 1000 -c 10 | target | |
| --- | --- | --- | --- | --- |
| requests / failed | ${a.sent} / ${a.failed} | ${ac ? `${ac.sent} / ${ac.failed}` : 'n/a'} | | |
| mean latency | ${f(a.latencyMeanMs, 3)} ms | ${ac ? `${f(ac.latencyMeanMs, 2)} ms` : 'n/a'} | < 1 ms | ${ok(a.latencyMeanMs < 1 && (!ac || ac.latencyMeanMs < 1))} |
| p99 latency | ${f(a.latencyP99Ms, 3)} ms | ${ac ? `${f(ac.latencyP99Ms, 0)} ms` : 'n/a'} | < 5 ms | ${ok(a.latencyP99Ms < 5 && (!ac || ac.latencyP99Ms < 5))} |
| max latency | ${f(a.latencyMaxMs, 3)} ms | ${ac ? `${f(ac.latencyMaxMs, 0)} ms` : 'n/a'} | | |
| CPU (docker stats during the loadgen run, median / max of ${a.samples} samples) | ${f(a.cpuPercentMedian, 1)} % / ${f(a.cpuPercentMax, 1)} % | | | |
| memory (max, during the loadgen run) | ${f(a.memMiBMax, 1)} MiB | | < 20 MiB | ${ok(a.memMiBMax < 20)} |
| memory idle | ${f(r.idleMemMiB, 1)} MiB | | | |

The tutorial reports 4 ms mean latency and 35 MiB at 1K req/s for the same service in its swarm.
Both load generators run on the same 2-core machine as the service, so latencies include their
share of the CPU. loadgen sends each request when it is due, whatever the earlier ones do, and
measures from that moment (no coordinated omission). autocannon keeps 10 connections and caps their
overall rate at 1000 req/s (a closed loop: a slow answer delays the next request instead of counting
against latency); it records whole milliseconds, so its p99 and max are rounded.

## Output of a no-op redeploy

\`\`\`
${r.nxswarm.noopOutputTail}
\`\`\`
${deployOnlySection()}`;
}

/** The --deploy-only figures (tmp/bench/deploy-only.json), when that run exists. */
function deployOnlySection() {
  let d;
  try {
    d = JSON.parse(fs.readFileSync('tmp/bench/deploy-only.json', 'utf8'));
  } catch {
    return '';
  }
  const f = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const med = (k) => median(d.edit.map((e) => e[k]));
  return `
## swarm-deploy alone (\`node tools/bench/bench.mjs --deploy-only --runs ${d.runs}\`, ${d.date})

| | measured | goal | |
| --- | --- | --- | --- |
| no-op \`nx run accountservice:deploy\` / cached \`nx run accountservice:build\` | ${f(d.noopDeploySeconds.median)} s / ${f(d.cachedBuildSeconds.median)} s = ${f(d.noopRatio)}× | ≤ 1.25× | ${d.noopRatio <= 1.25 ? 'met' : '**missed**'} |
| edit one .go file → deploy done, verified / copyall.sh edit → serving | ${f(d.editDoneSeconds)} s / ${f(d.copyallEditServingSeconds.median)} s = ${f(d.editRatioVsCopyall)}× | ≤ 0.6× | ${d.editRatioVsCopyall <= 0.6 ? 'met' : '**missed**'} |
${
  d.swarmFloorSeconds
    ? `| new version answering: the deploy's update written → answering / \`docker service update --force\` → a new task answering (swarm's floor, same service) | ${f(d.rolloutServingSeconds)} s / ${f(d.swarmFloorSeconds.median)} s (${d.swarmFloorSeconds.runs.map((x) => f(x)).join(', ')}) | ≤ floor + 1.5 s | ${d.rolloutServingSeconds <= d.swarmFloorSeconds.median + 1.5 ? 'met' : '**missed**'} |\n`
    : ''
}
Where the edit → done time goes (medians, seconds since the edit): deploy task starts ${f(med('deployTask'))}
(Nx, build, image), update written ${f(med('updateWritten'))}, new version answering ${f(med('serving'))}
(swarm stops the old task and starts the new one, stop-first), new task running ${f(med('newTaskRunning'))}
(Engine 20.10 runs the first health probe one interval, 5 s, after start), converged ${f(med('converged'))}
(the monitor sized from the health check, 5 s; no wait for the update's Delay after the last batch).
From the edit, the new version answered after ${f(d.editServingSeconds)} s: Nx, the Go build and the image come before the update.

No-op runs, one by one: ${d.noopDeploySeconds.runs.map((x) => f(x)).join(', ')} s (the first after the create is not served
from the cache: its check saw the state before the create). The image and deploy targets are served from
Nx's cache ([caching.md](caching.md)); what a no-op adds to the cached build is Nx replaying two more
cached tasks and the engine checks of the image and deploy executors' hasher. Nx hashes image and
deploy one after the other (each once its dependency is done) and calls the hasher for each, inside
its own process: the first makes three Engine API requests (about 40 ms), the second reuses that
answer. (Until 2026-12-02 the check was a runtime input, a Node process per check, about 0.1 s each
to start: 1.54× in the run of 2026-12-01.)

Edit → done on Engine 20.10: the first probe waits one health interval and the monitor one more
(5 s each for the image's 5 s interval), and stop-first adds the old task's shutdown (moby's fixed 2 s
for a task on an overlay network, then SIGTERM). Engines with API ≥ 1.44 get \`StartInterval: 1s\` (see
swarm-deploy.md), which removes most of the first wait; this machine's engine is 20.10 (the lab's \`nxnext\`
runs Engine 26 for \`test/lab/next-engine.int.spec.ts\`, which checks that the first probe comes about 1 s after
start there; the figures above are 20.10's).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
