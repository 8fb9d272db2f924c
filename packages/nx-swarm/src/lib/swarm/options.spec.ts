import { formatDuration, parseCpus, parseDuration, parseMemory } from './options';

describe('parsers', () => {
  it.each<[string | number, number]>([
    ['10s', 10e9],
    ['500ms', 5e8],
    ['1m30s', 90e9],
    ['1.5s', 1.5e9],
    ['2h', 7200e9],
    [3, 3e9],
    ['0', 0],
    ['15', 15e9],
  ])('parseDuration(%p) = %p ns', (input, ns) => expect(parseDuration(input)).toBe(ns));

  it.each(['10 s', 'ten', '5d', ''])('parseDuration(%p) throws', (input) => expect(() => parseDuration(input)).toThrow(/not a duration/));

  it.each<[number, string]>([
    [10e9, '10s'],
    [90e9, '1m30s'],
    [5e8, '500ms'],
    [0, '0s'],
  ])('formatDuration(%p) = %p', (ns, s) => expect(formatDuration(ns)).toBe(s));

  it.each<[string | number, number]>([
    ['64m', 64 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['64MiB', 64 * 1024 ** 2],
    [1000, 1000],
  ])('parseMemory(%p)', (input, bytes) => expect(parseMemory(input)).toBe(bytes));

  it.each<[string | number, number]>([
    ['0.5', 5e8],
    [2, 2e9],
  ])('parseCpus(%p)', (input, nano) => expect(parseCpus(input)).toBe(nano));
});
