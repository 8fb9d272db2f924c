// node --test tools/plugin/install.test.mjs: the compiled-plugin install's manifest rewrite, its source
// fingerprint, and the loader's choice between the compiled copy and the source (never stale code).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rewriteManifests } from './install.mjs';

const require = createRequire(import.meta.url);
const { fingerprint, sourceFiles } = require('./dev-loader.cjs');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function scratch(name) {
  // Under the workspace's tmp/ so that the loader's fallback resolves `nx` from the workspace.
  const dir = fs.mkdtempSync(path.join(ROOT, 'tmp', `${name}-`));
  return dir;
}

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/**
 * A workspace with packages/nx-swarm (the source) and node_modules/nx-swarm (a compiled copy
 * recorded as current), each holding one module: { ws, source, install }.
 */
function fakeInstall(name, rel, sourceText, compiledText) {
  const ws = scratch(name);
  const source = path.join(ws, 'packages/nx-swarm');
  const install = path.join(ws, 'node_modules/nx-swarm');
  write(path.join(source, 'package.json'), '{}');
  write(path.join(source, `${rel}.ts`), sourceText);
  write(path.join(install, `${rel}.js`), compiledText);
  fs.mkdirSync(path.join(install, 'dev'));
  fs.copyFileSync(path.join(ROOT, 'tools/plugin/dev-loader.cjs'), path.join(install, 'dev/loader.js'));
  write(path.join(install, '.nx-swarm-install.json'), JSON.stringify({ source: path.relative(install, source), fingerprint: fingerprint(source) }));
  return { ws, source, install };
}

test('rewriteManifests sends every entry point through dev/ wrappers', () => {
  const dir = scratch('manifests');
  write(path.join(dir, 'package.json'), JSON.stringify({ name: 'nx-swarm', main: './src/index.js' }));
  write(
    path.join(dir, 'executors.json'),
    JSON.stringify({
      executors: {
        'swarm-deploy': {
          implementation: './src/executors/swarm-deploy/executor',
          schema: './src/executors/swarm-deploy/schema.json',
          hasher: './src/executors/swarm-deploy/hasher',
        },
        'docker-image': { implementation: './src/executors/docker-image/executor', schema: './src/executors/docker-image/schema.json' },
      },
    }),
  );
  write(
    path.join(dir, 'generators.json'),
    JSON.stringify({ generators: { init: { factory: './src/generators/init/generator', schema: './s.json' } } }),
  );

  const wrappers = rewriteManifests(dir);

  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const executors = JSON.parse(fs.readFileSync(path.join(dir, 'executors.json'), 'utf8')).executors;
  const generators = JSON.parse(fs.readFileSync(path.join(dir, 'generators.json'), 'utf8')).generators;
  for (const [entry, module] of [
    [pkg.main, 'src/index'],
    [executors['swarm-deploy'].implementation, 'src/executors/swarm-deploy/executor'],
    [executors['swarm-deploy'].hasher, 'src/executors/swarm-deploy/hasher'],
    [executors['docker-image'].implementation, 'src/executors/docker-image/executor'],
    [generators.init.factory, 'src/generators/init/generator'],
  ]) {
    assert.match(entry, /^\.\/dev\/[^/]+\.js$/);
    assert.equal(wrappers[entry.slice(2)], module);
  }
  assert.equal(executors['swarm-deploy'].schema, './src/executors/swarm-deploy/schema.json', 'schemas stay where they are');
  assert.equal(executors['docker-image'].hasher, undefined, 'no hasher is added where there was none');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the fingerprint covers what the build reads, not the tests', () => {
  const dir = scratch('fingerprint');
  write(path.join(dir, 'package.json'), '{}');
  write(path.join(dir, 'src/a.ts'), 'export const a = 1;\n');
  write(path.join(dir, 'src/a.spec.ts'), 'test;\n');
  assert.deepEqual(sourceFiles(dir), ['package.json', 'src/a.ts']);

  const before = fingerprint(dir);
  write(path.join(dir, 'src/a.spec.ts'), 'test changed;\n');
  assert.equal(fingerprint(dir), before, 'a spec change does not make the copy stale');

  for (const change of [
    () => write(path.join(dir, 'src/a.ts'), 'export const a = 22;\n'),
    () => write(path.join(dir, 'src/lib/b.ts'), 'export {};\n'),
    () => fs.rmSync(path.join(dir, 'src/lib/b.ts')),
  ]) {
    const prev = fingerprint(dir);
    change();
    assert.notEqual(fingerprint(dir), prev);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the loader runs the compiled copy while it is current and the source once it is not', () => {
  const { ws, source, install } = fakeInstall('loader', 'src/which', "export const which: string = 'source';\n", "exports.which = 'compiled';\n");
  const load = (env = {}) => {
    const script = `const m = require(${JSON.stringify(path.join(install, 'dev/loader.js'))}).load('src/which'); console.log(m.which);`;
    const r = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, NX_SWARM_FROM_SOURCE: '', ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return { which: r.stdout.trim(), warning: r.stderr };
  };

  assert.deepEqual(load(), { which: 'compiled', warning: '' });
  assert.equal(load({ NX_SWARM_FROM_SOURCE: 'true' }).which, 'source', 'NX_SWARM_FROM_SOURCE=true forces the source');
  write(path.join(source, 'src/which.ts'), "export const which: string = 'source, edited';\n");
  const stale = load();
  assert.equal(stale.which, 'source, edited', 'an edited source is never shadowed by the stale copy');
  assert.match(stale.warning, /changed after node_modules\/nx-swarm was built.*npm run bootstrap/s);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('the plugin entry reloads the source in a long-lived process (the Nx daemon) once it changes', () => {
  const entry = (what) =>
    `export const createNodes = ['**/marker.json', () => '${what}'] as const;\nexport const createNodesV2 = createNodes;\nexport const other = 1;\n`;
  const { ws, source, install } = fakeInstall(
    'entry',
    'src/index',
    entry('source'),
    "exports.createNodes = ['**/marker.json', () => 'compiled'];\nexports.createNodesV2 = exports.createNodes;\nexports.other = 1;\n",
  );
  const index = path.join(source, 'src/index.ts');
  const script = `
    const fs = require('node:fs');
    const m = require(${JSON.stringify(path.join(install, 'dev/loader.js'))}).loadPluginEntry('src/index');
    const seen = [m.createNodes[0], m.other, m.createNodes[1]()];
    fs.writeFileSync(${JSON.stringify(index)}, ${JSON.stringify(entry('source, first edit'))});
    seen.push(m.createNodes[1]());
    fs.writeFileSync(${JSON.stringify(index)}, ${JSON.stringify(entry('source, second edit, longer'))});
    seen.push(m.createNodesV2[1](), m.createNodes[1]());
    console.log(JSON.stringify(seen));`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, NX_SWARM_FROM_SOURCE: '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    '**/marker.json',
    1,
    'compiled',
    'source, first edit',
    'source, second edit, longer',
    'source, second edit, longer',
  ]);
  fs.rmSync(ws, { recursive: true, force: true });
});
