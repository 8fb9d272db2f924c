/*
 * loadDockerode in a Node process of its own (jest has a module registry of its own, without
 * require.cache): the module compiled with TypeScript's transpiler into a temp folder, dockerode
 * resolved from this repository's node_modules. No engine is needed: nothing connects.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

const NODE_MODULES = path.resolve(__dirname, '../../../../../node_modules');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-dockerode-lean-'));
  const source = fs.readFileSync(path.join(__dirname, 'dockerode-lean.ts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  fs.writeFileSync(path.join(dir, 'dockerode-lean.js'), js.outputText);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `body` after `const lean = require('./dockerode-lean')`; prints what `body` returns as JSON. */
function inChild(body: string): Record<string, unknown> {
  const script = `const lean = require(${JSON.stringify(path.join(dir, 'dockerode-lean.js'))});
const loaded = (name) => Object.keys(require.cache).some((f) => f.includes(\`/node_modules/\${name}/\`));
Promise.resolve((() => { ${body} })()).then((r) => process.stdout.write(JSON.stringify(r)));`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: NODE_MODULES }, encoding: 'utf8' });
  return JSON.parse(out) as Record<string, unknown>;
}

describe('loadDockerode', () => {
  it('loads dockerode without grpc (its BuildKit session) and ssh2 (its ssh transport)', () => {
    const r = inChild(`
      const Docker = lean.loadDockerode();
      const docker = new Docker({ socketPath: '/nonexistent.sock', version: 'v1.41' });
      return { ctor: typeof Docker, ping: typeof docker.ping, deferred: lean.deferredModules.map((f) => f.split('node_modules/')[1]),
               grpc: loaded('@grpc/grpc-js'), protoLoader: loaded('@grpc/proto-loader'), ssh2: loaded('ssh2'), dockerode: loaded('dockerode') };`);
    expect(r).toEqual({
      ctor: 'function',
      ping: 'function',
      deferred: ['dockerode/lib/session.js', 'docker-modem/lib/ssh.js'],
      grpc: false,
      protoLoader: false,
      ssh2: false,
      dockerode: true,
    });
  });

  it('a deferred module loads on its first call and then behaves as the real one', () => {
    const r = inChild(`
      lean.loadDockerode();
      const sshPath = lean.deferredModules.find((f) => f.endsWith('docker-modem/lib/ssh.js'));
      const viaModem = require(sshPath);
      const agent = viaModem({ host: '127.0.0.1' });
      const again = viaModem({ host: '127.0.0.1' });
      return { agent: agent.constructor.name, again: again.constructor.name, ssh2: loaded('ssh2'),
               realCached: require.cache[sshPath].exports !== viaModem };`);
    expect(r).toEqual({ agent: 'Agent', again: 'Agent', ssh2: true, realCached: true });
  });

  it('changes nothing when dockerode is already loaded', () => {
    const r = inChild(`
      require('dockerode');
      const Docker = lean.loadDockerode();
      return { same: Docker === require('dockerode'), deferred: lean.deferredModules.length, grpc: loaded('@grpc/grpc-js') };`);
    expect(r).toEqual({ same: true, deferred: 0, grpc: true });
  });
});
