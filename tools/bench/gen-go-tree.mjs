#!/usr/bin/env node
// Generates a Go monorepo for the project-graph benchmark (issue 12): by default 200 Go modules and
// 10,000 .go files, go.work at the root listing every module, a mix of library modules and services
// (package main + Dockerfile), realistic import blocks (grouped std / third-party / workspace imports,
// aliases, `_` imports, comments, test files, a build-tagged file per module), in a temp folder with
// node_modules linked to this repository's. Deterministic (seeded), so every run measures the same tree.
//
//   node tools/bench/gen-go-tree.mjs [--dir DIR] [--modules 200] [--files 10000] [--service-every 5]
//                                    [--nx-swarm PATH]   (a built package copied to node_modules/nx-swarm;
//                                                         default: a link to this repository's)
//
// Prints the folder. As a module: import { generateGoTree } from './gen-go-tree.mjs'.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function rng(seed) {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STD = [
  'context',
  'errors',
  'fmt',
  'io',
  'log/slog',
  'net/http',
  'os',
  'sort',
  'strconv',
  'strings',
  'sync',
  'time',
  'encoding/json',
  'bytes',
  'math',
  'regexp',
  'path/filepath',
  'crypto/sha256',
  'database/sql',
  'net/url',
];
const THIRD_PARTY = [
  'github.com/google/uuid',
  'go.uber.org/zap',
  'github.com/prometheus/client_golang/prometheus',
  'google.golang.org/grpc',
  'github.com/stretchr/testify/require',
  'golang.org/x/sync/errgroup',
];
const GROUPS = ['core', 'data', 'net', 'platform'];
const SUBPACKAGES = ['internal/store', 'internal/model', 'pkg/api', 'pkg/util'];
const pad = (n) => String(n).padStart(3, '0');

/** The module layout: roots, module paths, kinds and their workspace dependencies (a DAG). */
export function planGoTree({ modules = 200, files = 10_000, serviceEvery = 5, seed = 12 } = {}) {
  const rand = rng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const sample = (xs, k) => {
    const pool = [...xs];
    const out = [];
    while (out.length < k && pool.length) out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]);
    return out;
  };
  const mods = [];
  for (let i = 0; i < modules; i++) {
    const service = i % serviceEvery === serviceEvery - 1;
    const root = service ? `services/svc-${pad(i)}` : `libs/${GROUPS[i % GROUPS.length]}/lib-${pad(i)}`;
    const libsSoFar = mods.filter((m) => !m.service);
    const deps = sample(libsSoFar, Math.min(libsSoFar.length, service ? 4 + Math.floor(rand() * 5) : 1 + Math.floor(rand() * 4)));
    mods.push({ index: i, service, root, path: `example.com/acme/${root}`, name: path.posix.basename(root), deps });
  }
  // Spread the files: the same count per module, the remainder to the first ones.
  const per = Math.floor(files / modules);
  let extra = files - per * modules;
  for (const m of mods) {
    m.fileCount = per + (extra-- > 0 ? 1 : 0);
    m.packages = ['', ...SUBPACKAGES];
  }
  return { mods, rand, pick, sample };
}

function goFile({ m, pkgDir, n, isTest, tagged, rand, pick, sample }) {
  const pkgName = pkgDir === '' ? (m.service ? 'main' : m.name.replace(/-/g, '')) : path.posix.basename(pkgDir);
  const std = sample(STD, 2 + Math.floor(rand() * 5)).sort();
  if (isTest) std.unshift('testing');
  const third = rand() < 0.4 ? sample(THIRD_PARTY, 1 + Math.floor(rand() * 2)).sort() : [];
  const workspace = [];
  for (const d of sample(m.deps, Math.min(m.deps.length, Math.floor(rand() * 4)))) {
    const sub = pick(d.packages);
    workspace.push(sub ? `${d.path}/${sub}` : d.path);
  }
  if (pkgDir !== 'pkg/util' && rand() < 0.5) workspace.push(`${m.path}/pkg/util`);
  const lines = [];
  if (tagged) lines.push('//go:build linux || darwin', '');
  lines.push(`// Package ${pkgName}: generated for the nx-swarm Go graph benchmark (file ${n}).`, `package ${pkgName}`, '');
  lines.push('import (');
  for (const s of std) lines.push(`\t"${s}"`);
  if (third.length) lines.push('');
  for (const t of third) lines.push(rand() < 0.2 ? `\t_ "${t}" // registers itself` : `\t"${t}"`);
  if (workspace.length) lines.push('');
  [...new Set(workspace)].forEach((w, k) => lines.push(k === 0 && rand() < 0.3 ? `\t${pkgName}dep "${w}"` : `\t"${w}"`));
  lines.push(')', '');
  // A body of realistic size (Go files in services average 100-200 lines).
  const fns = 4 + Math.floor(rand() * 6);
  for (let f = 0; f < fns; f++) {
    const fn = isTest ? `Test${pkgName}${n}Case${f}` : `${pkgName}Func${n}x${f}`;
    lines.push(`// ${fn} does what the benchmark needs: nothing, at a realistic length.`);
    lines.push(isTest ? `func ${fn}(t *testing.T) {` : `func ${fn}(ctx interface{ Done() <-chan struct{} }, in []string) (map[string]int, error) {`);
    lines.push('\tcounts := map[string]int{}', '\tfor i, s := range in {', '\t\tif s == "" {', '\t\t\tcontinue', '\t\t}');
    lines.push(`\t\tcounts[s] += i + ${f}`, '\t}');
    if (f === 0) lines.push('\t// import ( "not/an/import" ) inside a comment', '\tconst raw = `import "neither/is/this"`', '\t_ = raw');
    lines.push(isTest ? '\t_ = counts' : '\treturn counts, nil', '}', '');
  }
  return lines.join('\n');
}

/** Writes the tree; returns { dir, modules, files, services }. */
export function generateGoTree({ dir, modules = 200, files = 10_000, serviceEvery = 5, seed = 12, nxSwarm } = {}) {
  const target = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nx-go-bench-'));
  fs.mkdirSync(target, { recursive: true });
  const { mods, rand, pick, sample } = planGoTree({ modules, files, serviceEvery, seed });
  let written = 0;
  for (const m of mods) {
    const abs = path.join(target, m.root);
    fs.mkdirSync(abs, { recursive: true });
    const requires = [...m.deps.map((d) => `\t${d.path} v0.0.0`)];
    fs.writeFileSync(path.join(abs, 'go.mod'), `module ${m.path}\n\ngo 1.22\n${requires.length ? `\nrequire (\n${requires.join('\n')}\n)\n` : ''}`);
    if (m.service) {
      fs.writeFileSync(path.join(abs, 'Dockerfile'), `FROM scratch\nCOPY ${m.name}-linux-amd64 /${m.name}\nEXPOSE 8080\nENTRYPOINT ["/${m.name}"]\n`);
    }
    for (let n = 0; n < m.fileCount; n++) {
      const pkgDir = m.packages[n % m.packages.length];
      const isTest = n % 5 === 3;
      const base = n === 0 && m.service ? 'main' : `file_${pad(n)}`;
      const name = isTest ? `${base}_test.go` : n % 17 === 5 ? `${base}_linux.go` : `${base}.go`;
      const file = path.join(abs, pkgDir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, goFile({ m, pkgDir, n, isTest, tagged: n % 23 === 7, rand, pick, sample }));
      written++;
    }
  }
  fs.writeFileSync(path.join(target, 'go.work'), `go 1.22\n\nuse (\n${mods.map((m) => `\t./${m.root}`).join('\n')}\n)\n`);
  fs.writeFileSync(path.join(target, 'package.json'), JSON.stringify({ name: 'go-graph-bench', private: true }, null, 2) + '\n');
  fs.writeFileSync(
    path.join(target, 'nx.json'),
    JSON.stringify(
      { $schema: './node_modules/nx/schemas/nx-schema.json', neverConnectToCloud: true, useInferencePlugins: false, plugins: [] },
      null,
      2,
    ) + '\n',
  );
  fs.writeFileSync(path.join(target, '.gitignore'), 'node_modules\ndist\n.nx\n');
  // node_modules: links to this repository's, nx-swarm to the given build (the published shape).
  const nm = path.join(target, 'node_modules');
  fs.mkdirSync(nm, { recursive: true });
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry === '.package-lock.json' || entry === '.bin' || (entry === 'nx-swarm' && nxSwarm)) continue;
    fs.symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(nm, entry));
  }
  fs.mkdirSync(path.join(nm, '.bin'));
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules/.bin/nx')), path.join(nm, '.bin/nx'));
  // A copy, not a link: its requires (@nx/devkit, …) resolve through this node_modules, as installed.
  if (nxSwarm) fs.cpSync(path.resolve(nxSwarm), path.join(nm, 'nx-swarm'), { recursive: true });
  const git = (...a) =>
    execFileSync('git', a, {
      cwd: target,
      stdio: 'ignore',
      env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'generated Go tree');
  return { dir: target, modules: mods.length, files: written, services: mods.filter((m) => m.service).length, mods };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2);
  const flag = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const t0 = performance.now();
  const r = generateGoTree({
    dir: flag('--dir'),
    modules: Number(flag('--modules', 200)),
    files: Number(flag('--files', 10_000)),
    serviceEvery: Number(flag('--service-every', 5)),
    nxSwarm: flag('--nx-swarm'),
  });
  console.error(
    `gen-go-tree: ${r.modules} modules (${r.services} services), ${r.files} .go files in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(r.dir);
}
