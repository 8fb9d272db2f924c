import { goDependencyRoots, isServeInput, planServe } from './serve-plan';

describe('planServe', () => {
  const ctx = { workspaceRoot: '/ws', projectRoot: 'accountservice', projectName: 'accountservice', dependencyRoots: ['libs/go/common'] };

  it('builds to a file under tmp/ and runs that file (no go run wrapper between the signal and the service)', () => {
    expect(planServe({ args: ['-port', '6767'], env: { PORT: '6767' } }, ctx)).toEqual({
      build: { args: ['build', '-o', '/ws/tmp/serve/accountservice/accountservice', '.'], cwd: '/ws/accountservice', env: { PORT: '6767' } },
      run: { file: '/ws/tmp/serve/accountservice/accountservice', args: ['-port', '6767'], cwd: '/ws/accountservice', env: { PORT: '6767' } },
      watchRoots: ['/ws/accountservice', '/ws/libs/go/common'],
      watch: true,
      pollMs: 500,
      stopTimeoutMs: 10_000,
    });
  });

  it.each([
    ['.', '.'],
    ['cmd/server', './cmd/server'],
    ['./cmd/server', './cmd/server'],
  ])('main %s → %s', (main, pkg) => expect(planServe({ main }, ctx).build.args[3]).toBe(pkg));
});

describe('goDependencyRoots', () => {
  const graph = {
    nodes: {
      svc: { data: { root: 'svc' } },
      a: { data: { root: 'libs/a' } },
      b: { data: { root: 'libs/b' } },
      plugin: { data: { root: 'packages/p' } },
    },
    dependencies: { svc: [{ target: 'a' }, { target: 'plugin' }, { target: 'npm:x' }], a: [{ target: 'b' }, { target: 'svc' }], b: [] },
  };
  it('follows Go modules transitively, skips non-Go projects and cycles', () => {
    expect(goDependencyRoots(graph, 'svc', (root) => root.startsWith('libs/') || root === 'svc')).toEqual(['libs/a', 'libs/b']);
  });
});

describe('isServeInput', () => {
  it.each([
    ['main.go', true],
    ['x/handler.go', true],
    ['main_test.go', false],
    ['go.mod', true],
    ['go.sum', true],
    ['go.work', true],
    ['README.md', false],
    ['accounts.db', false],
  ])('%s → %s', (file, yes) => expect(isServeInput(file)).toBe(yes));
});
