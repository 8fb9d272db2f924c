import { logger, readNxJson, updateNxJson, type NxJsonConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { GO_BUILD_INPUTS, GO_TEST_INPUTS } from '../../plugins/go-service-targets';
import { initGenerator, planInit, shouldAddPlugin } from './generator';

describe('shouldAddPlugin', () => {
  it.each([
    [{}, {}, true],
    [{}, { NX_ADD_PLUGINS: 'false' }, false],
    [{}, { NX_ADD_PLUGINS: 'true' }, true],
    [{ addPlugin: true }, { NX_ADD_PLUGINS: 'false' }, true],
    [{ addPlugin: false }, {}, false],
  ])('options %j, env %j → %s', (options, env, expected) => {
    expect(shouldAddPlugin(options, env)).toBe(expected);
  });
});

describe('planInit', () => {
  const withInputs: NxJsonConfiguration = { namedInputs: { goBuild: ['x'], goTest: ['y'] } };
  it.each<[string, NxJsonConfiguration, Parameters<typeof planInit>[1], NxJsonConfiguration['plugins'], string[]]>([
    [
      'an empty nx.json',
      {},
      { addPlugin: true },
      [{ plugin: 'nx-swarm', exclude: ['**/test/fixtures/**'] }],
      ['registered the nx-swarm plugin in nx.json (excluding **/test/fixtures/**)', 'added the goBuild named input', 'added the goTest named input'],
    ],
    ['no exclude', withInputs, { addPlugin: true, exclude: [] }, ['nx-swarm'], ['registered the nx-swarm plugin in nx.json']],
    [
      'other plugins kept in order',
      { ...withInputs, plugins: ['@nx/js/typescript'] },
      { addPlugin: true, exclude: [] },
      ['@nx/js/typescript', 'nx-swarm'],
      ['registered the nx-swarm plugin in nx.json'],
    ],
    ['already registered as a string', { ...withInputs, plugins: ['nx-swarm'] }, { addPlugin: true }, ['nx-swarm'], []],
    [
      'already registered with options (left alone)',
      { ...withInputs, plugins: [{ plugin: 'nx-swarm', options: { deployTargetName: 'ship' } }] },
      { addPlugin: true },
      [{ plugin: 'nx-swarm', options: { deployTargetName: 'ship' } }],
      [],
    ],
    ['addPlugin false', withInputs, { addPlugin: false }, undefined, []],
  ])('%s', (_title, nxJson, options, plugins, changes) => {
    const plan = planInit(nxJson, options);
    expect(plan.nxJson.plugins).toEqual(plugins);
    expect(plan.changes).toEqual(changes);
  });

  it('adds goBuild/goTest but keeps named inputs the workspace already has', () => {
    const plan = planInit({ namedInputs: { default: ['{projectRoot}/**/*'], goTest: ['mine'] } }, { addPlugin: false });
    expect(plan.nxJson.namedInputs).toEqual({ default: ['{projectRoot}/**/*'], goTest: ['mine'], goBuild: GO_BUILD_INPUTS });
    expect(plan.changes).toEqual(['added the goBuild named input']);
  });

  it('does not change its input', () => {
    const nxJson: NxJsonConfiguration = { plugins: [] };
    planInit(nxJson, { addPlugin: true });
    expect(nxJson).toEqual({ plugins: [] });
  });
});

describe('initGenerator (virtual tree)', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    delete process.env.NX_ADD_PLUGINS;
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers the plugin and the Go named inputs', async () => {
    await initGenerator(tree, { skipFormat: true });
    const nxJson = readNxJson(tree)!;
    expect(nxJson.plugins).toContainEqual({ plugin: 'nx-swarm', exclude: ['**/test/fixtures/**'] });
    expect(nxJson.namedInputs?.goBuild).toEqual(GO_BUILD_INPUTS);
    expect(nxJson.namedInputs?.goTest).toEqual(GO_TEST_INPUTS);
  });

  it('is idempotent: a second run changes nothing', async () => {
    await initGenerator(tree, { skipFormat: true });
    const first = tree.read('nx.json', 'utf-8');
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('nx.json', 'utf-8')).toBe(first);
    expect(readNxJson(tree)!.plugins!.filter((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-swarm')).toHaveLength(1);
  });

  it('keeps the options of an existing entry', async () => {
    const nxJson = readNxJson(tree)!;
    updateNxJson(tree, { ...nxJson, plugins: [{ plugin: 'nx-swarm', options: { platforms: ['linux/arm64'] } }] });
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)!.plugins).toEqual([{ plugin: 'nx-swarm', options: { platforms: ['linux/arm64'] } }]);
  });

  it('fails for people when there is no nx.json', async () => {
    tree.delete('nx.json');
    await expect(initGenerator(tree, {})).rejects.toThrow(/No nx.json at the workspace root/);
  });
});
