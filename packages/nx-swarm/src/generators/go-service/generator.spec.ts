import { GO_BUILD_INPUTS, GO_PRODUCTION_INPUTS, GO_TEST_INPUTS } from '../../plugins/go-service-targets';
import { addProjectConfiguration, logger, readNxJson, readProjectConfiguration, updateNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  goServiceGenerator,
  goWorkWith,
  normalizeGoServiceOptions,
  pluginEntry,
  projectConfigurationFor,
  type NormalizedGoService,
  type WorkspaceFacts,
} from './generator';
import type { GoServiceGeneratorSchema } from './schema';

const EMPTY: WorkspaceFacts = { projects: {}, children: () => undefined };

describe('goWorkWith', () => {
  it.each<[string, string | undefined, string[], string | undefined]>([
    [
      'a new go.work uses every Go module, at the highest go version',
      undefined,
      ['apps/a', 'libs/go/common'],
      'go 1.25.0\n\nuse (\n\t./apps/a\n\t./libs/go/common\n\t./tools/x\n)\n',
    ],
    ['adds to a use block', 'go 1.25.0\n\nuse (\n\t./accountservice\n)\n', ['apps/a'], 'go 1.25.0\n\nuse (\n\t./accountservice\n\t./apps/a\n)\n'],
    ['adds single use lines', 'go 1.25.0\nuse ./accountservice\n', ['apps/a'], 'go 1.25.0\nuse ./accountservice\n\nuse ./apps/a\n'],
    ['nothing to add', 'go 1.25.0\nuse ./apps/a\nuse ./libs/go/common\n', ['apps/a', 'libs/go/common'], undefined],
  ])('%s', (_t, existing, uses, expected) => {
    expect(
      goWorkWith(existing, uses, [
        { root: 'tools/x', go: '1.25.0' },
        { root: 'apps/a', go: '1.22' },
      ]),
    ).toBe(expected);
  });
});

describe('normalizeGoServiceOptions', () => {
  it.each<[string, GoServiceGeneratorSchema, Partial<NormalizedGoService>]>([
    [
      'defaults',
      { name: 'quotes-service' },
      {
        name: 'quotes-service',
        projectRoot: 'apps/quotes-service',
        port: 8080,
        module: 'example.com/quotes-service',
        goVersion: '1.22',
        tags: ['lang:go', 'type:service'],
        exists: false,
      },
    ],
    ['a directory, normalised', { name: 'web', directory: './services//web/' }, { projectRoot: 'services/web' }],
    ['ports', { name: 'web', port: 3000, publishedPort: 80 }, { port: 3000, publishedPort: 80 }],
    [
      'a module and Go version',
      { name: 'a1', module: 'github.com/acme/a1', goVersion: '1.25.0' },
      { module: 'github.com/acme/a1', goVersion: '1.25.0' },
    ],
    [
      'extra tags, deduplicated',
      { name: 'web', tags: 'team:x, lang:go ,scope:public' },
      { tags: ['lang:go', 'type:service', 'team:x', 'scope:public'] },
    ],
  ])('%s', (_title, options, expected) => {
    expect(normalizeGoServiceOptions(options, EMPTY)).toMatchObject(expected);
  });

  it('treats the same project in the same folder as a re-run', () => {
    const facts: WorkspaceFacts = { projects: { web: 'apps/web' }, children: () => ['go.mod', 'main.go'] };
    expect(normalizeGoServiceOptions({ name: 'web' }, facts).exists).toBe(true);
  });

  it.each<[string, GoServiceGeneratorSchema, WorkspaceFacts, RegExp]>([
    ['an uppercase name', { name: 'Quotes' }, EMPTY, /"Quotes" can't be used: it names the swarm service/],
    ['an underscore', { name: 'quotes_service' }, EMPTY, /lowercase letters, digits and single hyphens/],
    ['a leading digit', { name: '1st' }, EMPTY, /starting with a letter/],
    ['a double hyphen', { name: 'a--b' }, EMPTY, /single hyphens/],
    ['a trailing hyphen', { name: 'a-' }, EMPTY, /single hyphens/],
    ['64 characters', { name: 'a'.repeat(64) }, EMPTY, /at most 63 characters/],
    ['an empty name', { name: '' }, EMPTY, /"" can't be used/],
    ['an absolute directory', { name: 'web', directory: '/srv/web' }, EMPTY, /must be a folder inside the workspace/],
    ['a directory outside', { name: 'web', directory: '../web' }, EMPTY, /must be a folder inside the workspace/],
    ['the workspace root', { name: 'web', directory: '.' }, EMPTY, /must be a folder inside the workspace/],
    [
      'a name taken elsewhere',
      { name: 'web' },
      { projects: { web: 'apps/old-web' }, children: () => undefined },
      /"web" already exists in apps\/old-web/,
    ],
    [
      'a folder that is another project',
      { name: 'web', directory: 'apps/api' },
      { projects: { api: 'apps/api' }, children: () => ['x'] },
      /apps\/api is already the project "api"/,
    ],
    [
      'a folder with files',
      { name: 'web' },
      { projects: {}, children: () => ['a.txt', 'b', 'c', 'd'] },
      /apps\/web already exists and holds files \(a.txt, b, c, …\)/,
    ],
    ['port 0', { name: 'web', port: 0 }, EMPTY, /port must be a whole number from 1 to 65535, got 0/],
    ['a fractional published port', { name: 'web', publishedPort: 80.5 }, EMPTY, /publishedPort must be a whole number/],
    ['a module with spaces', { name: 'web', module: 'my module' }, EMPTY, /is not a Go module path/],
    ['a module with ..', { name: 'web', module: 'a/../b' }, EMPTY, /is not a Go module path/],
    ['an old Go', { name: 'web', goVersion: '1.21' }, EMPTY, /1.22 or later/],
    ['a tag with a space', { name: 'web', tags: 'a b' }, EMPTY, /tag "a b" can't contain spaces/],
  ])('rejects %s', (_title, options, facts, message) => {
    expect(() => normalizeGoServiceOptions(options, facts)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() => normalizeGoServiceOptions({ name: 'Bad', port: 70000 }, EMPTY)).toThrow(/can't be used[\s\S]*port must be/);
  });

  it('accepts an empty existing folder', () => {
    expect(normalizeGoServiceOptions({ name: 'web' }, { projects: {}, children: () => [] }).exists).toBe(false);
  });
});

describe('projectConfigurationFor', () => {
  const service = normalizeGoServiceOptions({ name: 'web' }, EMPTY);
  const ctx = { plugin: { options: {} }, namedInputs: {}, localPluginProject: false };

  it('leaves the targets to the plugin when it is registered', () => {
    expect(projectConfigurationFor(service, ctx)).toEqual({
      name: 'web',
      root: 'apps/web',
      sourceRoot: 'apps/web',
      projectType: 'application',
      tags: ['lang:go', 'type:service'],
      targets: {},
    });
  });

  it('adds only the published port (ingress, and host mode in the host configuration)', () => {
    const p = projectConfigurationFor({ ...service, publishedPort: 80 }, ctx);
    expect(p.targets).toEqual({
      deploy: {
        options: { ports: [{ target: 8080, published: 80 }] },
        configurations: { host: { endpointMode: 'dnsrr', ports: [{ target: 8080, published: 80, mode: 'host' }] } },
      },
    });
  });

  it('uses the deploy target name from the plugin options', () => {
    const p = projectConfigurationFor({ ...service, publishedPort: 80 }, { ...ctx, plugin: { options: { deployTargetName: 'ship' } } });
    expect(Object.keys(p.targets!)).toEqual(['ship']);
  });

  it('writes every target when the plugin is not registered', () => {
    const p = projectConfigurationFor({ ...service, publishedPort: 80 }, { ...ctx, plugin: undefined });
    expect(Object.keys(p.targets!)).toEqual(['build', 'test', 'vet', 'tidy', 'serve', 'image', 'deploy', 'rollback', 'undeploy']);
    // nx.json has no goBuild/goTest here: the project defines the ones its targets name.
    expect(p.namedInputs).toEqual({ production: GO_PRODUCTION_INPUTS, goBuild: GO_BUILD_INPUTS, goTest: GO_TEST_INPUTS });
    expect(p.targets!.build.inputs).toEqual(['goBuild', '^default']);
    expect(projectConfigurationFor(service, { ...ctx, plugin: undefined, namedInputs: { goBuild: [], goTest: [] } }).namedInputs).toEqual({
      production: GO_PRODUCTION_INPUTS,
    });
    expect(p.targets!.deploy).toMatchObject({
      executor: 'nx-swarm:swarm-deploy',
      dependsOn: ['image'],
      options: { ports: [{ target: 8080, published: 80 }] },
      configurations: { host: { endpointMode: 'dnsrr', ports: [{ target: 8080, published: 80, mode: 'host' }] } },
    });
  });

  it('depends on the local plugin project in the plugin workspace', () => {
    expect(projectConfigurationFor(service, { ...ctx, localPluginProject: true }).implicitDependencies).toEqual(['nx-swarm']);
  });

  it.each([
    [{ plugins: ['nx-swarm'] }, { options: {} }],
    [{ plugins: [{ plugin: 'nx-swarm', options: { platforms: ['linux/arm64'] } }] }, { options: { platforms: ['linux/arm64'] } }],
    [{ plugins: ['@nx/js/typescript'] }, undefined],
    [{}, undefined],
  ])('pluginEntry(%j)', (nxJson, expected) => {
    expect(pluginEntry(nxJson)).toEqual(expected);
  });
});

describe('goServiceGenerator (virtual tree)', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    delete process.env.NX_ADD_PLUGINS;
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const files = [
    '.dockerignore',
    '.gitignore',
    'Dockerfile',
    'README.md',
    'go.mod',
    'handler.go',
    'main.go',
    'main_test.go',
    'project.json',
    'runtime.go',
  ];

  it('scaffolds the service, its project and registers the plugin', async () => {
    await goServiceGenerator(tree, { name: 'quotes-service', skipFormat: true });
    expect(tree.children('apps/quotes-service').sort()).toEqual(files);
    expect(readProjectConfiguration(tree, 'quotes-service')).toMatchObject({
      root: 'apps/quotes-service',
      projectType: 'application',
      tags: ['lang:go', 'type:service'],
    });
    expect(readNxJson(tree)!.plugins).toContainEqual({ plugin: 'nx-swarm', exclude: ['**/test/fixtures/**'] });
  });

  it('fills in the templates', async () => {
    await goServiceGenerator(tree, { name: 'web', port: 3000, module: 'github.com/acme/web', skipFormat: true });
    const read = (f: string) => tree.read(`apps/web/${f}`, 'utf-8')!;
    expect(read('go.mod')).toMatch(
      /^module github.com\/acme\/web\n\ngo 1.22\n\n\/\/ The workspace's shared module[\s\S]*\nrequire github.com\/acme\/common v0.0.0-00010101000000-000000000000\n\nreplace github.com\/acme\/common => ..\/..\/libs\/go\/common\n$/,
    );
    expect(read('runtime.go')).toContain('"github.com/acme/common/server"');
    expect(read('main.go')).toContain('serviceName = "web"');
    expect(read('main.go')).toContain('defaultPort = 3000');
    expect(read('Dockerfile')).toContain('FROM scratch\nCOPY web-linux-amd64 /web\n');
    expect(read('Dockerfile')).toContain('EXPOSE 3000');
    expect(read('Dockerfile')).toContain('CMD ["/web","healthcheck"]');
    expect(read('.dockerignore')).toContain('!web-linux-amd64');
    expect(read('main_test.go')).toContain('{"default", nil, "", 3000, ""}');
    for (const f of files) expect(read(f)).not.toMatch(/<%|%>/);
  });

  it('creates the shared module and a go.work that uses it and the service', async () => {
    await goServiceGenerator(tree, { name: 'web', module: 'github.com/acme/web', skipFormat: true });
    expect(tree.read('libs/go/common/go.mod', 'utf-8')).toBe('module github.com/acme/common\n\ngo 1.22\n');
    expect(tree.read('libs/go/common/health/health.go', 'utf-8')).toContain('"github.com/acme/common/server"');
    expect(tree.read('go.work', 'utf-8')).toBe('go 1.22\n\nuse (\n\t./apps/web\n\t./libs/go/common\n)\n');
    // A second service reuses the module (its own module path) and joins the go.work.
    await goServiceGenerator(tree, { name: 'api', module: 'example.com/api', skipFormat: true });
    expect(tree.read('apps/api/go.mod', 'utf-8')).toContain('replace github.com/acme/common => ../../libs/go/common');
    expect(tree.read('go.work', 'utf-8')).toBe('go 1.22\n\nuse (\n\t./apps/web\n\t./libs/go/common\n\t./apps/api\n)\n');
  });

  it('--standalone: no shared module, no go.work, its own health check and drain', async () => {
    await goServiceGenerator(tree, { name: 'solo', standalone: true, skipFormat: true });
    expect(tree.read('apps/solo/go.mod', 'utf-8')).toBe('module example.com/solo\n\ngo 1.22\n');
    expect(tree.read('apps/solo/runtime.go', 'utf-8')).toContain(
      'func checkHealth(url string, timeout time.Duration, out io.Writer) int {\n\tctx, cancel',
    );
    expect(tree.exists('libs/go/common/go.mod')).toBe(false);
    expect(tree.exists('go.work')).toBe(false);
  });

  it("ships the workspace's own libs/go/common as its shared-module template (they can't drift apart)", () => {
    const repo = path.resolve(__dirname, '../../../../../libs/go/common');
    for (const f of ['health/health.go', 'health/health_test.go', 'server/server.go', 'server/server_test.go']) {
      const template = fs.readFileSync(path.join(__dirname, 'files-common', `${f}__tmpl__`), 'utf8');
      expect(template.replaceAll('<%= commonModule %>', 'github.com/nx-swarm/libs/go/common')).toBe(fs.readFileSync(path.join(repo, f), 'utf8'));
    }
  });

  it('is idempotent: a second run changes nothing and keeps edited files', async () => {
    await goServiceGenerator(tree, { name: 'web', skipFormat: true });
    tree.write('apps/web/handler.go', '// edited\n');
    tree.delete('apps/web/README.md');
    // Commit the first run to the virtual tree's base, so listChanges shows only the second run.
    const before = Object.fromEntries(files.filter((f) => tree.exists(`apps/web/${f}`)).map((f) => [f, tree.read(`apps/web/${f}`, 'utf-8')]));
    const nxBefore = tree.read('nx.json', 'utf-8');
    await goServiceGenerator(tree, { name: 'web', skipFormat: true });
    expect(tree.read('apps/web/handler.go', 'utf-8')).toBe('// edited\n');
    expect(tree.exists('apps/web/README.md')).toBe(true); // a missing file comes back
    expect(logger.info).toHaveBeenCalledWith(expect.stringContaining('web already exists in apps/web; added the missing README.md;'));
    for (const [f, text] of Object.entries(before)) expect(tree.read(`apps/web/${f}`, 'utf-8')).toBe(text);
    expect(tree.read('nx.json', 'utf-8')).toBe(nxBefore);
  });

  it('refuses a folder that holds something else, before writing anything', async () => {
    tree.write('apps/web/notes.txt', 'mine');
    const nxBefore = tree.read('nx.json', 'utf-8');
    await expect(goServiceGenerator(tree, { name: 'web' })).rejects.toThrow(/apps\/web already exists and holds files \(notes.txt\)/);
    expect(tree.children('apps/web')).toEqual(['notes.txt']);
    expect(tree.read('nx.json', 'utf-8')).toBe(nxBefore);
  });

  it('refuses a name another project has', async () => {
    addProjectConfiguration(tree, 'web', { root: 'libs/web' });
    await expect(goServiceGenerator(tree, { name: 'web' })).rejects.toThrow(/"web" already exists in libs\/web/);
  });

  it('writes explicit targets when asked not to add the plugin', async () => {
    await goServiceGenerator(tree, { name: 'web', addPlugin: false, skipFormat: true });
    expect(readNxJson(tree)!.plugins ?? []).not.toContainEqual(expect.objectContaining({ plugin: 'nx-swarm' }));
    const p = readProjectConfiguration(tree, 'web');
    expect(Object.keys(p.targets!)).toEqual(['build', 'test', 'vet', 'tidy', 'serve', 'image', 'deploy', 'rollback', 'undeploy']);
    expect(p.namedInputs).toEqual({ production: GO_PRODUCTION_INPUTS });
    expect(p.targets!.image.options.files).toEqual([{ from: 'dist/{projectRoot}/{projectName}-linux-amd64', to: '{projectName}-linux-amd64' }]);
  });

  it('depends on the nx-swarm project when the plugin lives in this workspace', async () => {
    addProjectConfiguration(tree, 'nx-swarm', { root: 'packages/nx-swarm' });
    await goServiceGenerator(tree, { name: 'web', skipFormat: true });
    expect(readProjectConfiguration(tree, 'web').implicitDependencies).toEqual(['nx-swarm']);
  });

  it('keeps an existing plugin entry with its options', async () => {
    updateNxJson(tree, { ...readNxJson(tree)!, plugins: [{ plugin: 'nx-swarm', options: { deployTargetName: 'ship' } }] });
    await goServiceGenerator(tree, { name: 'web', publishedPort: 8080, skipFormat: true });
    expect(readNxJson(tree)!.plugins).toEqual([{ plugin: 'nx-swarm', options: { deployTargetName: 'ship' } }]);
    expect(Object.keys(readProjectConfiguration(tree, 'web').targets!)).toEqual(['ship']);
  });
});
