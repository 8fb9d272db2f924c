import * as path from 'node:path';
import { parseGoMod, parseGoWork } from './go-mod';
import { scanGoImports } from './imports';
import { GoResolver, pathPrefixes, resolveLocalDir, type GoModule, type GoWorkFile } from './resolver';
import {
  buildDependencyClosure,
  closureOfModuleImports,
  goImportEdges,
  isModuleGoFile,
  isTestFile,
  testDependencyClosure,
  type ScannedGoFile,
} from './dependencies';

/** A virtual workspace: path → content. Every folder with a go.mod is a project named after its folder. */
function analyse(tree: Record<string, string>) {
  const modules: GoModule[] = Object.keys(tree)
    .filter((f) => path.posix.basename(f) === 'go.mod')
    .map((f) => {
      const root = path.posix.dirname(f);
      return { root, project: root === '.' ? 'root' : path.posix.basename(root), goMod: parseGoMod(tree[f]) };
    });
  const works: GoWorkFile[] = Object.keys(tree)
    .filter((f) => path.posix.basename(f) === 'go.work')
    .map((f) => ({ dir: path.posix.dirname(f), work: parseGoWork(tree[f]) }));
  const resolver = new GoResolver(modules, works);
  // Each file belongs to the deepest module above it (as Nx's project file map does).
  const roots = modules.map((m) => m.root).sort((a, b) => b.length - a.length);
  const files: ScannedGoFile[] = Object.keys(tree)
    .map((file) => ({ file, root: roots.find((r) => r === '.' || file.startsWith(`${r}/`)) }))
    .filter((f): f is { file: string; root: string } => f.root !== undefined && isModuleGoFile(f.file, f.root))
    .map((f) => ({ ...f, imports: scanGoImports(tree[f.file]).imports }));
  const edges = goImportEdges(files, resolver).map((e) => `${e.source} -> ${e.target} (${e.sourceFile})`);
  return { edges, diagnostics: resolver.diagnostics, resolver, closure: buildDependencyClosure(files, resolver) };
}

const mod = (p: string, extra = '') => `module ${p}\n\ngo 1.22\n${extra}`;
const main = (...imports: string[]) => `package main\n\nimport (\n${imports.map((i) => `\t"${i}"`).join('\n')}\n)\n\nfunc main() {}\n`;
const lib = (pkg: string, ...imports: string[]) => `package ${pkg}\n\n${imports.map((i) => `import "${i}"`).join('\n')}\n`;

describe('Go import edges on virtual workspaces', () => {
  it.each<[string, Record<string, string>, string[]]>([
    [
      'replace with ../ (the goblog layout, made relative)',
      {
        'accountservice/go.mod': mod(
          'github.com/x/goblog/accountservice',
          'require github.com/x/goblog/common v0.0.0\nreplace github.com/x/goblog/common => ../common\n',
        ),
        'accountservice/main.go': main('fmt', 'github.com/x/goblog/common/messaging'),
        'common/go.mod': mod('github.com/x/goblog/common'),
        'common/messaging/m.go': lib('messaging'),
      },
      ['accountservice -> common (accountservice/main.go)'],
    ],
    [
      'go.work use ./x',
      {
        'go.work': 'go 1.25.0\n\nuse (\n\t./svc\n\t./libs/go/common\n)\n',
        'svc/go.mod': mod('example.com/svc'),
        'svc/main.go': main('example.com/common/health'),
        'libs/go/common/go.mod': mod('example.com/common'),
        'libs/go/common/health/h.go': lib('health', 'net/http'),
      },
      ['svc -> common (svc/main.go)'],
    ],
    [
      'nested modules: the longest module path wins',
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./a\nuse ./a/b\n',
        'svc/go.mod': mod('example.com/svc'),
        'svc/main.go': main('example.com/a/x', 'example.com/a/b/c'),
        'a/go.mod': mod('example.com/a'),
        'a/x/x.go': lib('x'),
        'a/b/go.mod': mod('example.com/a/b'),
        'a/b/c/c.go': lib('c', 'example.com/a/x'),
      },
      ['svc -> a (svc/main.go)', 'svc -> b (svc/main.go)', 'b -> a (a/b/c/c.go)'],
    ],
    [
      'a module path that is a prefix of another without a / boundary',
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./lib\nuse ./library\n',
        'svc/go.mod': mod('example.com/svc'),
        'svc/main.go': main('example.com/library/x'),
        'lib/go.mod': mod('example.com/lib'),
        'library/go.mod': mod('example.com/library'),
        'library/x/x.go': lib('x'),
      },
      ['svc -> library (svc/main.go)'],
    ],
    [
      'a test-only import makes an edge from the _test.go file',
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./testkit\n',
        'svc/go.mod': mod('example.com/svc'),
        'svc/main.go': main('fmt'),
        'svc/main_test.go': 'package main\n\nimport (\n\t"testing"\n\t"example.com/testkit"\n)\n',
        'testkit/go.mod': mod('example.com/testkit'),
        'testkit/kit.go': lib('testkit'),
      },
      ['svc -> testkit (svc/main_test.go)'],
    ],
    [
      'files behind build tags and GOOS suffixes count',
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./winlib\n',
        'svc/go.mod': mod('example.com/svc'),
        'svc/svc_windows.go': '//go:build windows\n\npackage main\n\nimport "example.com/winlib"\n',
        'svc/tagged.go': '//go:build ignore\n\npackage main\n\nimport "example.com/winlib/sub"\n',
        'winlib/go.mod': mod('example.com/winlib'),
      },
      ['svc -> winlib (svc/svc_windows.go)', 'svc -> winlib (svc/tagged.go)'],
    ],
    [
      'own packages, the standard library and the module proxy make no edges',
      {
        'svc/go.mod': mod('example.com/svc', 'require github.com/gorilla/mux v1.8.1\n'),
        'svc/main.go': main('fmt', 'net/http', 'example.com/svc/internal/service', 'github.com/gorilla/mux', 'C'),
        'svc/internal/service/s.go': lib('service', 'example.com/svc/internal/db'),
      },
      [],
    ],
    [
      "vendor/, testdata/, _ and . folders are not the module's code",
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./common\n',
        'svc/go.mod': mod('example.com/svc'),
        'svc/vendor/example.com/common/c.go': lib('common', 'example.com/common/x'),
        'svc/testdata/fixture.go': main('example.com/common'),
        'svc/_old/old.go': main('example.com/common'),
        'svc/.hidden/h.go': main('example.com/common'),
        'common/go.mod': mod('example.com/common'),
      },
      [],
    ],
    [
      'go.work replace with a local folder',
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./forks/mux\nreplace github.com/gorilla/mux => ./forks/mux\n',
        'svc/go.mod': mod('example.com/svc', 'require github.com/gorilla/mux v1.8.1\n'),
        'svc/main.go': main('github.com/gorilla/mux'),
        'forks/mux/go.mod': mod('github.com/gorilla/mux'),
      },
      ['svc -> mux (svc/main.go)'],
    ],
    [
      "in one go.work, a module's own replace is its alone (the others share the go.work's view)",
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./other\nuse ./fork\n',
        'svc/go.mod': mod('example.com/svc', 'require github.com/gorilla/mux v1.8.1\nreplace github.com/gorilla/mux => ../fork\n'),
        'svc/main.go': main('github.com/gorilla/mux'),
        'other/go.mod': mod('example.com/other', 'require github.com/gorilla/mux v1.8.1\n'),
        'other/main.go': main('github.com/gorilla/mux'),
        'fork/go.mod': mod('example.com/fork'),
      },
      ['svc -> fork (svc/main.go)'],
    ],
    [
      "a go.work replace wins over a module's own replace of the same path",
      {
        'go.work': 'go 1.25.0\nuse ./svc\nuse ./forks/a\nuse ./forks/b\nreplace github.com/gorilla/mux => ./forks/a\n',
        'svc/go.mod': mod('example.com/svc', 'require github.com/gorilla/mux v1.8.1\nreplace github.com/gorilla/mux => ../forks/b\n'),
        'svc/main.go': main('github.com/gorilla/mux'),
        'forks/a/go.mod': mod('example.com/fork-a'),
        'forks/b/go.mod': mod('example.com/fork-b'),
      },
      ['svc -> a (svc/main.go)'],
    ],
    [
      'a module outside go.work sees only its own replaces',
      {
        'go.work': 'go 1.25.0\nuse ./a\nuse ./common\n',
        'a/go.mod': mod('example.com/a'),
        'a/main.go': main('example.com/common'),
        'b/go.mod': mod('example.com/b'),
        'b/main.go': main('example.com/common'),
        'common/go.mod': mod('example.com/common'),
      },
      ['a -> common (a/main.go)'],
    ],
  ])('%s', (_title, tree, expected) => {
    expect(analyse(tree).edges.sort()).toEqual(expected.sort());
  });
});

/** svc's binary imports a (which imports b, which imports a back); its test imports kit; a's test imports deep; kit's test imports lone. */
const CLOSURE_TREE = {
  'go.work': 'go 1.25.0\nuse ./svc\nuse ./a\nuse ./b\nuse ./kit\nuse ./deep\nuse ./lone\n',
  'svc/go.mod': mod('example.com/svc'),
  'svc/main.go': main('example.com/a'),
  'svc/main_test.go': 'package main\n\nimport "example.com/kit"\n',
  'a/go.mod': mod('example.com/a'),
  'a/a.go': lib('a', 'example.com/b'),
  'a/a_test.go': lib('a', 'example.com/deep'),
  'a/x_test.go': lib('a_test', 'example.com/a'), // an external test package of a: itself, no dependency
  'b/go.mod': mod('example.com/b'),
  'b/b.go': lib('b', 'example.com/a'),
  'kit/go.mod': mod('example.com/kit'),
  'kit/kit.go': lib('kit', 'example.com/deep'),
  'kit/kit_test.go': lib('kit', 'example.com/lone'),
  'deep/go.mod': mod('example.com/deep'),
  'lone/go.mod': mod('example.com/lone'),
};

describe('buildDependencyClosure (what a binary compiles in)', () => {
  it('follows non-test imports transitively and leaves test-only imports out', () => {
    const { closure } = analyse(CLOSURE_TREE);
    expect(Object.fromEntries(closure)).toEqual({ svc: ['a', 'b'], a: ['b'], b: ['a'], kit: ['deep'] });
  });

  it("is the same from each module's import list (what the per-module summary keeps)", () => {
    const tree = {
      'go.work': 'go 1.25.0\nuse ./svc\nuse ./a\nuse ./a/nested\n',
      'svc/go.mod': mod('example.com/svc'),
      'svc/main.go': main('example.com/a/x', 'example.com/a/nested/y', 'fmt'),
      'svc/main_test.go': 'package main\n\nimport "example.com/unused"\n',
      'a/go.mod': mod('example.com/a'),
      'a/x/x.go': lib('x', 'example.com/a/x/deeper'), // its own module: no edge
      'a/nested/go.mod': mod('example.com/a/nested'),
      'a/nested/y/y.go': lib('y'),
    };
    const { closure, resolver } = analyse(tree);
    const byModule = new Map([
      ['svc', ['example.com/a/nested/y', 'example.com/a/x', 'fmt']],
      ['a', ['example.com/a/x/deeper']],
      ['a/nested', []],
      ['not-a-module', ['example.com/a/x']],
    ]);
    expect(closureOfModuleImports(byModule, resolver)).toEqual(closure);
    expect(Object.fromEntries(closure)).toEqual({ svc: ['a', 'nested'] });
  });

  // The closure is kept for the next computation while the direct edges are the same: each row is
  // the import lists after an edit (new arrays, as a re-read module gives), and the closure then.
  const lists = (svc: string[], a: string[] = ['example.com/b'], b: string[] = []) =>
    new Map([
      ['svc', svc],
      ['a', a],
      ['b', b],
    ]);
  const edgesTree = {
    'go.work': 'go 1.25.0\nuse ./svc\nuse ./a\nuse ./b\n',
    'svc/go.mod': mod('example.com/svc'),
    'a/go.mod': mod('example.com/a'),
    'b/go.mod': mod('example.com/b'),
  };
  it('gives back the kept closure while the direct edges are the same, and computes again for another resolver', () => {
    const { resolver } = analyse(edgesTree);
    const first = closureOfModuleImports(lists(['example.com/a']), resolver);
    expect(closureOfModuleImports(lists(['example.com/a', 'fmt']), resolver)).toBe(first);
    const other = analyse(edgesTree).resolver;
    expect(closureOfModuleImports(lists(['example.com/a']), other)).not.toBe(first);
  });
  it.each([
    ['an edit that keeps the imports', lists(['example.com/a', 'fmt']), { svc: ['a', 'b'], a: ['b'] }],
    ['a standard-library import added', lists(['example.com/a', 'fmt', 'os']), { svc: ['a', 'b'], a: ['b'] }],
    ['a workspace import swapped for another', lists(['example.com/b']), { svc: ['b'], a: ['b'] }],
    ['a workspace import dropped', lists(['fmt']), { a: ['b'] }],
    ['a deeper edge added', lists(['example.com/a'], ['example.com/b'], ['example.com/svc']), { svc: ['a', 'b'], a: ['b', 'svc'], b: ['a', 'svc'] }],
    ['a deeper edge gone again', lists(['example.com/a'], []), { svc: ['a'] }],
  ])('after %s, the closure of the new lists', (_what, byModule, expected) => {
    const { resolver } = analyse(edgesTree);
    expect(Object.fromEntries(closureOfModuleImports(lists(['example.com/a']), resolver))).toEqual({ svc: ['a', 'b'], a: ['b'] });
    expect(Object.fromEntries(closureOfModuleImports(byModule, resolver))).toEqual(expected);
  });
});

describe('closureOfModuleImports after an edit: only what reaches a changed module is computed again', () => {
  const tree = {
    'go.work': 'go 1.25.0\nuse ./svc\nuse ./a\nuse ./b\nuse ./c\nuse ./lone\n',
    'svc/go.mod': mod('example.com/svc'),
    'a/go.mod': mod('example.com/a'),
    'b/go.mod': mod('example.com/b'),
    'c/go.mod': mod('example.com/c'),
    'lone/go.mod': mod('example.com/lone'),
  };
  // svc -> a -> b; lone -> c; each row: b's imports after the edit, the closures then, and which
  // modules' closures are the arrays of before (an unchanged module's list is the same array).
  const svc = ['example.com/a'];
  const a = ['example.com/b'];
  const lone = ['example.com/c'];
  const lists = (b: string[]) =>
    new Map([
      ['svc', svc],
      ['a', a],
      ['b', b],
      ['c', [] as string[]],
      ['lone', lone],
    ]);
  it.each([
    ['b gains c', ['example.com/c'], { svc: ['a', 'b', 'c'], a: ['b', 'c'], b: ['c'], lone: ['c'] }, ['lone']],
    ['b gains svc (a cycle)', ['example.com/svc'], { svc: ['a', 'b'], a: ['b', 'svc'], b: ['a', 'svc'], lone: ['c'] }, ['lone']],
    ['b re-read, the same imports', [], { svc: ['a', 'b'], a: ['b'], lone: ['c'] }, ['svc', 'a', 'lone']],
  ])('%s', (_what, b, expected, keptArrays) => {
    const { resolver } = analyse(tree);
    const first = closureOfModuleImports(lists([]), resolver);
    expect(Object.fromEntries(first)).toEqual({ svc: ['a', 'b'], a: ['b'], lone: ['c'] });
    const next = closureOfModuleImports(lists(b), resolver);
    expect(Object.fromEntries(next)).toEqual(expected);
    expect([...next.keys()].filter((m) => next.get(m) === first.get(m))).toEqual(keptArrays);
  });
});

describe('testDependencyClosure (what go test and go vet compile in)', () => {
  const tree: Record<string, string> = CLOSURE_TREE;
  const { closure, resolver } = analyse(tree);
  const imports = new Map<string, { build: string[]; test: string[] }>();
  for (const [file, text] of Object.entries(tree)) {
    if (!file.endsWith('.go')) continue;
    const root = file.split('/')[0];
    const m = imports.get(root) ?? { build: [], test: [] };
    (isTestFile(file) ? m.test : m.build).push(...scanGoImports(text).imports.map((i) => i.path));
    imports.set(root, m);
  }
  const test = Object.fromEntries(testDependencyClosure(imports, closure, resolver));

  it.each([
    // svc: its binary's closure (a, b) and its test's own import (kit) with kit's binary closure
    // (deep), but not what kit's own tests import (lone).
    ['svc', ['a', 'b', 'deep', 'kit']],
    // a: its build closure (b; b imports a back, which is a itself) and its test's deep.
    ['a', ['b', 'deep']],
    ['b', ['a']],
    ['kit', ['deep', 'lone']],
  ])('%s', (module, expected) => {
    expect(test[module]).toEqual(expected);
  });

  it('always holds the build closure', () => {
    for (const [project, deps] of closure) expect(test[project]).toEqual(expect.arrayContaining(deps));
  });

  // Kept for the next computation while nothing it came from changed; each row: what changed, and
  // whether svc's kept closure comes back (an unchanged module's lists are the same arrays, its summary's).
  const withLists = (svcTest: string[]) => new Map([...imports].map(([root, m]) => [root, root === 'svc' ? { build: m.build, test: svcTest } : m]));
  const svcTest = imports.get('svc')!.test;
  it.each([
    ['nothing', true, () => [withLists(svcTest), closure, resolver] as const, test.svc],
    ['a test import list re-read (a new array, the same imports)', false, () => [withLists([...svcTest]), closure, resolver] as const, test.svc],
    ['a test import dropped', false, () => [withLists([]), closure, resolver] as const, ['a', 'b']],
    ['the same build closures in another map', true, () => [withLists(svcTest), new Map(closure), resolver] as const, test.svc],
    [
      "kit's build closure computed again",
      false,
      () => [withLists(svcTest), new Map([...closure, ['kit', [...closure.get('kit')!]]]), resolver] as const,
      test.svc,
    ],
    [
      "a's build closure changed",
      false,
      () => [withLists(svcTest), new Map([...closure, ['a', ['b', 'lone']]]), resolver] as const,
      ['a', 'b', 'deep', 'kit', 'lone'],
    ],
    ['another resolver', false, () => [withLists(svcTest), closure, analyse(tree).resolver] as const, test.svc],
  ])('after %s: kept %s', (_what, kept, args, svc) => {
    const first = testDependencyClosure(withLists(svcTest), closure, resolver);
    const [lists, build, r] = args();
    const next = testDependencyClosure(lists, build, r);
    expect({ kept: next.get('svc') === first.get('svc'), svc: next.get('svc') }).toEqual({ kept, svc });
  });
});

describe('diagnostics', () => {
  it('a replace outside the workspace (the goblog original) is unhashable, with file, line and fix', () => {
    const { edges, diagnostics } = analyse({
      'accountservice/go.mod': mod('github.com/x/goblog/accountservice', 'replace github.com/x/goblog/common => /Users/eriklupander/goblog/common\n'),
      'accountservice/main.go': main('github.com/x/goblog/common/messaging'),
    });
    expect(edges).toEqual([]);
    expect(diagnostics).toEqual([
      expect.objectContaining({ kind: 'outside-workspace', root: 'accountservice', file: 'accountservice/go.mod', line: 4, unhashable: true }),
    ]);
    expect(diagnostics[0].message).toMatch(
      /accountservice\/go.mod:4: replace github.com\/x\/goblog\/common => \/Users\/eriklupander\/goblog\/common points outside the workspace/,
    );
    expect(diagnostics[0].message).toMatch(/not served from the cache\. Fix: move that module into the workspace/);
  });

  it.each<[string, Record<string, string>, string, boolean, RegExp]>([
    [
      'a replace ../ that leaves the workspace',
      { 'svc/go.mod': mod('example.com/svc', 'replace example.com/c => ../../c\n') },
      'outside-workspace',
      true,
      /svc\/go.mod:4: replace example.com\/c => \.\.\/\.\.\/c points outside the workspace/,
    ],
    [
      'a replace to a folder that is no project',
      { 'svc/go.mod': mod('example.com/svc', 'replace example.com/c => ../shared\n'), 'shared/c.go': lib('c') },
      'not-a-project',
      true,
      /points at shared, which is no Go module project of this workspace/,
    ],
    [
      'a require of a workspace module with no replace and no go.work (built from the proxy)',
      { 'svc/go.mod': mod('example.com/svc', 'require example.com/common v1.2.0\n'), 'common/go.mod': mod('example.com/common') },
      'from-proxy',
      false,
      /svc\/go.mod:4: require example.com\/common v1.2.0 names the workspace module in common, .* from the module proxy at v1.2.0: no graph edge to common.*"replace example.com\/common => ..\/common"/,
    ],
    [
      'a module that the go.work above it does not use',
      { 'go.work': 'go 1.25.0\nuse ./a\n', 'a/go.mod': mod('example.com/a'), 'tools/x/go.mod': mod('example.com/x') },
      'not-in-go-work',
      false,
      /go.work does not list tools\/x in its use directives.*add "use \.\/tools\/x"/,
    ],
    [
      'a go.work use of a folder with no module',
      { 'go.work': 'go 1.25.0\nuse ./a\nuse ./gone\n', 'a/go.mod': mod('example.com/a') },
      'not-a-project',
      true,
      /go.work:3: use \.\/gone points at gone/,
    ],
  ])('%s', (_title, tree, kind, unhashable, message) => {
    const { diagnostics } = analyse(tree);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ kind, unhashable });
    expect(diagnostics[0].message).toMatch(message);
  });

  it("a go.work line that can't be hashed is a finding of each module the go.work uses, and of no other", () => {
    const { diagnostics, resolver } = analyse({
      'go.work': 'go 1.25.0\nuse ./a\nuse ./b\nuse ./gone\n',
      'a/go.mod': mod('example.com/a'),
      'b/go.mod': mod('example.com/b', 'replace example.com/x => ../x\n'),
      'x/go.mod': mod('example.com/x'),
    });
    expect(diagnostics.map((d) => `${d.kind} ${d.root} ${d.file}:${d.line}`)).toEqual([
      'not-a-project a go.work:4',
      'not-a-project b go.work:4',
      'not-in-go-work x go.work:1',
    ]);
    expect(resolver.diagnosticsFor('b')[0].message).toMatch(/use \.\/gone points at gone.*the Go targets of b are not served/);
    // b's own replace is b's alone: a sees no x (a has none), b does.
    expect(resolver.resolve('a', 'example.com/x/p')).toBeUndefined();
    expect(resolver.resolve('b', 'example.com/x/p')?.root).toBe('x');
  });

  it('says nothing about a healthy go.work workspace', () => {
    expect(
      analyse({
        'go.work': 'go 1.25.0\nuse (\n\t./svc\n\t./common\n)\n',
        'svc/go.mod': mod('example.com/svc', 'require example.com/common v0.0.0\n'),
        'common/go.mod': mod('example.com/common'),
      }).diagnostics,
    ).toEqual([]);
  });
});

describe('helpers', () => {
  it.each<[string, string, string | undefined]>([
    ['svc', '../common', 'common'],
    ['apps/svc', '../../libs/go/common', 'libs/go/common'],
    ['.', './x', 'x'],
    ['svc', '..', '.'],
    ['svc', '../..', undefined],
    ['svc', '/abs/path', undefined],
    ['svc', 'C:\\x', undefined],
  ])('resolveLocalDir(%s, %s) = %s', (base, target, expected) => expect(resolveLocalDir(base, target)).toBe(expected));

  it.each<[string, string, boolean]>([
    ['svc/main.go', 'svc', true],
    ['svc/store/db.go', 'svc', true],
    ['main.go', '.', true],
    ['svc/main.txt', 'svc', false],
    ['svc/vendor/x/x.go', 'svc', false],
    ['svc/testdata/fixture.go', 'svc', false],
    ['svc/a/testdata/b/fixture.go', 'svc', false],
    ['svc/vendorized/x.go', 'svc', true],
    ['svc/.hidden/x.go', 'svc', false],
    ['svc/_build/x.go', 'svc', false],
    ['svc/_x.go', 'svc', false],
    ['svc/.x.go', 'svc', false],
    ['svc/a_b/x_y.go', 'svc', true],
    ['vendor/x.go', '.', false],
    ['libs/vendor/x.go', 'libs/vendor', true], // the module's own folder may have any name
  ])('isModuleGoFile(%s in %s) = %s', (file, root, expected) => expect(isModuleGoFile(file, root)).toBe(expected));

  it('pathPrefixes lists longest first', () => {
    expect(pathPrefixes('example.com/a/b')).toEqual(['example.com/a/b', 'example.com/a', 'example.com']);
  });
});
