#!/usr/bin/env node
// npm run bench: nx-swarm against the tutorial's copyall.sh, side by side, on this machine's engine.
//
//   node tools/bench/bench.mjs [--runs N] [--quick] [--out docs/benchmarks.md]
//
// Measures: cold deploy, no-op redeploy, edit-one-file redeploy (time until the new version
// answers), failed requests and the longest outage during a redeploy under a steady 100 req/s,
// image size, and accountservice under 1000 req/s for 30 s (latency, CPU, memory).
// Traffic goes to 127.0.0.1 only. It edits accountservice/internal/dbclient/dbclient.go to make a
// new version and always restores it. Writes tmp/bench/results.json and the Markdown report.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
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
const RUNS = Number(flag('--runs', QUICK ? 3 : 5));
const OUT = flag('--out', 'docs/benchmarks.md');
const PORT = 6767;
const URL_ = `http://127.0.0.1:${PORT}/accounts/10000`;
const SERVICE = 'accountservice';
const NX = path.join(ROOT, 'node_modules/.bin/nx');
const DEPLOY_CONFIG = flag('--configuration', 'host');
const EDIT_FILE = 'accountservice/internal/dbclient/dbclient.go';
const LOADGEN = path.join(ROOT, 'dist/tools/loadgen/loadgen');
const env = { ...process.env, GOTOOLCHAIN: 'local', NX_DAEMON: process.env.NX_DAEMON ?? 'true', FORCE_COLOR: '0' };

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
async function waitForBody(predicate, deadlineMs, startedAt = performance.now()) {
  while (performance.now() - startedAt < deadlineMs) {
    const r = await get(URL_, 500);
    if (r.status === 200 && predicate(r.body)) return (performance.now() - startedAt) / 1000;
    await sleep(50);
  }
  throw new Error(`no matching answer from ${URL_} within ${deadlineMs} ms`);
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

async function main() {
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
    nxDaemon: env.NX_DAEMON,
  };
  log('machine', machine);
  sh(NX, ['run', 'loadgen:build', '--outputStyle=stream']);
  const results = { machine, runs: RUNS, copyall: {}, nxswarm: {} };

  // ---------------------------------------------------------------- baseline: copyall.sh
  log('copyall.sh: cold (no image, no service)');
  removeService();
  removeImages();
  let t = timed('bash', ['tools/bench/copyall.sh']);
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
  {
    const noopOff = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const [cmd, a] = deployCmd();
      noopOff.push(timed(cmd, a, { env: { ...env, NX_DAEMON: 'false' } }).seconds);
    }
    results.nxswarm.noopDaemonOffSeconds = { median: median(noopOff), runs: noopOff };
  }
  const edits = [];
  const editDeploy = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const name = editOneFile();
    const [cmd, a] = deployCmd();
    const t0 = performance.now();
    const child = spawn(cmd, a, { env, stdio: 'ignore' });
    const done = new Promise((r) => child.on('exit', (code) => r({ code, seconds: (performance.now() - t0) / 1000 })));
    const serving = await waitForBody((b) => b.includes(name), 120000, t0);
    const d = await done;
    if (d.code !== 0) throw new Error('edit redeploy failed');
    edits.push(serving);
    editDeploy.push(d.seconds);
    log(`nx-swarm edit one file → new version serving ${i + 1}: ${serving.toFixed(2)} s (deploy verified after ${d.seconds.toFixed(2)} s)`);
  }
  restore();
  results.nxswarm.editServingSeconds = { median: median(edits), runs: edits };
  results.nxswarm.editDeployDoneSeconds = { median: median(editDeploy), runs: editDeploy };
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

  fs.mkdirSync('tmp/bench', { recursive: true });
  fs.writeFileSync('tmp/bench/results.json', JSON.stringify(results, null, 2));
  fs.writeFileSync(OUT, report(results));
  log(`wrote ${OUT} and tmp/bench/results.json`);
}

function report(r) {
  const f = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const ok = (cond) => (cond ? 'met' : '**missed**');
  const noop = r.nxswarm.noopSeconds.median;
  const copy = r.copyall.noopSeconds.median;
  const lc = r.copyall.underLoad;
  const ln = r.nxswarm.underLoad;
  const a = r.at1000;
  return `# Benchmarks

Generated by \`npm run bench\` (\`node tools/bench/bench.mjs --runs ${r.runs}\`) on ${r.machine.date}.
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
| Go / Node / Nx | ${r.machine.go} / ${r.machine.node} / ${r.machine.nx} (Nx daemon ${r.machine.nxDaemon === 'false' ? 'off' : 'on'}) |

## Deploy times (seconds; median of ${r.runs} where repeated)

| figure | copyall.sh | nx-swarm | target | |
| --- | --- | --- | --- | --- |
| cold deploy (empty Nx cache, no image, no service) → answering | ${f(r.copyall.coldSeconds)} | ${f(r.nxswarm.coldSeconds)} | | |
| redeploy, nothing changed | ${f(copy)} (runs: ${r.copyall.noopSeconds.runs.map((x) => f(x)).join(', ')}) | ${f(noop)} (runs: ${r.nxswarm.noopSeconds.runs.map((x) => f(x)).join(', ')}) | ≤ 2 s and ≥ 5× faster | ${ok(noop <= 2 && copy / noop >= 5)} (${f(copy / noop, 1)}×) |
| redeploy, nothing changed, Nx daemon off (CI) | | ${f(r.nxswarm.noopDaemonOffSeconds.median)} | | |
| edit one .go file → new version answering | ${f(r.copyall.editServingSeconds)} | ${f(r.nxswarm.editServingSeconds.median)} (runs: ${r.nxswarm.editServingSeconds.runs.map((x) => f(x)).join(', ')}) | ≤ 5 s | ${ok(r.nxswarm.editServingSeconds.median <= 5)} |
| edit one .go file → deploy command verified and done | | ${f(r.nxswarm.editDeployDoneSeconds.median)} | | |

Cold deploys are not like for like: nx-swarm builds two binaries (linux/amd64 and linux/arm64, as
the build target is configured) and its deploy returns only once the task is healthy; copyall.sh
builds one binary and \`docker service create\` returns once the task has been running for 5 s.
copyall.sh's unchanged redeploy includes the same service create wait.

## Where the time goes, and why two targets are missed

Traced by hand on this machine (one run, edit → deploy, Nx daemon on, other work running):

| phase | seconds |
| --- | --- |
| \`nx run\` start, project graph, task hashing (incl. \`go env GOVERSION\`) | 1.8 |
| build: process start + Go relink of two targets | 0.9 + 0.8 |
| image: process start + classic-builder build of the FROM scratch image | 0.9 + 0.9 |
| deploy: process start + spec diff + \`service update\` | 0.9 |
| swarm: update accepted → old task gets SIGTERM | 3.5 |
| old task exits → new task started (network attach, a failed Docker Hub pull attempt that swarm always makes) | 1.5 |
| **new version answering** | **11.1** |
| new task healthy (first health check after 5 s) and the 10 s update monitor passes → deploy verified | +16 |

- **No-op ≤ 2 s**: every non-cached Nx task runs in its own Node process, which loads Nx, the
  TypeScript transpiler (\`@swc-node/register\` loads \`typescript\` to read tsconfig) and the
  executor with dockerode: about 0.9 s before the executor's first line on this 2-core machine, for
  both \`image\` and \`deploy\`. The executors themselves take 40–150 ms for a no-op (printed as
  "in N ms"; the targets are 300 ms and 500 ms). Installed from npm as compiled JavaScript the
  transpiler step (about 0.25 s a process) goes away. Neither target can be served from Nx's cache
  soundly: their product lives in the daemon, and a cache key computed before the run cannot see
  an image or service removed afterwards.
- **Edit → serving ≤ 5 s**: on one node with a host-mode port the update must be stop-first, and
  swarm's container executor waits about 2 s after removing a task from service discovery before it
  sends SIGTERM (moby's gossip-converge delay for tasks on overlay networks), then attaches the new
  task to the overlay. Swarm alone accounts for about 5 s here; the Nx pipeline for about 6 s.

## Redeploy under a steady 100 req/s (one node, host-mode port)

| | copyall.sh (rm + create) | nx-swarm (rolling update) |
| --- | --- | --- |
| requests sent | ${lc.sent} | ${ln.sent} |
| failed | ${lc.failed} (${Object.entries(lc.errors).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}) | ${ln.failed} (${Object.entries(ln.errors).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}) |
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

## accountservice at 1000 req/s (${f(a.durationSeconds, 0)} s, open loop, loopback)

| figure | measured | target | |
| --- | --- | --- | --- |
| requests / failed | ${a.sent} / ${a.failed} | | |
| mean latency | ${f(a.latencyMeanMs, 3)} ms | < 1 ms | ${ok(a.latencyMeanMs < 1)} |
| p99 latency | ${f(a.latencyP99Ms, 3)} ms | < 5 ms | ${ok(a.latencyP99Ms < 5)} |
| max latency | ${f(a.latencyMaxMs, 3)} ms | | |
| CPU (docker stats, median / max of ${a.samples} samples) | ${f(a.cpuPercentMedian, 1)} % / ${f(a.cpuPercentMax, 1)} % | | |
| memory (max) | ${f(a.memMiBMax, 1)} MiB | < 20 MiB | ${ok(a.memMiBMax < 20)} |
| memory idle | ${f(r.idleMemMiB, 1)} MiB | | |

The tutorial reports 4 ms mean latency and 35 MiB at 1K req/s for the same service in its swarm.
The load generator runs on the same 2-core machine as the service, so latencies include its share
of the CPU.

## Output of a no-op redeploy

\`\`\`
${r.nxswarm.noopOutputTail}
\`\`\`
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
