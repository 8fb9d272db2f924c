import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDependencies, createNodes, createNodesV2 } from './plugin';
import { clearGoFileMemo } from './go-graph/workspace-files';
import { closeModuleWalkers } from './go-graph/module-walker';
import { RACY_WINDOW_MS } from './go-graph/scan-memo';
import {
  DEFAULT_DEPLOY_CONFIGURATIONS,
  GO_BUILD_INPUTS,
  GO_PRODUCTION_INPUTS,
  GO_TEST_INPUTS,
  inferGoLibraryProject,
  inferGoServiceProject,
  isCandidateGoMod,
  normalizePluginOptions,
  projectNameFor,
  replacesInferredTarget,
  type NxSwarmPluginOptions,
} from './go-service-targets';
import { logger, type CreateDependenciesContext, type CreateNodesContext, type FileData, type TargetConfiguration } from '@nx/devkit';

// existsSync counted (and still real): what createNodes looks at in the module folders.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...actual, existsSync: jest.fn(actual.existsSync) };
});
const existsSync = fs.existsSync as jest.MockedFunction<typeof fs.existsSync>;

const WORKSPACE_INPUTS = { default: [], production: [], goBuild: [], goTest: [] };

describe('normalizePluginOptions', () => {
  it('fills in the defaults', () => {
    expect(normalizePluginOptions(undefined)).toEqual({
      targetNames: {
        build: 'build',
        test: 'test',
        vet: 'vet',
        tidy: 'tidy',
        serve: 'serve',
        image: 'image',
        deploy: 'deploy',
        undeploy: 'undeploy',
        rollback: 'rollback',
      },
      platforms: ['linux/amd64'],
      imagePlatform: 'linux/amd64',
      buildOptions: {},
      testCommand: 'go test -count=1 ./...',
      imageOptions: {},
      deployOptions: {},
      deployConfigurations: DEFAULT_DEPLOY_CONFIGURATIONS,
      undeployOptions: {},
      outputDir: 'dist/{projectRoot}',
    });
  });

  it.each<[string, NxSwarmPluginOptions, Partial<ReturnType<typeof normalizePluginOptions>>]>([
    [
      'renamed targets',
      { buildTargetName: 'go-build', imageTargetName: 'docker:build', deployTargetName: 'swarm:deploy' },
      {
        targetNames: {
          build: 'go-build',
          test: 'test',
          vet: 'vet',
          tidy: 'tidy',
          serve: 'serve',
          image: 'docker:build',
          deploy: 'swarm:deploy',
          undeploy: 'undeploy',
          rollback: 'rollback',
        },
      },
    ],
    [
      'targets switched off',
      { deployTargetName: false, undeployTargetName: false, testTargetName: false, rollbackTargetName: false },
      {
        targetNames: {
          build: 'build',
          test: undefined,
          vet: 'vet',
          tidy: 'tidy',
          serve: 'serve',
          image: 'image',
          deploy: undefined,
          undeploy: undefined,
          rollback: undefined,
        },
      },
    ],
    [
      'nx-go keeps the Go targets',
      { leaveGoTargetsTo: 'nx-go' },
      {
        targetNames: {
          build: 'cross-build',
          test: undefined,
          vet: undefined,
          tidy: undefined,
          serve: undefined,
          image: 'image',
          deploy: 'deploy',
          undeploy: 'undeploy',
          rollback: 'rollback',
        },
      },
    ],
    [
      'nx-go with an explicit build name',
      { leaveGoTargetsTo: 'nx-go', buildTargetName: 'linux-build' },
      {
        targetNames: {
          build: 'linux-build',
          test: undefined,
          vet: undefined,
          tidy: undefined,
          serve: undefined,
          image: 'image',
          deploy: 'deploy',
          undeploy: 'undeploy',
          rollback: 'rollback',
        },
      },
    ],
    ['image platform added to the build platforms', { platforms: ['linux/arm64'] }, { platforms: ['linux/arm64', 'linux/amd64'] }],
    [
      'arm image platform',
      { platforms: ['linux/arm/v7'], imagePlatform: 'linux/arm/v7' },
      { platforms: ['linux/arm/v7'], imagePlatform: 'linux/arm/v7' },
    ],
    ['deploy configurations replaced', { deployConfigurations: { prod: { replicas: 3 } } }, { deployConfigurations: { prod: { replicas: 3 } } }],
    ['no deploy configurations', { deployConfigurations: {} }, { deployConfigurations: {} }],
  ])('%s', (_title, options, expected) => {
    expect(normalizePluginOptions(options)).toMatchObject(expected);
  });

  it.each<[string, NxSwarmPluginOptions, RegExp]>([
    ['a target name with a space', { buildTargetName: 'go build' }, /buildTargetName must be a target name/],
    ['a non-string target name', { imageTargetName: 3 as unknown as string }, /imageTargetName must be a target name/],
    ['two targets with one name', { imageTargetName: 'build' }, /can't share the name "build"/],
    ['an image without a build', { buildTargetName: false }, /image target needs the build target/],
    ['a deploy without an image', { imageTargetName: false }, /deploy target needs the image target/],
    ['an empty platform list', { platforms: [] }, /platforms must be a non-empty array/],
    ['a malformed platform', { platforms: ['linux'] }, /"linux" is not a Go target/],
    ['a non-linux image', { platforms: ['darwin/arm64'], imagePlatform: 'darwin/arm64' }, /imagePlatform must be a linux platform/],
    ['options that are not objects', { deployOptions: ['x'] as unknown as Record<string, unknown> }, /deployOptions must be an object/],
    ['a configuration that is not an object', { deployConfigurations: { host: 'dnsrr' } as never }, /deployConfigurations must map/],
    ['an empty test command', { testCommand: ' ' }, /testCommand must be a non-empty command/],
    ['an unknown leaveGoTargetsTo', { leaveGoTargetsTo: 'gonx' as 'nx-go' }, /leaveGoTargetsTo must be "nx-go"/],
    ['a vet target named like the build', { vetTargetName: 'build' }, /can't share the name "build"/],
  ])('rejects %s, naming the field', (_title, options, message) => {
    expect(() => normalizePluginOptions(options)).toThrow(message);
    expect(() => normalizePluginOptions(options)).toThrow(/nx-swarm plugin options in nx.json/);
  });

  it('lists every problem at once', () => {
    expect(() => normalizePluginOptions({ buildTargetName: 'a b', platforms: ['x'] })).toThrow(/buildTargetName[\s\S]*"x" is not a Go target/);
  });
});

describe('inferGoServiceProject', () => {
  const facts = { projectRoot: 'apps/quotes-service', hasProjectJson: false, projectName: 'quotes-service', namedInputs: WORKSPACE_INPUTS };
  const project = inferGoServiceProject(facts, normalizePluginOptions({}));

  it('names a project without project.json after its folder', () => {
    expect(project).toMatchObject({ root: 'apps/quotes-service', name: 'quotes-service', projectType: 'application' });
  });

  it('leaves the name to project.json when there is one', () => {
    expect(inferGoServiceProject({ ...facts, hasProjectJson: true }, normalizePluginOptions({}))).not.toHaveProperty('name');
  });

  it.each([
    ['build', 'nx-swarm:go-cross-build', true, undefined, ['goBuild', '^production']],
    ['test', 'nx:run-commands', true, undefined, ['goTest', '^production']],
    ['vet', 'nx:run-commands', true, undefined, ['goTest', '^production']],
    ['tidy', 'nx-swarm:go-tidy', false, undefined, undefined],
    ['serve', 'nx-swarm:go-serve', undefined, undefined, undefined],
    ['image', 'nx-swarm:docker-image', true, ['build'], ['default', { dependentTasksOutputFiles: '**/*-linux-*', transitive: false }]],
    ['deploy', 'nx-swarm:swarm-deploy', true, ['image'], [{ dependentTasksOutputFiles: '**/image-id.json', transitive: false }]],
    ['undeploy', 'nx-swarm:swarm-service-rm', false, undefined, undefined],
  ])('%s: %s, cache %s, dependsOn %j, inputs %j', (name, executor, cache, dependsOn, inputs) => {
    const t = project.targets![name];
    expect(t.executor).toBe(executor);
    expect(t.cache).toBe(cache);
    expect(t.dependsOn).toEqual(dependsOn);
    expect(t.inputs).toEqual(inputs);
    expect(t.metadata?.description).toEqual(expect.any(String));
    expect(t.metadata?.technologies?.length).toBeGreaterThan(0);
    expect(t.metadata?.help?.command).toEqual(expect.any(String));
  });

  it('wires the build output into the image context and the cached outputs', () => {
    expect(project.targets!.build.outputs).toEqual(['{options.outputPath}']);
    expect(project.targets!.build.options).toEqual({ outputPath: 'dist/{projectRoot}', targets: ['linux/amd64'] });
    expect(project.targets!.image.options).toEqual({
      files: [{ from: 'dist/{projectRoot}/{projectName}-linux-amd64', to: '{projectName}-linux-amd64' }],
    });
    expect(project.targets!.test.options).toEqual({
      command: 'go test -count=1 ./...',
      cwd: '{projectRoot}',
      env: { GOTOOLCHAIN: 'local' },
    });
  });

  it('serve is continuous; tidy has a check configuration', () => {
    expect(project.targets!.serve.continuous).toBe(true);
    expect(project.targets!.tidy.configurations).toEqual({ check: { check: true } });
    expect(project.targets!.vet.options.command).toBe('go vet ./...');
  });

  it("defines the module's production input as its non-test Go files, go.mod and go.sum (what ^production of a dependent hashes)", () => {
    expect(project.namedInputs).toEqual({ production: GO_PRODUCTION_INPUTS });
    expect(GO_PRODUCTION_INPUTS).toContain('!{projectRoot}/**/*_test.go');
  });

  it.each<[string, string[] | undefined, string[] | undefined, unknown[]]>([
    ['no graph facts: every dependency (^production)', undefined, undefined, ['goBuild', '^production']],
    [
      'the modules its binaries compile in, and implicit dependencies',
      ['common', 'util'],
      ['nx-swarm'],
      ['goBuild', { input: 'production', projects: ['common', 'nx-swarm', 'util'] }],
    ],
    ['nothing compiled in: only its own files', [], undefined, ['goBuild']],
    ['an implicit dependency that is also compiled in, once', ['common'], ['common'], ['goBuild', { input: 'production', projects: ['common'] }]],
  ])('build inputs, %s', (_t, buildDeps, implicitDependencies, inputs) => {
    const p = inferGoServiceProject(
      { ...facts, implicitDependencies, goModule: buildDeps === undefined ? undefined : { diagnostics: [], buildDeps } },
      normalizePluginOptions({}),
    );
    expect(p.targets!.build.inputs).toEqual(inputs);
    // Tests compile test-only imports too: every dependency.
    expect(p.targets!.test.inputs).toEqual(['goTest', '^production']);
  });

  // Without a production input in nx.json (a workspace that never defined one) the Go modules still
  // have their own, so a library's _test.go stays out of the build's hash; only projects that may
  // lack it (implicit dependencies outside the Go closure) fall back to default.
  it.each<[string, string[], string[] | undefined, unknown[]]>([
    ['Go modules: their own production input', ['common', 'util'], undefined, ['goBuild', { input: 'production', projects: ['common', 'util'] }]],
    [
      'an implicit dependency outside the Go closure: default',
      ['common'],
      ['web', 'common'],
      ['goBuild', { input: 'production', projects: ['common'] }, { input: 'default', projects: ['web'] }],
    ],
    ['only implicit dependencies', [], ['web'], ['goBuild', { input: 'default', projects: ['web'] }]],
  ])('build inputs when nx.json has no production input, %s', (_t, buildDeps, implicitDependencies, inputs) => {
    const p = inferGoServiceProject(
      { ...facts, namedInputs: { goBuild: WORKSPACE_INPUTS.goBuild }, implicitDependencies, goModule: { diagnostics: [], buildDeps } },
      normalizePluginOptions({}),
    );
    expect(p.targets!.build.inputs).toEqual(inputs);
  });

  it("never caches the Go targets of a module whose replace can't be hashed, and says why", () => {
    const p = inferGoServiceProject(
      {
        ...facts,
        goModule: {
          path: 'example.com/svc',
          diagnostics: [{ kind: 'outside-workspace', file: 'apps/quotes-service/go.mod', line: 7, unhashable: true, message: 'outside!' }],
        },
      },
      normalizePluginOptions({}),
    );
    expect([p.targets!.build.cache, p.targets!.test.cache, p.targets!.vet.cache]).toEqual([false, false, false]);
    expect(p.targets!.build.metadata!.description).toMatch(/not cached: a replace Nx can't hash, apps\/quotes-service\/go.mod:7/);
    expect(p.metadata).toMatchObject({ goModule: { path: 'example.com/svc', warnings: ['outside!'] } });
  });

  it('gives deploy the host configuration for engines without IPVS', () => {
    expect(project.targets!.deploy.configurations).toEqual({ host: { endpointMode: 'dnsrr' } });
  });

  it('shows the real project name in the help command (Nx does not resolve tokens in metadata)', () => {
    expect(project.targets!.deploy.metadata!.help!.command).toBe('npx nx run quotes-service:deploy --help');
  });

  it('groups the targets for Nx Console', () => {
    expect(project.metadata).toEqual({
      technologies: ['go', 'docker'],
      targetGroups: { 'Go service (nx-swarm)': ['build', 'test', 'vet', 'tidy', 'serve', 'image', 'deploy', 'rollback', 'undeploy'] },
    });
  });

  it.each([
    ['nx.json has none of them', {}, { production: GO_PRODUCTION_INPUTS, goBuild: GO_BUILD_INPUTS, goTest: GO_TEST_INPUTS }, '^default'],
    ['nx.json has goTest only', { goTest: [] }, { production: GO_PRODUCTION_INPUTS, goBuild: GO_BUILD_INPUTS }, '^default'],
    ['nx.json has all three', WORKSPACE_INPUTS, { production: GO_PRODUCTION_INPUTS }, '^production'],
  ])(
    'names goBuild/goTest in the targets, defining them on the project when %s (never a named input that does not exist)',
    (_what, namedInputs, own, deps) => {
      const p = inferGoServiceProject({ ...facts, namedInputs }, normalizePluginOptions({}));
      expect(p.namedInputs).toEqual(own);
      expect(p.targets!.build.inputs).toEqual(['goBuild', deps]);
      expect(p.targets!.test.inputs).toEqual(['goTest', deps]);
      const lib = inferGoLibraryProject({ ...facts, namedInputs }, normalizePluginOptions({}));
      expect(lib.namedInputs).toEqual({ production: GO_PRODUCTION_INPUTS, ...('goTest' in own ? { goTest: GO_TEST_INPUTS } : {}) });
    },
  );

  it('applies renamed targets, extra options and platforms', () => {
    const p = inferGoServiceProject(
      facts,
      normalizePluginOptions({
        buildTargetName: 'go-build',
        imageTargetName: 'docker',
        platforms: ['linux/amd64', 'linux/arm64'],
        imagePlatform: 'linux/arm64',
        imageOptions: { repository: 'registry.example.com/team/{projectName}' },
        deployOptions: { networks: ['backend'] },
        deployConfigurations: {},
        undeployTargetName: false,
      }),
    );
    expect(Object.keys(p.targets!)).toEqual(['go-build', 'test', 'vet', 'tidy', 'serve', 'docker', 'deploy', 'rollback']);
    expect(p.targets!.docker.dependsOn).toEqual(['go-build']);
    expect(p.targets!.deploy.dependsOn).toEqual(['docker']);
    expect(p.targets!['go-build'].options.targets).toEqual(['linux/amd64', 'linux/arm64']);
    expect(p.targets!.docker.options).toEqual({
      files: [{ from: 'dist/{projectRoot}/{projectName}-linux-arm64', to: '{projectName}-linux-arm64' }],
      repository: 'registry.example.com/team/{projectName}',
    });
    expect(p.targets!.deploy.options).toEqual({ networks: ['backend'] });
    expect(p.targets!.deploy).not.toHaveProperty('configurations');
    expect(p.metadata!.targetGroups).toEqual({
      'Go service (nx-swarm)': ['go-build', 'test', 'vet', 'tidy', 'serve', 'docker', 'deploy', 'rollback'],
    });
  });

  it('leaves technologies to project.json targets that set them (Nx concatenates metadata arrays)', () => {
    const p = inferGoServiceProject(
      { ...facts, hasProjectJson: true, explicitTargets: { build: { metadata: { technologies: ['go'] } }, deploy: { options: {} } } },
      normalizePluginOptions({}),
    );
    expect(p.targets!.build.metadata).not.toHaveProperty('technologies');
    expect(p.targets!.build.metadata!.description).toEqual(expect.any(String));
    expect(p.targets!.deploy.metadata!.technologies).toEqual(['docker']);
  });

  it('adds no metadata to targets project.json replaces (another executor or command)', () => {
    const p = inferGoServiceProject(
      {
        ...facts,
        hasProjectJson: true,
        explicitTargets: {
          test: { executor: 'nx:run-commands', options: { commands: ['go test ./...', 'tsc -p web'] } },
          build: { command: 'make build' },
          image: { executor: 'nx:run-commands', options: { command: 'docker build .' } },
          deploy: { options: { replicas: 2 } },
        },
      },
      normalizePluginOptions({}),
    );
    expect(p.targets!.test).not.toHaveProperty('metadata');
    expect(p.targets!.build).not.toHaveProperty('metadata');
    expect(p.targets!.image).not.toHaveProperty('metadata');
    expect(p.targets!.deploy.metadata!.description).toEqual(expect.any(String));
  });

  it.each<[string, TargetConfiguration, TargetConfiguration, boolean]>([
    ['same executor', { executor: 'nx-swarm:docker-image' }, { executor: 'nx-swarm:docker-image' }, false],
    ['no executor (refines)', { options: { push: true } }, { executor: 'nx-swarm:docker-image' }, false],
    ['another executor', { executor: '@nx/docker:build' }, { executor: 'nx-swarm:docker-image' }, true],
    ['command sugar', { command: 'make' }, { executor: 'nx-swarm:go-cross-build' }, true],
    [
      'same command',
      { executor: 'nx:run-commands', options: { command: 'go test ./...' } },
      { executor: 'nx:run-commands', options: { command: 'go test ./...' } },
      false,
    ],
    [
      'other command',
      { executor: 'nx:run-commands', options: { command: 'go test -race ./...' } },
      { executor: 'nx:run-commands', options: { command: 'go test ./...' } },
      true,
    ],
    [
      'commands list',
      { executor: 'nx:run-commands', options: { commands: ['go test ./...', 'tsc'] } },
      { executor: 'nx:run-commands', options: { command: 'go test ./...' } },
      true,
    ],
    ['run-commands options only', { options: { env: { A: '1' } } }, { executor: 'nx:run-commands', options: { command: 'go test ./...' } }, false],
  ])('replacesInferredTarget: %s', (_t, explicit, inferred, expected) => {
    expect(replacesInferredTarget(explicit, inferred)).toBe(expected);
  });

  it('declares the image receipt as the image output', () => {
    expect(project.targets!.image.outputs).toEqual([
      '{workspaceRoot}/dist/{projectRoot}/image.json',
      '{workspaceRoot}/dist/{projectRoot}/image-id.json',
    ]);
  });

  it('does not share the configurations object between projects', () => {
    const a = inferGoServiceProject(facts, normalizePluginOptions({}));
    a.targets!.deploy.configurations!.host.endpointMode = 'vip';
    expect(DEFAULT_DEPLOY_CONFIGURATIONS.host.endpointMode).toBe('dnsrr');
  });
});

describe('inferGoLibraryProject', () => {
  const facts = { projectRoot: 'libs/go/common', hasProjectJson: false, projectName: 'common', namedInputs: WORKSPACE_INPUTS };

  it('gives a library module test, vet and tidy, and no build or container targets', () => {
    const p = inferGoLibraryProject(facts, normalizePluginOptions({}));
    expect(p).toMatchObject({ root: 'libs/go/common', name: 'common', projectType: 'library', namedInputs: { production: GO_PRODUCTION_INPUTS } });
    expect(Object.keys(p.targets!)).toEqual(['test', 'vet', 'tidy']);
    expect(p.metadata!.targetGroups).toEqual({ 'Go module (nx-swarm)': ['test', 'vet', 'tidy'] });
  });

  it('with nx-go keeping the Go targets, a library gets none of its own (but stays a project)', () => {
    const p = inferGoLibraryProject(facts, normalizePluginOptions({ leaveGoTargetsTo: 'nx-go' }));
    expect(p.targets).toEqual({});
    expect(p.root).toBe('libs/go/common');
  });
});

describe('inferGoServiceProject next to nx-go', () => {
  it('infers cross-build and the container targets only; image depends on cross-build', () => {
    const p = inferGoServiceProject(
      { projectRoot: 'svc', hasProjectJson: false, projectName: 'svc', namedInputs: WORKSPACE_INPUTS },
      normalizePluginOptions({ leaveGoTargetsTo: 'nx-go' }),
    );
    expect(Object.keys(p.targets!)).toEqual(['cross-build', 'image', 'deploy', 'rollback', 'undeploy']);
    expect(p.targets!.image.dependsOn).toEqual(['cross-build']);
    // Its own folder: nx-go's build writes the FILE dist/{projectRoot}.
    expect(p.targets!['cross-build'].options.outputPath).toBe('dist/nx-swarm/{projectRoot}');
    expect(p.targets!.image.options).toMatchObject({
      outputDir: 'dist/nx-swarm/{projectRoot}',
      files: [{ from: 'dist/nx-swarm/{projectRoot}/{projectName}-linux-amd64' }],
    });
    expect(p.targets!.image.outputs).toEqual([
      '{workspaceRoot}/dist/nx-swarm/{projectRoot}/image.json',
      '{workspaceRoot}/dist/nx-swarm/{projectRoot}/image-id.json',
    ]);
    expect(p.targets!.deploy.options.outputDir).toBe('dist/nx-swarm/{projectRoot}');
    expect(p.targets!.rollback.options.outputDir).toBe('dist/nx-swarm/{projectRoot}');
  });
});

describe('file helpers', () => {
  it.each([
    ['apps/quotes-service', 'quotes-service'],
    ['accountservice', 'accountservice'],
    ['services/a/b/', 'b'],
  ])('projectNameFor(%s) = %s', (root, name) => expect(projectNameFor(root)).toBe(name));

  it.each([
    ['apps/x/go.mod', true],
    ['go.mod', true],
    ['apps/x/testdata/svc/go.mod', false],
    ['apps/x/vendor/github.com/y/go.mod', false],
    ['node_modules/pkg/go.mod', false],
  ])('isCandidateGoMod(%s) = %s', (file, ok) => expect(isCandidateGoMod(file)).toBe(ok));
});

describe('createNodes (on a real folder)', () => {
  let root: string;
  // The Go file list comes from Nx's workspace context: this folder's own, not a daemon's.
  const daemon = process.env.NX_DAEMON;
  beforeAll(() => void (process.env.NX_DAEMON = 'false'));
  afterAll(() => (daemon === undefined ? delete process.env.NX_DAEMON : (process.env.NX_DAEMON = daemon)));
  const write = (file: string, text = '') => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  const context = (): CreateNodesContext => ({
    workspaceRoot: root,
    nxJsonConfiguration: { namedInputs: WORKSPACE_INPUTS },
  });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-plugin-'));
    write('apps/quotes-service/go.mod', 'module example.com/quotes\n');
    write('apps/quotes-service/Dockerfile', 'FROM scratch\n');
    write('accountservice/go.mod', 'module example.com/accounts\n');
    write('accountservice/Dockerfile', 'FROM scratch\n');
    write('accountservice/project.json', JSON.stringify({ name: 'accounts', targets: { build: { metadata: { technologies: ['go'] } } } }));
    write('tools/loadgen/go.mod', 'module example.com/loadgen\n'); // no Dockerfile: a tool, not a service
    write('apps/quotes-service/testdata/x/go.mod', '');
    write('apps/quotes-service/testdata/x/Dockerfile', '');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('exports createNodesV2 as an alias of createNodes, matching **/go.mod', () => {
    expect(createNodesV2).toBe(createNodes);
    expect(createNodes[0]).toBe('**/go.mod');
  });

  it('makes every go.mod a project: services with a Dockerfile, the others libraries', async () => {
    const files = ['apps/quotes-service/go.mod', 'accountservice/go.mod', 'tools/loadgen/go.mod', 'apps/quotes-service/testdata/x/go.mod'];
    const results = await createNodes[1](files, {}, context());
    const projects = Object.fromEntries(results.map(([file, r]) => [file, r.projects ? Object.keys(r.projects) : []]));
    expect(projects).toEqual({
      'apps/quotes-service/go.mod': ['apps/quotes-service'],
      'accountservice/go.mod': ['accountservice'],
      'tools/loadgen/go.mod': ['tools/loadgen'],
      'apps/quotes-service/testdata/x/go.mod': [],
    });
    const [, loadgen] = results[2];
    expect(loadgen.projects!['tools/loadgen']).toMatchObject({ name: 'loadgen', projectType: 'library' });
    expect(Object.keys(loadgen.projects!['tools/loadgen'].targets!)).toEqual(['test', 'vet', 'tidy']);
    const [, quotes] = results[0];
    expect(quotes.projects!['apps/quotes-service'].name).toBe('quotes-service');
    const [, accounts] = results[1];
    expect(accounts.projects!.accountservice).not.toHaveProperty('name');
    expect(accounts.projects!.accountservice.targets!.deploy.metadata!.help!.command).toBe('npx nx run accounts:deploy --help');
    expect(accounts.projects!.accountservice.targets!.build.metadata).not.toHaveProperty('technologies');
  });

  it("warns once about a replace it can't hash, and never caches that build", async () => {
    write('accountservice/go.mod', 'module example.com/accounts\n\nreplace example.com/common => /Users/someone/common\n');
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      const first = await createNodes[1](['accountservice/go.mod'], {}, context());
      await createNodes[1](['accountservice/go.mod'], {}, context());
      expect(first[0][1].projects!.accountservice.targets!.build.cache).toBe(false);
      const said = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('accountservice/go.mod:3'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/points outside the workspace.*Fix:/);
    } finally {
      warn.mockRestore();
    }
  });

  /** accountservice's binary imports common, its test testkit; testkit's test imports common. */
  async function serviceAndTwoLibraries() {
    write('go.work', 'go 1.25.0\n\nuse (\n\t./accountservice\n\t./libs/common\n\t./libs/testkit\n)\n');
    write('libs/common/go.mod', 'module example.com/common\n');
    write('libs/testkit/go.mod', 'module example.com/testkit\n');
    write('libs/testkit/kit_test.go', 'package testkit\n\nimport "example.com/common"\n');
    write('accountservice/main.go', 'package main\n\nimport "example.com/common/greet"\n');
    write('accountservice/main_test.go', 'package main\n\nimport "example.com/testkit"\n');
    return createNodes[1](['accountservice/go.mod', 'libs/common/go.mod', 'libs/testkit/go.mod'], {}, context());
  }

  it("puts the modules a service's binaries compile in into its build inputs (Go files from Nx's workspace context)", async () => {
    const results = await serviceAndTwoLibraries();
    expect(results[0][1].projects!.accountservice.targets!.build.inputs).toContainEqual({ input: 'production', projects: ['common'] });
  });

  it.each([
    // Before, test and vet hashed ^production here (every dependency in the graph), and ^default
    // in a workspace whose nx.json has no production input (every file of every dependency).
    ['accountservice', 'accountservice/go.mod', [{ input: 'production', projects: ['common', 'testkit'] }]],
    ['common (imports nothing of the workspace)', 'libs/common/go.mod', []],
    ['testkit, whose tests import common', 'libs/testkit/go.mod', [{ input: 'production', projects: ['common'] }]],
  ])('test and vet of %s hash the production files of the modules its tests compile in, test-only imports too', async (_what, goMod, deps) => {
    const results = await serviceAndTwoLibraries();
    const [, result] = results.find(([f]) => f === goMod)!;
    const project = Object.values(result.projects!)[0];
    for (const target of ['test', 'vet']) {
      const inputs = project.targets![target].inputs!;
      expect(inputs.filter((i) => typeof i === 'object' && 'input' in i)).toEqual(deps);
      expect(inputs).not.toContain('^default');
      expect(inputs).not.toContain('^production');
    }
  });

  describe('in the daemon (watching): what a module folder holds is read again only after a change there', () => {
    const watch = process.env.NX_SWARM_GO_WATCH;
    const realNow = Date.now.bind(Date);
    beforeEach(() => {
      process.env.NX_SWARM_GO_WATCH = 'true';
      // The files written by the test are "old": a racy module would be walked (and read) every time.
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + RACY_WINDOW_MS + 1000);
    });
    afterEach(() => {
      closeModuleWalkers();
      jest.restoreAllMocks();
      if (watch === undefined) delete process.env.NX_SWARM_GO_WATCH;
      else process.env.NX_SWARM_GO_WATCH = watch;
    });
    const FILES = ['apps/quotes-service/go.mod', 'accountservice/go.mod', 'tools/loadgen/go.mod'];
    const summary = async () => {
      const results = await createNodes[1](FILES, {}, context());
      return Object.fromEntries(
        results.map(([, r]) => {
          const [root, p] = Object.entries(r.projects!)[0];
          return [root, `${p.name ?? '(project.json)'} ${p.projectType} ${(p.metadata as { goModule?: { path?: string } }).goModule?.path}`];
        }),
      );
    };
    // Each row: what the user does, and the three projects then.
    const steps: [string, () => void, Record<string, string>][] = [
      [
        'nothing',
        () => undefined,
        {
          'apps/quotes-service': 'quotes-service application example.com/quotes',
          accountservice: '(project.json) application example.com/accounts',
          'tools/loadgen': 'loadgen library example.com/loadgen',
        },
      ],
      [
        'a Dockerfile added beside a library',
        () => write('tools/loadgen/Dockerfile', 'FROM scratch\n'),
        { 'tools/loadgen': 'loadgen application example.com/loadgen' },
      ],
      [
        "a go.mod's module path edited",
        () => write('tools/loadgen/go.mod', 'module example.com/loadgen/v2\n'),
        { 'tools/loadgen': 'loadgen application example.com/loadgen/v2' },
      ],
      [
        'a project.json added',
        () => write('apps/quotes-service/project.json', '{"name":"quotes"}'),
        { 'apps/quotes-service': '(project.json) application example.com/quotes' },
      ],
      [
        'that project.json removed',
        () => fs.rmSync(path.join(root, 'apps/quotes-service/project.json')),
        { 'apps/quotes-service': 'quotes-service application example.com/quotes' },
      ],
      [
        'the Dockerfile removed again',
        () => fs.rmSync(path.join(root, 'tools/loadgen/Dockerfile')),
        { 'tools/loadgen': 'loadgen library example.com/loadgen/v2' },
      ],
    ];
    it('follows every edit, and reads nothing of an unchanged module', async () => {
      let now = await summary();
      for (const [what, act, changed] of steps) {
        act();
        const expected = { ...now, ...changed };
        existsSync.mockClear();
        now = await summary();
        expect({ what, now }).toEqual({ what, now: expected });
        // Only the edited module's folder is looked at again (its Dockerfile and project.json).
        const looked = new Set(existsSync.mock.calls.map(([p]) => path.relative(root, String(p)).split(path.sep).slice(0, -1).join('/')));
        looked.delete('');
        looked.delete('.nx/workspace-data');
        const edited = what === 'nothing' ? [] : Object.keys(changed);
        expect({ what, looked: [...looked].filter((d) => !d.startsWith('.nx')) }).toEqual({ what, looked: edited });
      }
    });
  });

  it('reports bad plugin options as an error naming nx.json', async () => {
    await expect(createNodes[1](['apps/quotes-service/go.mod'], { platforms: ['linux'] }, context())).rejects.toThrow(
      /nx-swarm plugin options in nx.json/,
    );
  });
});

describe('createDependencies (on a real folder, with Nx file hashes)', () => {
  let root: string;
  const tree: Record<string, string> = {};
  const write = (file: string, text: string) => {
    tree[file] = text;
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  const version = 0;
  const hashes: Record<string, string> = {};
  const context = (toProcess?: string[]): CreateDependenciesContext => {
    const projects = { svc: { root: 'svc', name: 'svc' }, common: { root: 'libs/common', name: 'common' }, web: { root: 'web', name: 'web' } };
    const fileData = (prefix: string): FileData[] =>
      Object.keys(tree)
        .filter((f) => f.startsWith(`${prefix}/`))
        .map((file) => ({ file, hash: hashes[file] ?? (hashes[file] = `h${version}`) }));
    const projectFileMap = { svc: fileData('svc'), common: fileData('libs/common'), web: fileData('web') };
    const only = (files: FileData[]) => (toProcess ? files.filter((f) => toProcess.includes(f.file)) : files);
    return {
      workspaceRoot: root,
      projects,
      nxJsonConfiguration: {},
      externalNodes: {},
      fileMap: { projectFileMap, nonProjectFiles: [] },
      // Cold: every file; after that, the changed ones (Nx keeps the others' edges from its cache).
      filesToProcess: { projectFileMap: Object.fromEntries(Object.entries(projectFileMap).map(([p, f]) => [p, only(f)])), nonProjectFiles: [] },
    } as unknown as CreateDependenciesContext;
  };

  beforeEach(() => {
    clearGoFileMemo();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-deps-'));
    write('go.work', 'go 1.25.0\n\nuse (\n\t./svc\n\t./libs/common\n)\n');
    write('svc/go.mod', 'module example.com/svc\n\ngo 1.25.0\n');
    write('svc/main.go', 'package main\n\nimport "example.com/common/greet"\n\nfunc main() { greet.Hello() }\n');
    write('libs/common/go.mod', 'module example.com/common\n\ngo 1.25.0\n');
    write('libs/common/greet/greet.go', 'package greet\n\nfunc Hello() {}\n');
    write('web/package.json', '{}');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('links the importing file to the module that provides the package; non-Go projects are left alone', async () => {
    expect(await createDependencies({}, context())).toEqual([{ source: 'svc', target: 'common', sourceFile: 'svc/main.go', type: 'static' }]);
  });

  it('answers for the files Nx asks about, reading a file again only when its hash changed', async () => {
    await createDependencies({}, context());
    expect(await createDependencies({}, context(['libs/common/greet/greet.go']))).toEqual([]);
    fs.writeFileSync(path.join(root, 'svc/main.go'), 'package main\n\nfunc main() {}\n'); // same hash: not read again
    expect(await createDependencies({}, context(['svc/main.go']))).toHaveLength(1);
    hashes['svc/main.go'] = 'changed';
    expect(await createDependencies({}, context(['svc/main.go']))).toEqual([]);
  });

  it('resolves through a changed go.work even when only a .go file is processed', async () => {
    write('go.work', 'go 1.25.0\n\nuse ./svc\n'); // common is no longer in the workspace
    fs.utimesSync(path.join(root, 'go.work'), new Date(), new Date(Date.now() + 5000));
    expect(await createDependencies({}, context(['svc/main.go']))).toEqual([]);
  });
});
