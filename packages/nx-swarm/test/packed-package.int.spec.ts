/**
 * The package as it would be published: `npm pack` of dist/packages/nx-swarm (what
 * `nx run nx-swarm:build` produces), unpacked into node_modules/nx-swarm of a new workspace that
 * has nothing else of ours (no packages/, no tsconfig paths, no loader wrappers), the way a user
 * installs it. Then, through the real nx CLI: the generator scaffolds a service and registers the
 * plugin, the inferred targets appear, and build, image, a dry-run deploy and undeploy run from the
 * packed JavaScript. The workspace's other node_modules entries are links to this repository's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { nxCliEnv, runNx } from './support/nx-cli';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const DIST = path.join(WORKSPACE_ROOT, 'dist/packages/nx-swarm');
const ID = `${process.pid}`;
const NAME = `nxswarm-packed-${ID}`;
const REPOSITORY = `someprefix/${NAME}`;

let ws: string;
let packDir: string;
let packedFiles: string[];

const nx = (...args: string[]) => runNx(ws, ...args);

beforeAll(async () => {
  if (!fs.existsSync(path.join(DIST, 'package.json'))) {
    await execa(path.join(WORKSPACE_ROOT, 'node_modules/.bin/nx'), ['run', 'nx-swarm:build'], {
      cwd: WORKSPACE_ROOT,
      env: nxCliEnv(),
      extendEnv: false,
    });
  }
  packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-pack-'));
  const { stdout } = await execa('npm', ['pack', DIST, '--pack-destination', packDir, '--json', '--loglevel=error']);
  const [pack] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packedFiles = pack.files.map((f) => f.path);
  await execa('tar', ['-xzf', path.join(packDir, pack.filename), '-C', packDir]);

  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-packed-ws-'));
  fs.writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ name: 'packed-ws', private: true }, null, 2) + '\n');
  fs.writeFileSync(path.join(ws, 'nx.json'), JSON.stringify({ $schema: './node_modules/nx/schemas/nx-schema.json' }, null, 2) + '\n');
  fs.writeFileSync(path.join(ws, '.gitignore'), 'node_modules\ndist\n.nx\n');
  const modules = path.join(ws, 'node_modules');
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(path.join(WORKSPACE_ROOT, 'node_modules'))) {
    if (entry === 'nx-swarm' || entry === '.package-lock.json') continue;
    fs.symlinkSync(path.join(WORKSPACE_ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  fs.renameSync(path.join(packDir, 'package'), path.join(modules, 'nx-swarm'));
}, 120_000);

afterAll(async () => {
  await execa('docker', ['service', 'rm', NAME], { reject: false });
  const { stdout } = await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', REPOSITORY], { reject: false });
  const refs = stdout.split('\n').filter(Boolean);
  if (refs.length) await execa('docker', ['image', 'rm', '-f', ...refs], { reject: false });
  for (const dir of [ws, packDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the packed nx-swarm package in a workspace of its own (real nx CLI)', () => {
  it('holds compiled JavaScript, the schemas and the manifests, and no tests or TypeScript sources', () => {
    const executors = JSON.parse(fs.readFileSync(path.join(ws, 'node_modules/nx-swarm/executors.json'), 'utf8')).executors;
    const generators = JSON.parse(fs.readFileSync(path.join(ws, 'node_modules/nx-swarm/generators.json'), 'utf8')).generators;
    expect(Object.keys(executors).sort()).toEqual([
      'docker-image',
      'go-cross-build',
      'go-serve',
      'go-tidy',
      'swarm-deploy',
      'swarm-rollback',
      'swarm-service-rm',
    ]);
    const wanted = [
      'package.json',
      'README.md',
      'src/index.js',
      ...Object.values<{ implementation: string; schema: string }>(executors).flatMap((e) => [
        `${e.implementation.replace(/^\.\//, '')}.js`,
        e.schema.replace(/^\.\//, ''),
      ]),
      ...Object.values<{ factory: string; schema: string }>(generators).flatMap((g) => [
        `${g.factory.replace(/^\.\//, '')}.js`,
        g.schema.replace(/^\.\//, ''),
      ]),
    ];
    for (const file of wanted) expect(packedFiles).toContain(file);
    expect(packedFiles.filter((f) => /\.spec\.|(^|\/)test\/|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  });

  it('nx g nx-swarm:go-service scaffolds a service and registers the plugin', async () => {
    const r = await nx('g', 'nx-swarm:go-service', NAME, '--no-interactive');
    expect(r.exitCode).toBe(0);
    expect(r.all).toContain(`CREATE apps/${NAME}/Dockerfile`);
    // The shared Go module the service imports, and the go.work that ties them together.
    expect(r.all).toContain('CREATE libs/go/common/go.mod');
    expect(fs.readFileSync(path.join(ws, 'go.work'), 'utf8')).toContain(`./apps/${NAME}`);
    const nxJson = JSON.parse(fs.readFileSync(path.join(ws, 'nx.json'), 'utf8'));
    expect(nxJson.plugins).toEqual([{ plugin: 'nx-swarm', exclude: ['**/test/fixtures/**'] }]);
  });

  it('infers build → image → deploy and undeploy from the packed plugin', async () => {
    const r = await nx('show', 'project', NAME, '--json');
    expect(r.exitCode).toBe(0);
    const { targets } = JSON.parse(r.stdout);
    expect(Object.fromEntries(Object.entries<{ executor: string }>(targets).map(([name, t]) => [name, t.executor]))).toEqual({
      build: 'nx-swarm:go-cross-build',
      test: 'nx:run-commands',
      vet: 'nx:run-commands',
      tidy: 'nx-swarm:go-tidy',
      serve: 'nx-swarm:go-serve',
      image: 'nx-swarm:docker-image',
      deploy: 'nx-swarm:swarm-deploy',
      rollback: 'nx-swarm:swarm-rollback',
      undeploy: 'nx-swarm:swarm-service-rm',
    });
  });

  it('builds the binaries and the image with the packed executors', async () => {
    const r = await nx('run', `${NAME}:image`);
    expect(r.exitCode).toBe(0);
    expect(r.all).toMatch(/Built \d+ binar(y|ies) in/);
    expect(r.all).toMatch(new RegExp(`✔ ${REPOSITORY}:c-[0-9a-f]{12} built`));
    const { stdout } = await execa('docker', ['image', 'inspect', '--format', '{{.Config.User}}', `${REPOSITORY}:latest`]);
    expect(stdout.trim()).not.toBe('');
  });

  it('plans a deploy without writing (dryRun) and undeploys what is not there', async () => {
    const plan = await nx('run', `${NAME}:deploy`, '--configuration=host', '--dryRun');
    expect(plan.exitCode).toBe(0);
    expect(plan.all).toMatch(new RegExp(`Plan: create service ${NAME} from ${REPOSITORY}:c-[0-9a-f]{12}`));
    await expect(execa('docker', ['service', 'inspect', NAME])).rejects.toThrow();
    const rm = await nx('run', `${NAME}:undeploy`);
    expect(rm.exitCode).toBe(0);
  });
});
