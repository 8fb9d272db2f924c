#!/usr/bin/env node
// The Go project graph benchmark (issue 12): Nx alone, Nx + nx-swarm and Nx + @nx-go/nx-go 4.1.1 on
// the same generated tree (tools/bench/gen-go-tree.mjs: 200 Go modules, 10,000 .go files, go.work),
// side by side in one run, the variants interleaved round by round.
//
//   node tools/bench/go-graph-bench.mjs [--runs 5] [--ref HEAD | --ref worktree] [--dir DIR] [--keep] [--out docs/benchmarks.md | --no-write]
//                                       [--modules 200 --files 10000]   (smaller trees for a smoke run)
//   node tools/bench/go-graph-bench.mjs --report-only   (the section again from tmp/bench/go-graph.json)
//   … --no-isolation   every variant with NX_ISOLATE_PLUGINS=false (Nx loads the plugins into its own
//                      process, the daemon's, instead of a worker per plugin and computation), into a
//                      section and a JSON file of its own (tmp/bench/go-graph-no-isolation.json)
//
// cold:        `nx show projects`, NX_DAEMON=false, .nx/workspace-data removed before every run.
// incremental: daemon on (NX_DAEMON=true); one service file gains (then loses) an import of a library
//              it did not use; time from the write until the daemon pushes a recomputed graph that has
//              (no longer has) the edge, to a listener registered through Nx's daemon client (what
//              Nx Console uses; no CLI start-up in the figure). For Nx alone: until the first
//              recomputed graph after the write.
// where:       one extra cold run per variant with NX_PERF_LOGGING=true, the plugin timings kept.
// floor:       a fourth variant, "Nx + the same graph, precomputed": a plugin of a few lines (written
//              into the tree) that returns, from a JSON file read once, the projects and edges that
//              nx-swarm inferred on this tree, and computes nothing. What it adds to Nx alone is Nx's
//              own work for a graph of that size (merging, file map, hashing, caching and sending the
//              graph); what nx-swarm adds on top of it is the plugin's part.
// nx-swarm is compiled (tsc, the published shape) from a commit (--ref, default HEAD) or the working
// tree (--ref worktree) into a temp folder; no Docker.
// Writes tmp/bench/go-graph.json and the section "Go project graph (issue 12)" of docs/benchmarks.md.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateGoTree } from './gen-go-tree.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(flag('--runs', 5));
const ISOLATED = !args.includes('--no-isolation');
const JSON_OUT = path.join(ROOT, `tmp/bench/go-graph${ISOLATED ? '' : '-no-isolation'}.json`);
const OUT = args.includes('--no-write') ? undefined : flag('--out', path.join(ROOT, 'docs/benchmarks.md'));
const log = (...m) => console.error('go-graph-bench:', ...m);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const VARIANTS = {
  'nx-alone': [],
  'nx-floor': [{ plugin: 'nx-swarm-floor' }],
  'nx-swarm': [{ plugin: 'nx-swarm' }],
  'nx-go': [{ plugin: '@nx-go/nx-go' }],
};
const LABELS = { 'nx-alone': 'Nx alone (no Go plugin)', 'nx-floor': "Nx + nx-swarm's graph, precomputed (the floor)", 'nx-swarm': 'Nx + nx-swarm' };

/**
 * The floor plugin: nx-swarm's projects and edges on this tree (from \`nx graph --file\`), returned as
 * they are. Static edges need a source file; each edge gets the first file of its source project, and
 * is returned when Nx asks about that file (all files on a cold start), as a real plugin would.
 * Installed as a package in the tree's node_modules, as nx-swarm and nx-go are: Nx treats a plugin
 * given by a local path differently. To resolve it, Nx infers the workspace's projects with its default
 * plugins, which calls the createNodes of its nx/js plugin outside a graph computation; that worker's
 * phase count then never returns to zero, and Nx keeps it alive instead of starting it again for
 * every recomputation, as it does with a package plugin. A local floor was 3 worker starts per
 * recomputation against the Go plugins' 4 (measured on 2026-12-03: about 85 ms of the floor's figure).
 */
const FLOOR_PLUGIN = `
const path = require('path');
const { graph } = require('./floor-graph.json');
const byRoot = new Map(Object.values(graph.nodes).map((n) => [n.data.root, n.data]));
const edges = Object.values(graph.dependencies).flat().filter((d) => !d.target.startsWith('npm:'));
exports.createNodesV2 = ['**/go.mod', (files) => files.map((f) => {
  const root = path.posix.dirname(f);
  const data = byRoot.get(root);
  return [f, data ? { projects: { [root]: data } } : {}];
})];
exports.createDependencies = (_options, ctx) => {
  const out = [];
  for (const e of edges) {
    const first = (ctx.fileMap.projectFileMap[e.source] || [])[0];
    if (!first) continue;
    const asked = (ctx.filesToProcess.projectFileMap[e.source] || []).some((f) => f.file === first.file);
    if (asked) out.push({ source: e.source, target: e.target, sourceFile: first.file, type: 'static' });
  }
  return out;
};
`;

/** Writes the floor plugin (a package, node_modules/nx-swarm-floor) and nx-swarm's graph for it into the tree. */
function writeFloor(dir) {
  const pkg = path.join(dir, 'node_modules/nx-swarm-floor');
  fs.mkdirSync(pkg, { recursive: true });
  setPlugins(dir, VARIANTS['nx-swarm']);
  nx(dir, ['graph', `--file=${path.join(pkg, 'floor-graph.json')}`], { NX_DAEMON: 'false' });
  fs.writeFileSync(path.join(pkg, 'index.js'), FLOOR_PLUGIN);
  fs.writeFileSync(path.join(pkg, 'package.json'), `${JSON.stringify({ name: 'nx-swarm-floor', version: '0.0.0', main: 'index.js' }, null, 2)}\n`);
}

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

// --- nx-swarm as published: tsc output + the package's JSON files ----------------------------------
/** Compiles packages/nx-swarm of a commit (default HEAD: what is committed, not others' work in progress) or of the working tree. */
function buildNxSwarm(ref) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'go-graph-bench-nx-swarm-'));
  let src = ROOT;
  if (ref !== 'worktree') {
    src = fs.mkdtempSync(path.join(os.tmpdir(), 'go-graph-bench-src-'));
    const tar = sh('git', ['-C', ROOT, 'archive', '--format=tar', ref, 'packages/nx-swarm', 'tsconfig.base.json'], { encoding: 'buffer' }).stdout;
    sh('tar', ['-x', '-C', src], { input: tar });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'));
  }
  const pkg = path.join(src, 'packages/nx-swarm');
  log(
    `compiling nx-swarm at ${ref === 'worktree' ? 'the working tree' : `${ref} (${sh('git', ['-C', ROOT, 'rev-parse', '--short', ref]).stdout.trim()})`} (tsc) …`,
  );
  // Type errors elsewhere in a working tree must not stop the bench: tsc still emits.
  sh(
    path.join(ROOT, 'node_modules/.bin/tsc'),
    [
      '-p',
      path.join(pkg, 'tsconfig.lib.json'),
      '--outDir',
      path.join(out, 'src'),
      '--rootDir',
      path.join(pkg, 'src'),
      '--declaration',
      'false',
      '--sourceMap',
      'false',
      '--incremental',
      'false',
    ],
    { allowFail: true },
  );
  if (!fs.existsSync(path.join(out, 'src/index.js'))) throw new Error('tsc produced no src/index.js for nx-swarm');
  for (const f of ['package.json', 'executors.json', 'generators.json']) fs.copyFileSync(path.join(pkg, f), path.join(out, f));
  const copyJson = (from, to) => {
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
      if (e.isDirectory()) copyJson(path.join(from, e.name), path.join(to, e.name));
      else if (e.name.endsWith('.json')) {
        fs.mkdirSync(to, { recursive: true });
        fs.copyFileSync(path.join(from, e.name), path.join(to, e.name));
      }
    }
  };
  copyJson(path.join(pkg, 'src'), path.join(out, 'src'));
  if (src !== ROOT) fs.rmSync(src, { recursive: true, force: true });
  return out;
}

// --- the tree ----------------------------------------------------------------------------------------
function setPlugins(dir, plugins) {
  const file = path.join(dir, 'nx.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  json.plugins = plugins;
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
}

function nxEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NX_') && v !== undefined) env[k] = v;
  return {
    ...env,
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    FORCE_COLOR: '0',
    GOTOOLCHAIN: 'local',
    ...(ISOLATED ? {} : { NX_ISOLATE_PLUGINS: 'false' }),
    ...extra,
  };
}

function nx(dir, argv, extraEnv = {}) {
  return sh(path.join(dir, 'node_modules/.bin/nx'), argv, { cwd: dir, env: nxEnv(extraEnv) });
}

function coldRun(dir, extraEnv = {}) {
  fs.rmSync(path.join(dir, '.nx/workspace-data'), { recursive: true, force: true });
  const t0 = performance.now();
  const r = nx(dir, ['show', 'projects'], { NX_DAEMON: 'false', ...extraEnv });
  return { seconds: (performance.now() - t0) / 1000, projects: r.stdout.split('\n').filter(Boolean).length, out: r.stdout + r.stderr };
}

/** "Time taken for 'X' 12.3ms" lines (NX_PERF_LOGGING) about plugin loading and the graph, in ms. */
const PERF_KEEP =
  /^(loadSpecifiedNxPlugins|Load Nx Plugin: (nx-swarm|@nx-go\/nx-go)|start-plugin-worker:(nx-swarm|@nx-go\/nx-go)|(nx-swarm|@nx-go\/nx-go):create(Nodes|Dependencies)|createProjectGraphAsync >> .*|createDependencies|createNodes:merge|total execution time for createProjectGraph\(\))$/;
function perfLines(out) {
  const rows = [];
  for (const m of out.matchAll(/Time taken for '([^']+)' ([\d.]+)ms/g)) if (PERF_KEEP.test(m[1])) rows.push({ name: m[1], ms: Number(m[2]) });
  return rows;
}

/** The median of each measure over the daemon's recomputations (its log, NX_PERF_LOGGING on). */
function daemonPerf(dir) {
  const file = path.join(dir, '.nx/workspace-data/d/daemon.log');
  const rows = fs.existsSync(file) ? perfLines(fs.readFileSync(file, 'utf8')) : [];
  const byName = new Map();
  for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r.ms]);
  return [...byName].map(([name, ms]) => ({ name, ms: median(ms), count: ms.length }));
}

/** How many plugin workers Nx started again in the daemon's recomputations (its log), per recomputation. */
function workerStarts(dir, recomputations, fromOffset) {
  const file = path.join(dir, '.nx/workspace-data/d/daemon.log');
  const text = fs.existsSync(file) ? fs.readFileSync(file).subarray(fromOffset).toString('utf8') : '';
  const starts = [...text.matchAll(/\[plugin-client\] restarting worker for "([^"]+)"/g)].map((m) => m[1]);
  return { perRecomputation: recomputations ? starts.length / recomputations : 0, plugins: [...new Set(starts)].sort() };
}

function graphEdges(dir) {
  const file = path.join(dir, 'tmp-graph.json');
  nx(dir, ['graph', `--file=${file}`], { NX_DAEMON: 'false' });
  const { graph } = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file);
  return Object.values(graph.dependencies)
    .flat()
    .filter((d) => !d.target.startsWith('npm:'))
    .map((d) => `${d.source}>${d.target}`)
    .sort();
}

// --- incremental: a child in the tree polls the daemon -----------------------------------------------
const PROBE = `
const fs = require('fs');
const { daemonClient } = require('nx/src/daemon/client/client');
const [file, a, b, source, target, runs] = JSON.parse(process.argv[1]);
const hasEdge = (g) => (g.dependencies[source] || []).some((d) => d.target === target);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let waiting;
(async () => {
  await daemonClient.getProjectGraphAndSourceMaps();
  await daemonClient.registerProjectGraphRecomputationListener((err, data) => {
    if (waiting && data && data.projectGraph) waiting(data.projectGraph);
  });
  const out = [];
  for (let i = 0; i < runs * 2; i++) {
    const adding = i % 2 === 0;
    await sleep(1500); // let the watcher settle after the previous write
    let recomputations = 0;
    const t0 = performance.now();
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the daemon did not reflect the edit within 60 s')), 60000);
      waiting = (graph) => {
        recomputations++;
        if (!target || hasEdge(graph) === adding) { clearTimeout(timer); waiting = undefined; resolve(); }
      };
    });
    fs.writeFileSync(file, adding ? b : a);
    await done;
    out.push({ ms: performance.now() - t0, adding, recomputations });
  }
  fs.writeFileSync(file, a);
  console.log(JSON.stringify(out));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function incremental(dir, edit, withEdge, runs) {
  const env = nxEnv({ NX_DAEMON: 'true', NX_PERF_LOGGING: 'true' });
  sh(path.join(dir, 'node_modules/.bin/nx'), ['daemon', '--stop'], { cwd: dir, env, allowFail: true });
  fs.rmSync(path.join(dir, '.nx/workspace-data'), { recursive: true, force: true });
  nx(dir, ['show', 'projects'], { NX_DAEMON: 'true', NX_PERF_LOGGING: 'true' }); // starts the daemon, which computes the graph
  const abs = path.join(dir, edit.file);
  const logOffset = fs.statSync(path.join(dir, '.nx/workspace-data/d/daemon.log'), { throwIfNoEntry: false })?.size ?? 0;
  const payload = JSON.stringify([abs, edit.before, edit.after, withEdge ? edit.source : '', withEdge ? edit.target : '', runs]);
  const child = spawn(process.execPath, ['-e', PROBE, payload, edit.file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const code = await new Promise((r) => child.on('exit', r));
  const perf = daemonPerf(dir);
  sh(path.join(dir, 'node_modules/.bin/nx'), ['daemon', '--stop'], { cwd: dir, env, allowFail: true });
  fs.writeFileSync(abs, edit.before);
  if (code !== 0) throw new Error(`incremental probe failed (${code})`);
  const samples = JSON.parse(stdout.trim().split('\n').pop());
  return {
    samples,
    perf,
    workers: workerStarts(
      dir,
      samples.reduce((n, s) => n + s.recomputations, 0),
      logOffset,
    ),
  };
}

/** A service file gains an import of a library its module does not use yet. */
function chooseEdit(dir, mods) {
  const svc = mods.find((m) => m.service && m.index >= mods.length / 2);
  const lib = mods.find((m) => !m.service && m.index < svc.index && !m.deps.includes(m) && !svc.deps.some((d) => d.path === m.path));
  const file = `${svc.root}/internal/store/file_001.go`;
  const before = fs.readFileSync(path.join(dir, file), 'utf8');
  const after = before.replace('import (\n', `import (\n\t_ "${lib.path}/pkg/util"\n`);
  if (after === before) throw new Error(`no import block in ${file}`);
  return { file, before, after, source: svc.name, target: lib.name };
}

// --- report ------------------------------------------------------------------------------------------
const SECTION_START = `<!-- go-graph-bench${ISOLATED ? '' : ':no-isolation'}:start -->`;
const SECTION_END = `<!-- go-graph-bench${ISOLATED ? '' : ':no-isolation'}:end -->`;

function section(r) {
  const f = (s) => s.toFixed(2);
  const ms = (x) => `${Math.round(x)}`;
  const c = r.cold;
  const i = r.incremental;
  const add = (v) => c[v].median - c['nx-alone'].median;
  const addInc = (v) => i[v].median - i['nx-alone'].median;
  const hasFloor = !!c['nx-floor'] && !!i['nx-floor'];
  const verdict = (ok) => (ok ? 'met' : '**missed**');
  // Within 5 %: no verdict either way (run-to-run spread on this machine is larger).
  const faster = (a, b) => (Math.abs(a - b) <= 0.05 * b ? `a tie (${f(a)} vs ${f(b)})` : verdict(a < b));
  const within = (v, limit) => (v <= limit ? (v > 0.95 * limit ? 'met, at the limit' : 'met') : '**missed**');
  const lines = [
    SECTION_START,
    r.isolated === false ? '## Go project graph (issue 12), plugins not isolated (`NX_ISOLATE_PLUGINS=false`)' : '## Go project graph (issue 12)',
    '',
    `Generated by \`node tools/bench/go-graph-bench.mjs --runs ${r.runs}${r.ref && r.ref !== 'HEAD' ? ` --ref ${r.ref}` : ''}${r.isolated === false ? ' --no-isolation' : ''}\` on ${r.date} (1/5/15-min load before: ${r.loadBefore}, after: ${r.loadAfter}; other engineers' jobs share the 2 cores).`,
    `Tree: [\`tools/bench/gen-go-tree.mjs\`](../tools/bench/gen-go-tree.mjs), ${r.tree.modules} Go modules (${r.tree.services} services with a Dockerfile, ${r.tree.modules - r.tree.services} libraries),`,
    `${r.tree.files} .go files, go.work at the root; the same tree for every row. nx-swarm compiled (tsc) from ${r.nxSwarmAt ?? 'this checkout'}, @nx-go/nx-go ${r.nxGoVersion} from npm, Nx ${r.nxVersion}.`,
    `Both Go plugins find ${r.sameEdges ? 'the same' : '**different**'} project edges (${r.edges['nx-swarm']} / ${r.edges['nx-go']}). Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}.`,
    '',
    `| | projects | edges | cold \`nx show projects\` (s, median of ${r.runs}) | added to Nx alone | incremental, edit → graph (ms, median of ${2 * r.runs}) | added to Nx alone |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...variantsIn(r).map(
      (v) =>
        `| ${LABELS[v] ?? `Nx + @nx-go/nx-go ${r.nxGoVersion}`} | ${c[v].projects} | ${r.edges[v]} | ${f(c[v].median)} (${c[v].runs.map(f).join(', ')}) | ${v === 'nx-alone' ? '' : `+${f(add(v))} s`} | ${ms(i[v].median)} (${ms(Math.min(...i[v].runs))}–${ms(Math.max(...i[v].runs))}) | ${v === 'nx-alone' ? '' : `+${ms(addInc(v))} ms`} |`,
    ),
    '',
    `Goals: nx-swarm adds ≤ 1 s to the cold graph: ${within(add('nx-swarm'), 1)} (+${f(add('nx-swarm'))} s); ≤ 100 ms to the incremental one: ${within(addInc('nx-swarm'), 100)} (+${ms(addInc('nx-swarm'))} ms);`,
    `faster than nx-go cold: ${faster(c['nx-swarm'].median, c['nx-go'].median)}, incremental: ${faster(i['nx-swarm'].median / 1000, i['nx-go'].median / 1000)}.`,
    ...(hasFloor
      ? [
          '',
          `Nx's own work for a plugin that returns a graph of this size (the floor row: a plugin package that returns the same ${c['nx-floor'].projects} projects and ${r.edges['nx-floor']} edges,`,
          `precomputed, nothing inferred; Nx loads and starts it as it does nx-swarm):`,
          `+${f(add('nx-floor'))} s cold, +${ms(addInc('nx-floor'))} ms per recomputation. nx-swarm's own part on top of it: +${f(c['nx-swarm'].median - c['nx-floor'].median)} s cold,`,
          `+${ms(i['nx-swarm'].median - i['nx-floor'].median)} ms per recomputation (nx-go: +${f(c['nx-go'].median - c['nx-floor'].median)} s, +${ms(i['nx-go'].median - i['nx-floor'].median)} ms).`,
        ]
      : []),
    '',
    ...whereSummary(r),
    '',
    ...(r.isolated === false
      ? [
          "With `NX_ISOLATE_PLUGINS=false` (this workspace sets it in `.env`) Nx loads every plugin into its own process, the daemon's",
          'for recomputations: no worker start-up per computation, and nx-swarm keeps what it read in memory between them; each module',
          'folder is watched, so createNodes walks again only the modules with file-system events since the last computation',
          '([go-graph.md](go-graph.md#incremental-and-without-go)).',
        ]
      : [
          "Nx stops a plugin's worker after its last graph hook and starts a new one for the next computation (its own default plugins",
          "too), so every daemon recomputation pays a worker start-up per plugin, the floor included. nx-swarm's worker starts without",
          'memory and asks the Go facts server, which keeps the watched walk between computations ([go-graph.md](go-graph.md#incremental-and-without-go)).',
        ]),
    '',
    'Cold: `NX_DAEMON=false nx show projects` with `.nx/workspace-data` removed before each run, variants interleaved round by round.',
    'Incremental: daemon on; a service file gains (then loses) an import of a library it did not use; the time from the write until the',
    "daemon pushes a recomputed graph that has (no longer has) the edge to a listener registered through Nx's daemon client (as Nx Console",
    "does; no CLI start-up in it, the daemon's file-watcher latency in every row). For Nx alone: until the first recomputed graph.",
    '',
    '### Where the time goes (one cold run each with `NX_PERF_LOGGING=true`, ms)',
    '',
    '| measure | ' + variantsIn(r).join(' | ') + ' |',
    '| --- | ' +
      variantsIn(r)
        .map(() => '---')
        .join(' | ') +
      ' |',
    ...perfTable(r.perf, variantsIn(r)),
    '',
    "### Where the incremental time goes (the daemon's log with `NX_PERF_LOGGING=true`, median per recomputation, ms)",
    '',
    '| measure | ' + variantsIn(r).join(' | ') + ' |',
    '| --- | ' +
      variantsIn(r)
        .map(() => '---')
        .join(' | ') +
      ' |',
    ...perfTable(Object.fromEntries(variantsIn(r).map((v) => [v, r.incremental[v].perf])), variantsIn(r)),
    ...(variantsIn(r).every((v) => r.incremental[v].workers)
      ? [
          '',
          `Plugin workers Nx started per recomputation (the daemon's log): ${variantsIn(r)
            .map((v) => `${v} ${+r.incremental[v].workers.perRecomputation.toFixed(1)}`)
            .join(
              ', ',
            )}${r.isolated === false ? ' (plugins not isolated: none)' : " (Nx's own nx/js, package-json and project-json plugins, and one per Go plugin or the floor's)"}.`,
        ]
      : []),
    '',
    SECTION_END,
  ];
  return lines.join('\n');
}

/** One line per Go plugin: its load, createNodes and createDependencies, cold and per recomputation. */
function whereSummary(r) {
  const pick = (rows, name) => {
    const ms = rows?.find((x) => x.name === name)?.ms;
    return ms === undefined ? 'n/a' : Math.round(ms);
  };
  return ['nx-swarm', '@nx-go/nx-go'].map((p) => {
    const v = p === 'nx-swarm' ? 'nx-swarm' : 'nx-go';
    const worker = pick(r.incremental[v].perf, `start-plugin-worker:${p}`);
    return (
      `- ${p}: cold, loading the plugin${r.isolated === false ? '' : ' (its worker processes)'} ${pick(r.perf[v], `Load Nx Plugin: ${p}`)} ms, createNodes ${pick(r.perf[v], `${p}:createNodes`)} ms, ` +
      `createDependencies ${pick(r.perf[v], `${p}:createDependencies`)} ms; in the daemon, per recomputation, ` +
      (worker === 'n/a' ? '' : `starting its worker again ${worker} ms (in parallel with Nx's own plugin workers), `) +
      `createNodes ${pick(r.incremental[v].perf, `${p}:createNodes`)} ms, ` +
      `createDependencies ${pick(r.incremental[v].perf, `${p}:createDependencies`)} ms.`
    );
  });
}

/** The variants a result has (runs from before the floor row have three). */
function variantsIn(r) {
  return Object.keys(VARIANTS).filter((v) => r.cold[v] && r.incremental[v]);
}

function perfTable(perf, variants) {
  const names = [];
  for (const rows of Object.values(perf)) for (const row of rows) if (!names.includes(row.name)) names.push(row.name);
  return names.map(
    (n) =>
      `| ${n} | ${variants
        .map((v) => {
          const hits = (perf[v] ?? []).filter((row) => row.name === n);
          return hits.length ? hits.map((h) => Math.round(h.ms)).join(' + ') : '';
        })
        .join(' | ')} |`,
  );
}

function writeSection(file, text) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const a = old.indexOf(SECTION_START);
  const b = old.indexOf(SECTION_END);
  // bench.mjs --deploy-only rewrites everything from its "## swarm-deploy alone" section on: stay above it.
  const tail = old.indexOf('\n## swarm-deploy alone');
  const next =
    a >= 0 && b > a
      ? old.slice(0, a) + text + old.slice(b + SECTION_END.length)
      : tail >= 0
        ? `${old.slice(0, tail).replace(/\n*$/, '\n\n')}${text}\n${old.slice(tail)}`
        : `${old.replace(/\n*$/, '\n\n')}${text}\n`;
  fs.writeFileSync(file, next);
}

// --- main --------------------------------------------------------------------------------------------
async function main() {
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  if (os.loadavg()[0] > os.cpus().length) log(`warning: load ${loadBefore} on ${os.cpus().length} cores; the figures will be noisy`);
  // --nx-swarm-build DIR: an already built package (e.g. to try a change of the plugin's JS).
  const ref = flag('--ref', 'HEAD');
  const nxSwarm = flag('--nx-swarm-build') ?? buildNxSwarm(ref);
  const t0 = performance.now();
  const tree = generateGoTree({ dir: flag('--dir'), nxSwarm, modules: Number(flag('--modules', 200)), files: Number(flag('--files', 10_000)) });
  log(`tree: ${tree.modules} modules, ${tree.files} .go files in ${tree.dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const result = {
    date: new Date().toISOString(),
    ref,
    nxSwarmAt: flag('--nx-swarm-build')
      ? `a given build (${flag('--nx-swarm-build')})`
      : ref === 'worktree'
        ? 'the working tree'
        : `commit ${sh('git', ['-C', ROOT, 'rev-parse', '--short', ref]).stdout.trim()}`,
    runs: RUNS,
    isolated: ISOLATED,
    loadBefore,
    nxVersion: JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/nx/package.json'), 'utf8')).version,
    nxGoVersion: JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@nx-go/nx-go/package.json'), 'utf8')).version,
    tree: { dir: tree.dir, modules: tree.modules, files: tree.files, services: tree.services },
    cold: {},
    incremental: {},
    edges: {},
    perf: {},
  };
  const edgeSets = {};
  try {
    writeFloor(tree.dir);
    // Correctness first: the same projects and edges from both Go plugins (and the floor).
    for (const [v, plugins] of Object.entries(VARIANTS)) {
      setPlugins(tree.dir, plugins);
      const edges = graphEdges(tree.dir);
      result.edges[v] = edges.length;
      edgeSets[v] = edges.join('\n');
      log(`${v}: ${result.edges[v]} Go edges`);
    }
    result.sameEdges = edgeSets['nx-swarm'] === edgeSets['nx-go'];
    // Warm-up (file system cache, Nx's native binaries), then the interleaved cold runs.
    for (const [v, plugins] of Object.entries(VARIANTS)) {
      setPlugins(tree.dir, plugins);
      coldRun(tree.dir);
      result.cold[v] = { runs: [], projects: 0 };
    }
    for (let run = 0; run < RUNS; run++) {
      for (const [v, plugins] of Object.entries(VARIANTS)) {
        setPlugins(tree.dir, plugins);
        const r = coldRun(tree.dir);
        result.cold[v].runs.push(r.seconds);
        result.cold[v].projects = r.projects;
        log(`cold ${run + 1}/${RUNS} ${v}: ${r.seconds.toFixed(2)} s (${r.projects} projects)`);
      }
    }
    for (const [v, plugins] of Object.entries(VARIANTS)) {
      setPlugins(tree.dir, plugins);
      result.cold[v].median = median(result.cold[v].runs);
      result.perf[v] = perfLines(coldRun(tree.dir, { NX_PERF_LOGGING: 'true' }).out);
    }
    const edit = chooseEdit(tree.dir, tree.mods);
    log(`incremental edit: ${edit.file} imports ${edit.target}`);
    for (const [v, plugins] of Object.entries(VARIANTS)) {
      setPlugins(tree.dir, plugins);
      // The floor computes no edges: like Nx alone, until the first recomputed graph.
      const { samples, perf, workers } = await incremental(tree.dir, edit, v !== 'nx-alone' && v !== 'nx-floor', RUNS);
      result.incremental[v] = {
        runs: samples.map((s) => s.ms),
        median: median(samples.map((s) => s.ms)),
        recomputations: samples.map((s) => s.recomputations),
        perf,
        workers,
      };
      log(`incremental ${v}: ${samples.map((s) => Math.round(s.ms)).join(', ')} ms`);
      await sleep(500);
    }
  } finally {
    if (!args.includes('--keep') && !flag('--dir')) fs.rmSync(tree.dir, { recursive: true, force: true });
    if (!flag('--nx-swarm-build')) fs.rmSync(nxSwarm, { recursive: true, force: true });
  }
  result.loadAfter = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  fs.mkdirSync(path.join(ROOT, 'tmp/bench'), { recursive: true });
  fs.writeFileSync(JSON_OUT, JSON.stringify(result, null, 2));
  const text = section(result);
  console.log(text);
  if (OUT) {
    writeSection(OUT, text);
    log(`wrote the section of ${path.relative(ROOT, OUT)} and ${path.relative(ROOT, JSON_OUT)}`);
  }
}

if (args.includes('--report-only')) {
  // Rewrites the section from the last run's tmp/bench/go-graph.json (e.g. after a text change).
  const text = section(JSON.parse(fs.readFileSync(JSON_OUT, 'utf8')));
  if (OUT) writeSection(OUT, text);
  console.log(text);
} else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
