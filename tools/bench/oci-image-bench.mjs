#!/usr/bin/env node
// The image step of accountservice, OCI builder vs Engine builder, side by side in one run (issue 14).
//
//   node tools/bench/oci-image-bench.mjs [--runs N]      (run under flock /tmp/nx-swarm-engine.lock)
//
// Needs the compiled plugin (npx nx run nx-swarm:build) and the binaries (npx nx run
// accountservice:build). Each measured run changes the binary's content (8 appended bytes), so
// every run makes a new image: executor time (in process, warm) for load into the engine and for a
// push to a local registry (Debian's docker-registry on a free loopback port, no auth). Then the
// whole `nx run accountservice:image` wall (content unchanged) next to a cached
// `nx run accountservice:build` in the same run, with the executor's own time from its summary line
// (the rest of that wall is Nx: its CLI, hashing, the task process). Prints JSON; writes tmp/bench/oci-image.json.
// Also: the layer gzip of the amd64 binary alone, in one member against the builder's 2 MiB members
// (medians of 7), and with --profile, every logged line and registry request of the last
// one-platform push, timed from the executor's start.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const RUNS = Number(args.includes('--runs') ? args[args.indexOf('--runs') + 1] : 5);
const executor = require(path.join(ROOT, 'dist/packages/nx-swarm/src/executors/docker-image/executor.js')).default;
const { logger } = require('@nx/devkit');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-oci-bench-'));
for (const name of ['Dockerfile', '.dockerignore', 'docker'])
  fs.cpSync(path.join(ROOT, 'accountservice', name), path.join(ws, 'accountservice', name), { recursive: true });
fs.mkdirSync(path.join(ws, 'dist/accountservice'), { recursive: true });
for (const arch of ['amd64', 'arm64']) {
  const src = path.join(ROOT, `dist/accountservice/accountservice-linux-${arch}`);
  if (!fs.existsSync(src)) throw new Error(`${src} is missing: run npx nx run accountservice:build first`);
  fs.copyFileSync(src, path.join(ws, `dist/accountservice/accountservice-linux-${arch}`));
}
const context = {
  root: ws,
  cwd: ws,
  isVerbose: false,
  projectName: 'accountservice',
  targetName: 'image',
  projectsConfigurations: {
    version: 2,
    projects: {
      accountservice: {
        root: 'accountservice',
        targets: { build: { executor: 'nx-swarm:go-cross-build', options: { targets: ['linux/amd64', 'linux/arm64'] } } },
      },
    },
  },
  nxJsonConfiguration: {},
  projectGraph: { nodes: {}, dependencies: {} },
};
const files = [{ from: 'dist/accountservice/accountservice-linux-amd64', to: 'accountservice-linux-amd64' }];
const REPO = `nxswarm-bench-${Date.now().toString(36)}/accountservice`;
const PROFILE = args.includes('--profile');
let lines = [];
let runStart = 0n;
const sinceStart = () => (Number(process.hrtime.bigint() - runStart) / 1e6).toFixed(1);
for (const level of ['info', 'warn', 'error']) logger[level] = (...a) => lines.push(PROFILE ? `${sinceStart()} ms  ${a.join(' ')}` : a.join(' '));
let requests = [];
if (PROFILE) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    const at = sinceStart();
    const t = process.hrtime.bigint();
    const res = await realFetch(url, init);
    requests.push(
      `${at} ms +${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)} ms  ${init?.method ?? 'GET'} ${String(url).replace(/^https?:\/\/[^/]+/, '')} ${res.status}`,
    );
    return res;
  };
  // The Engine API requests (docker-modem uses http.request on the unix socket), timed the same way.
  const http = await import('node:http');
  const realRequest = http.default.request;
  http.default.request = function (opts, cb) {
    const at = sinceStart();
    const t = process.hrtime.bigint();
    const req = realRequest.call(this, opts, cb);
    req.on('response', (res) => {
      const done = () =>
        requests.push(
          `${at} ms +${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)} ms  engine ${opts.method ?? 'GET'} ${opts.path} ${res.statusCode}`,
        );
      res.on('end', done);
    });
    return req;
  };
}

function changeBinaries(n) {
  for (const arch of ['amd64', 'arm64'])
    fs.appendFileSync(path.join(ws, `dist/accountservice/accountservice-linux-${arch}`), Buffer.from(`run${String(n).padStart(5, '0')}`));
}

async function timed(options) {
  lines = [];
  requests = [];
  const t = process.hrtime.bigint();
  runStart = t;
  const r = await executor(options, context);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (!r.success) throw new Error(`docker-image failed:\n${lines.join('\n')}`);
  return ms;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const results = { runs: RUNS, load: {}, push: {}, nx: {} };
let n = 0;
const port = await freePort();
const regDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-bench-registry-'));
fs.writeFileSync(
  path.join(regDir, 'config.yml'),
  `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${regDir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
);
const registry = spawn('docker-registry', ['serve', path.join(regDir, 'config.yml')], { stdio: 'ignore' });
try {
  for (let i = 0; i < 50; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/v2/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const cases = {
    'load oci': { builder: 'oci' },
    'load engine': { builder: 'engine' },
    'push oci (linux/amd64 + linux/arm64)': { builder: 'oci', push: true, registry: `127.0.0.1:${port}` },
    'push oci (linux/amd64)': { builder: 'oci', push: true, registry: `127.0.0.1:${port}`, platforms: ['linux/amd64'] },
    'push engine (linux/amd64)': { builder: 'engine', push: true, registry: `127.0.0.1:${port}` },
  };
  for (const [name, extra] of Object.entries(cases)) {
    const times = [];
    for (let i = 0; i <= RUNS; i++) {
      changeBinaries(++n);
      const ms = await timed({ repository: REPO, files, tags: ['latest'], ...extra });
      if (i > 0) times.push(ms); // the first run warms modules and connections
    }
    const unchanged = await timed({ repository: REPO, files, tags: ['latest'], ...extra });
    (name.startsWith('load') ? results.load : results.push)[name] = {
      changedMs: times.map((t) => Math.round(t)),
      medianMs: Math.round(median(times)),
      unchangedMs: Math.round(unchanged),
    };
    if (PROFILE && (name === 'push oci (linux/amd64)' || name === 'load oci')) {
      changeBinaries(++n);
      const ms = await timed({ repository: REPO, files, tags: ['latest'], ...extra });
      results[name === 'load oci' ? 'loadProfile' : 'pushProfile'] = { ms: Math.round(ms), lines, requests };
      process.stderr.write(`profile of one ${name}, ${ms.toFixed(1)} ms:\n${[...lines, ...requests].join('\n')}\n`);
    }
    process.stderr.write(
      `${name}: changed content median ${Math.round(median(times))} ms (${times.map((t) => Math.round(t)).join(', ')}), unchanged ${Math.round(unchanged)} ms\n`,
    );
  }
} finally {
  registry.kill('SIGTERM');
  fs.rmSync(regDir, { recursive: true, force: true });
}

// The layer gzip alone: one member (what the builder did before) against its 2 MiB members.
{
  const zlib = await import('node:zlib');
  const { gzipDeterministicAsync, GZIP_OPTIONS } = require(path.join(ROOT, 'dist/packages/nx-swarm/src/lib/oci/image.js'));
  const data = fs.readFileSync(path.join(ws, 'dist/accountservice/accountservice-linux-amd64'));
  const oneMember = () => new Promise((res, rej) => zlib.gzip(data, GZIP_OPTIONS, (e, out) => (e ? rej(e) : res(out))));
  const time = async (f) => {
    const ms = [];
    let bytes = 0;
    for (let i = 0; i < 7; i++) {
      const t = process.hrtime.bigint();
      bytes = (await f()).length;
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return { medianMs: Math.round(median(ms)), bytes };
  };
  results.gzip = { inputBytes: data.length, oneMember: await time(oneMember), members2MiB: await time(() => gzipDeterministicAsync(data)) };
  process.stderr.write(
    `gzip of ${data.length} bytes: one member ${results.gzip.oneMember.medianMs} ms, 2 MiB members ${results.gzip.members2MiB.medianMs} ms\n`,
  );
}

// Whole tasks through the nx CLI (the workspace's own accountservice; unchanged content).
const nx = (argv) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/nx'), argv, {
    cwd: ROOT,
    env: { ...process.env, NX_DAEMON: 'false', FORCE_COLOR: '0' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`nx ${argv.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  // The executor's own time, from its summary line ("✔ … in N ms"): the rest of the wall is Nx's.
  const own = /^✔ .* in (\d+) ms$/m.exec(`${r.stdout}\n${r.stderr}`);
  if (own) executorMs[argv.join(' ')] = [...(executorMs[argv.join(' ')] ?? []), Number(own[1])];
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const executorMs = {};
nx(['run', 'accountservice:image']);
const walls = { build: [], imageOci: [], imageEngine: [] };
const ociArgs = ['run', 'accountservice:image', '--builder=oci'];
const engineArgs = ['run', 'accountservice:image', '--builder=engine'];
for (let i = 0; i < RUNS; i++) {
  walls.build.push(nx(['run', 'accountservice:build']));
  walls.imageEngine.push(nx(engineArgs));
  walls.imageOci.push(nx(ociArgs)); // last: leaves the receipt as the default (auto → oci) makes it
}
for (const [k, v] of Object.entries(walls)) results.nx[k] = { medianMs: Math.round(median(v)), runs: v.map((t) => Math.round(t)) };
for (const [k, a] of [
  ['imageOci', ociArgs],
  ['imageEngine', engineArgs],
]) {
  const own = executorMs[a.join(' ')];
  if (own?.length) results.nx[k].executorMedianMs = median(own);
}
results.nx.ratioOci = +(results.nx.imageOci.medianMs / results.nx.build.medianMs).toFixed(2);
results.nx.ratioEngine = +(results.nx.imageEngine.medianMs / results.nx.build.medianMs).toFixed(2);
spawnSync(
  'docker',
  [
    'image',
    'rm',
    '-f',
    ...spawnSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((r) => r.includes(REPO)),
  ],
  { stdio: 'ignore' },
);
fs.rmSync(ws, { recursive: true, force: true });
fs.mkdirSync(path.join(ROOT, 'tmp/bench'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'tmp/bench/oci-image.json'), JSON.stringify(results, null, 2) + '\n');
console.log(JSON.stringify(results, null, 2));
