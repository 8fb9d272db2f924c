import { isLocalPath, parseGoMod, parseGoWork, tokenizeLine } from './go-mod';

describe('tokenizeLine', () => {
  it.each<[string, string[], string]>([
    ['module example.com/a', ['module', 'example.com/a'], ''],
    ['require x v1 // indirect', ['require', 'x', 'v1'], 'indirect'],
    ['replace a => ../b', ['replace', 'a', '=>', '../b'], ''],
    ['replace a=>../b', ['replace', 'a', '=>', '../b'], ''],
    ['module "example.com/quoted"', ['module', '"example.com/quoted"'], ''],
    ['use `./raw path`', ['use', '`./raw path`'], ''],
    ['require "a//b" v1', ['require', '"a//b"', 'v1'], ''],
    ['require (', ['require', '('], ''],
    ['\t)', [')'], ''],
    ['// only a comment', [], 'only a comment'],
  ])('%s', (line, tokens, comment) => {
    expect(tokenizeLine(line)).toEqual({ tokens, comment });
  });
});

describe('isLocalPath (Go: ./ ../ / or a drive letter)', () => {
  it.each<[string, boolean]>([
    ['./x', true],
    ['../libs/common', true],
    ['.', true],
    ['..', true],
    ['/Users/me/goblog/common', true],
    ['C:\\src\\common', true],
    ['.\\common', true],
    ['github.com/x/common', false],
    ['example.com/fork', false],
  ])('%s → %s', (p, local) => expect(isLocalPath(p)).toBe(local));
});

describe('parseGoMod', () => {
  it('reads module, go, single and grouped requires and replaces, with lines', () => {
    const text = [
      '// a header comment',
      'module github.com/callistaenterprise/goblog/accountservice',
      '',
      'go 1.22',
      '',
      'require github.com/callistaenterprise/goblog/common v0.0.0-00010101000000-000000000000',
      'require (',
      '\tgo.etcd.io/bbolt v1.5.0',
      '\tgolang.org/x/sys v0.45.0 // indirect',
      ')',
      '',
      'replace github.com/callistaenterprise/goblog/common => ../common',
      'replace (',
      '\texample.com/fork v1.0.0 => example.com/fork2 v1.1.0',
      '\texample.com/abs => /Users/eriklupander/goblog/common',
      ')',
      'exclude example.com/bad v1.0.0',
      'retract v0.1.0',
      'toolchain go1.26.8',
    ].join('\n');
    const mod = parseGoMod(text);
    expect(mod.module).toEqual({ path: 'github.com/callistaenterprise/goblog/accountservice', line: 2 });
    expect(mod.go).toBe('1.22');
    expect(mod.requires).toEqual([
      { path: 'github.com/callistaenterprise/goblog/common', version: 'v0.0.0-00010101000000-000000000000', line: 6, indirect: false },
      { path: 'go.etcd.io/bbolt', version: 'v1.5.0', line: 8, indirect: false },
      { path: 'golang.org/x/sys', version: 'v0.45.0', line: 9, indirect: true },
    ]);
    expect(mod.replaces).toEqual([
      { from: 'github.com/callistaenterprise/goblog/common', to: '../common', local: true, line: 12 },
      { from: 'example.com/fork', fromVersion: 'v1.0.0', to: 'example.com/fork2', toVersion: 'v1.1.0', local: false, line: 14 },
      { from: 'example.com/abs', to: '/Users/eriklupander/goblog/common', local: true, line: 15 },
    ]);
  });

  it.each<[string, string, string | undefined]>([
    ['quoted module path', 'module "example.com/q"\n', 'example.com/q'],
    ['a BOM and CRLF line ends', '\uFEFFmodule example.com/crlf\r\ngo 1.22\r\n', 'example.com/crlf'],
    ['a module with a trailing comment', 'module example.com/c // deprecated: use d\n', 'example.com/c'],
    ['no module line', 'go 1.22\n', undefined],
    ['an empty file', '', undefined],
  ])('%s', (_t, text, path) => {
    expect(parseGoMod(text).module?.path).toBe(path);
  });

  it('skips malformed replaces instead of guessing', () => {
    expect(parseGoMod('replace a =>\nreplace => b\nreplace a b c d => e\n').replaces).toEqual([]);
  });

  it('reads a one-line block', () => {
    expect(parseGoMod('require ( example.com/a v1.0.0 )\n').requires).toEqual([
      { path: 'example.com/a', version: 'v1.0.0', line: 1, indirect: false },
    ]);
  });
});

describe('parseGoWork', () => {
  it('reads go, single and grouped use, replace', () => {
    const work = parseGoWork(
      [
        'go 1.25.0',
        '',
        'use ./accountservice',
        'use (',
        '\t./apps/quotes-service // the second',
        '\t"./libs/go/common"',
        ')',
        'replace example.com/x => ./forks/x',
      ].join('\n'),
    );
    expect(work).toEqual({
      go: '1.25.0',
      uses: [
        { dir: './accountservice', line: 3 },
        { dir: './apps/quotes-service', line: 5 },
        { dir: './libs/go/common', line: 6 },
      ],
      replaces: [{ from: 'example.com/x', to: './forks/x', local: true, line: 8 }],
    });
  });
});
