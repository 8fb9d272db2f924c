'use strict';
// The loader of the compiled nx-swarm copy in node_modules/nx-swarm (written by tools/plugin/install.mjs,
// which copies this file to node_modules/nx-swarm/dev/loader.js).
//
// This workspace runs its own plugin the way users get it from npm: compiled JavaScript under a
// node_modules path. Nx then loads an executor with a plain require(); run from TypeScript source it
// also loads `typescript`, registers @swc-node/register and an ESM loader thread and transpiles the
// plugin in every task process, about 0.45 s per task on this 2-core machine (see docs/benchmarks.md).
//
// The copy must never run stale code: every entry point first compares the fingerprint of
// packages/nx-swarm (paths, sizes and mtimes of what the build reads) with the one recorded at install
// time. When they differ it loads the TypeScript source instead, through Nx's own loader, and says once
// how to rebuild the copy.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

/** Files of packages/nx-swarm that go into the build (tests and specs excluded). */
function sourceFiles(sourceRoot) {
  const out = [];
  for (const name of ['package.json', 'executors.json', 'generators.json', 'tsconfig.json', 'tsconfig.lib.json']) {
    if (fs.existsSync(path.join(sourceRoot, name))) out.push(name);
  }
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(sourceRoot, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (!/\.spec\.ts$/.test(entry.name) && !/\.snap$/.test(entry.name)) out.push(child);
    }
  };
  walk('src');
  return out.sort();
}

/** A hash over path, size and mtime of every source file: cheap (stat only), changes on any edit. */
function fingerprint(sourceRoot) {
  const h = crypto.createHash('sha256');
  for (const rel of sourceFiles(sourceRoot)) {
    const st = fs.statSync(path.join(sourceRoot, rel));
    h.update(`${rel}\0${st.size}\0${Math.trunc(st.mtimeMs)}\n`);
  }
  return h.digest('hex');
}

let state;
/** { fresh, sourceRoot } for the install this file lives in (node_modules/nx-swarm/dev/loader.js). */
function installState() {
  if (state) return state;
  const installRoot = path.resolve(__dirname, '..');
  const stamp = JSON.parse(fs.readFileSync(path.join(installRoot, '.nx-swarm-install.json'), 'utf8'));
  const sourceRoot = path.resolve(installRoot, stamp.source);
  let fresh = false;
  if (process.env.NX_SWARM_FROM_SOURCE !== 'true') {
    try {
      fresh = fingerprint(sourceRoot) === stamp.fingerprint;
    } catch {
      fresh = false;
    }
  }
  state = { fresh, sourceRoot, installRoot };
  return state;
}

let warned = false;
/**
 * The module at `rel` (no extension, relative to the package root): compiled when the copy is fresh,
 * otherwise the TypeScript source through Nx's loader.
 */
function load(rel, { quiet = false } = {}) {
  const { fresh, sourceRoot, installRoot } = installState();
  if (fresh) return require(path.join(installRoot, `${rel}.js`));
  if (!quiet && !warned && process.env.NX_SWARM_FROM_SOURCE !== 'true') {
    warned = true;
    process.stderr.write(
      'nx-swarm: packages/nx-swarm changed after node_modules/nx-swarm was built; running the plugin from ' +
        'its TypeScript source (slower). `npm run bootstrap` rebuilds the compiled copy.\n',
    );
  }
  return loadSource(sourceRoot, rel);
}

let tsRegistered = false;
function loadSource(sourceRoot, rel) {
  // Nx's loadTsFile unregisters the transpiler once the file is loaded; the plugin loads engine
  // modules lazily (require() inside an executor run), so the registration has to stay.
  if (!tsRegistered) {
    const { registerTsProject } = require('nx/src/plugins/js/utils/register');
    const { getRootTsConfigPath } = require('nx/src/plugins/js/utils/typescript');
    registerTsProject(getRootTsConfigPath());
    tsRegistered = true;
  }
  return require(path.join(sourceRoot, `${rel}.ts`));
}

/**
 * The project-graph plugin entry (createNodes, createDependencies). Executors and generators run in a new process each
 * time, so `load` checks once; the plugin entry can live as long as the Nx daemon when plugins run
 * in-process (NX_ISOLATE_PLUGINS=false in .env). Every createNodes/createDependencies call therefore checks the
 * sources again and, when they changed since the last load, drops the plugin's cached modules and
 * loads the TypeScript source afresh. Other exports pass through as loaded first.
 */
function loadPluginEntry(rel) {
  const { sourceRoot, installRoot } = installState();
  const first = load(rel, { quiet: true });
  let current = first;
  let loadedAt = safeFingerprint(sourceRoot);
  const refreshed = () => {
    const now = safeFingerprint(sourceRoot);
    if (now === loadedAt) return current;
    const prefixes = [sourceRoot + path.sep, path.join(installRoot, 'src') + path.sep];
    for (const key of Object.keys(require.cache)) {
      if (prefixes.some((p) => key.startsWith(p))) delete require.cache[key];
    }
    current = loadSource(sourceRoot, rel);
    loadedAt = now;
    return current;
  };
  const entry = { ...first };
  for (const [name, value] of Object.entries(first)) {
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'function') {
      entry[name] = [value[0], (...args) => refreshed()[name][1](...args)];
    } else if (typeof value === 'function') {
      // createDependencies (and any other hook Nx calls): the same check as createNodes.
      entry[name] = (...args) => refreshed()[name](...args);
    }
  }
  return entry;
}

function safeFingerprint(sourceRoot) {
  try {
    return fingerprint(sourceRoot);
  } catch {
    return undefined;
  }
}

module.exports = { sourceFiles, fingerprint, load, loadPluginEntry };
