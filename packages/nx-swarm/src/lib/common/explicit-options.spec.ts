import { explicitOptionKeys } from './explicit-options';

const schema = { properties: { replicas: { default: 1 }, networks: { default: ['my_network'] }, service: {}, timeout: { default: '120s' } } };
const context = {
  projectName: 'acct',
  targetName: 'deploy',
  configurationName: 'lab',
  projectsConfigurations: {
    version: 2,
    projects: { acct: { root: 'acct', targets: { deploy: { options: { service: 'acct' }, configurations: { lab: { replicas: 1 } } } } } },
  },
};

describe('explicitOptionKeys', () => {
  const given = { service: 'acct', replicas: 1, networks: ['my_network'], timeout: '30s' };
  it.each<[string, boolean]>([
    ['service', true], // in the target's options
    ['replicas', true], // in the chosen configuration, even though it equals the default
    ['networks', false], // only Nx's schema default
    ['timeout', true], // differs from the default: a command-line override
    ['image', false], // not given at all
  ])('%s → %s', (key, expected) => {
    expect(explicitOptionKeys(context, given, schema)(key)).toBe(expected);
  });

  it('no project configuration (a programmatic run): what differs from the defaults', () => {
    const f = explicitOptionKeys(
      { projectName: undefined, targetName: undefined, configurationName: undefined, projectsConfigurations: undefined as never },
      given,
      schema,
    );
    expect(['service', 'replicas', 'networks', 'timeout'].filter(f)).toEqual(['service', 'timeout']);
  });
});
