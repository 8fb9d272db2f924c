import { tidyArgs, tidyVerdict } from './tidy';

describe('go mod tidy', () => {
  it.each([
    [{}, ['mod', 'tidy']],
    [{ check: false }, ['mod', 'tidy']],
    [{ check: true }, ['mod', 'tidy', '-diff']],
  ])('argv for %j', (options, args) => expect(tidyArgs(options)).toEqual(args));

  it.each<[string, { check?: boolean }, { exitCode: number; stdout: string; stderr: string }, RegExp | undefined]>([
    ['tidy', {}, { exitCode: 0, stdout: '', stderr: '' }, undefined],
    ['check, tidy', { check: true }, { exitCode: 0, stdout: '', stderr: '' }, undefined],
    [
      'check, not tidy: the diff and the fix',
      { check: true },
      { exitCode: 1, stdout: '--- go.mod\n+++ go.mod\n-require x v1\n', stderr: '' },
      /go.mod\/go.sum of common are not tidy; go mod tidy would change:\n--- go.mod[\s\S]*Run `nx run common:tidy` and commit/,
    ],
    ['check on an old Go', { check: true }, { exitCode: 2, stdout: '', stderr: 'flag provided but not defined: -diff' }, /needs Go 1.23 or newer/],
    [
      "tidy fails: Go's words",
      {},
      { exitCode: 1, stdout: '', stderr: 'go: example.com/x: no matching versions' },
      /go mod tidy failed for common: go: example.com\/x: no matching versions/,
    ],
  ])('%s', (_t, options, outcome, message) => {
    const v = tidyVerdict('common', options, outcome);
    if (message) expect(v).toMatch(message);
    else expect(v).toBeUndefined();
  });
});
