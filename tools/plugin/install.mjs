#!/usr/bin/env node
// Installs the compiled nx-swarm plugin into node_modules/nx-swarm, the way users get it from npm, so
// that every Nx task in this workspace loads plain JavaScript instead of transpiling the plugin.
//
//   node tools/plugin/install.mjs          build (nx run nx-swarm:build) and install when the sources
//                                          changed since the last install; otherwise say it is current
//   node tools/plugin/install.mjs --check  exit 0 when the installed copy is current, 1 otherwise
//
// npm workspaces link node_modules/nx-swarm to packages/nx-swarm; this replaces the link with a copy
// of dist/packages/nx-swarm whose entry points go through dev/loader.js (see tools/plugin/dev-loader.cjs):
// when packages/nx-swarm changes later, the copy runs the TypeScript source instead of stale code.
// `npm install` puts the link back; Nx then runs the plugin from source until the next bootstrap.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { fingerprint } = require('./dev-loader.cjs');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = path.join(ROOT, 'packages/nx-swarm');
const DIST = path.join(ROOT, 'dist/packages/nx-swarm');
const TARGET = path.join(ROOT, 'node_modules/nx-swarm');
const STAMP = '.nx-swarm-install.json';

const say = (msg) => console.log(`plugin: ${msg}`);

/** Changes when this installer or the loader changes, so that an older install is redone. */
function installerVersion() {
  const h = crypto.createHash('sha256');
  for (const f of ['install.mjs', 'dev-loader.cjs']) h.update(fs.readFileSync(path.join(ROOT, 'tools/plugin', f)));
  return h.digest('hex').slice(0, 16);
}

export function isCurrent(target = TARGET, source = SOURCE) {
  try {
    if (fs.lstatSync(target).isSymbolicLink()) return false;
    const stamp = JSON.parse(fs.readFileSync(path.join(target, STAMP), 'utf8'));
    return stamp.fingerprint === fingerprint(source) && stamp.installer === installerVersion();
  } catch {
    return false;
  }
}

/** Entry points rewritten to go through dev/loader.js: { file in the copy → module (no extension) }. */
export function rewriteManifests(copyRoot) {
  const wrappers = {};
  const wrap = (rel) => {
    const name = `dev/${rel.replace(/^\.\//, '').replace(/\.js$/, '').replace(/[/]/g, '__')}.js`;
    wrappers[name] = rel.replace(/^\.\//, '').replace(/\.js$/, '');
    return `./${name}`;
  };
  const pkgPath = path.join(copyRoot, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  pkg.main = wrap(pkg.main);
  fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
  for (const [file, key, field] of [
    ['executors.json', 'executors', 'implementation'],
    ['executors.json', 'executors', 'hasher'],
    ['generators.json', 'generators', 'factory'],
  ]) {
    const p = path.join(copyRoot, file);
    const json = JSON.parse(fs.readFileSync(p, 'utf8'));
    for (const entry of Object.values(json[key] ?? {})) if (entry[field]) entry[field] = wrap(entry[field]);
    fs.writeFileSync(p, JSON.stringify(json, null, 2) + '\n');
  }
  return wrappers;
}

/** The wrapper file that package.json's main points at, relative to the copy. */
function pkgMain(copyRoot) {
  return JSON.parse(fs.readFileSync(path.join(copyRoot, 'package.json'), 'utf8')).main.replace(/^\.\//, '');
}

function install() {
  const before = fingerprint(SOURCE);
  say('building the plugin (nx run nx-swarm:build)');
  try {
    execFileSync(path.join(ROOT, 'node_modules/.bin/nx'), ['run', 'nx-swarm:build', '--outputStyle=static'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      // The graph computation loads the plugin itself; make it use the source while the copy is rebuilt.
      env: { ...process.env, NX_SWARM_FROM_SOURCE: 'true' },
    });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`nx run nx-swarm:build failed:\n${output}`);
  }
  if (!fs.existsSync(path.join(DIST, 'package.json'))) {
    throw new Error(`nx run nx-swarm:build did not produce ${path.relative(ROOT, DIST)}/package.json`);
  }
  const staging = `${TARGET}.installing-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.cpSync(DIST, staging, { recursive: true });
  const wrappers = rewriteManifests(staging);
  fs.mkdirSync(path.join(staging, 'dev'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'tools/plugin/dev-loader.cjs'), path.join(staging, 'dev/loader.js'));
  const main = wrappers[pkgMain(staging)];
  for (const [file, mod] of Object.entries(wrappers)) {
    const call = mod === main ? 'loadPluginEntry' : 'load';
    fs.writeFileSync(
      path.join(staging, file),
      `'use strict';\n// Written by tools/plugin/install.mjs: the compiled ${mod}, or its source when packages/nx-swarm changed.\n` +
        `module.exports = require('./loader.js').${call}(${JSON.stringify(mod)});\n`,
    );
  }
  fs.writeFileSync(
    path.join(staging, STAMP),
    JSON.stringify(
      { source: path.relative(TARGET, SOURCE), fingerprint: before, installer: installerVersion(), installedAt: new Date().toISOString() },
      null,
      2,
    ) + '\n',
  );
  fs.rmSync(TARGET, { recursive: true, force: true });
  fs.renameSync(staging, TARGET);
  say(`installed the compiled plugin in node_modules/nx-swarm (${Object.keys(wrappers).length} entry points)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv.includes('--check')) {
    process.exit(isCurrent() ? 0 : 1);
  }
  if (isCurrent()) {
    say('compiled copy in node_modules/nx-swarm is up to date');
  } else {
    try {
      install();
    } catch (error) {
      // A plugin that does not compile (work in progress) must not stop the machine's bootstrap:
      // whatever is in node_modules/nx-swarm now runs the TypeScript source.
      say(`could not build and install the compiled plugin: ${error.message}`);
      say('Nx runs the plugin from its TypeScript source (slower) until `npx nx run nx-swarm:build` passes.');
    }
  }
}
