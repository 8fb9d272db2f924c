import {
  applyScanMemoDelta,
  decodeScanMemo,
  encodeScanMemo,
  encodeScanMemoDelta,
  isRacy,
  RACY_WINDOW_MS,
  SCAN_MEMO_FORMAT,
  ScanMemo,
  statKeyOf,
  type ScanMemoHeader,
} from './scan-memo';
import type { GoFileImports } from './imports';

const header: ScanMemoHeader = { format: SCAN_MEMO_FORMAT, plugin: 'nx-swarm@0.1.0', scanner: 'abc' };
const facts = (...paths: string[]): GoFileImports => ({ packageName: 'x', imports: paths.map((path, i) => ({ path, line: i + 3 })) });

function sample(): ScanMemo {
  const m = new ScanMemo();
  m.set('svc/main.go', '10:1:1:7', false, {
    packageName: 'main',
    imports: [
      { path: 'fmt', line: 3 },
      { path: 'example.com/common/greet', name: 'g', line: 4 },
      { path: 'example.com/driver', name: '_', line: 5 },
    ],
  });
  m.set('svc/doc.go', '5:1:1:8', true, { imports: [] }); // no package clause, racy
  m.set('libs/common/greet/greet.go', '9:2:2:9', false, { packageName: 'greet', imports: [{ path: 'fmt', line: 3 }] });
  return m;
}

describe('statKeyOf / isRacy', () => {
  it.each<[string, Parameters<typeof statKeyOf>[0], Parameters<typeof statKeyOf>[0], boolean]>([
    ['the same file', { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4 }, { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4 }, true],
    ['another size', { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4 }, { size: 2, mtimeMs: 2, ctimeMs: 3, ino: 4 }, false],
    ['another mtime (sub-millisecond)', { size: 1, mtimeMs: 2.5, ctimeMs: 3, ino: 4 }, { size: 1, mtimeMs: 2.25, ctimeMs: 3, ino: 4 }, false],
    ['an mtime put back, the ctime moved', { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4 }, { size: 1, mtimeMs: 2, ctimeMs: 9, ino: 4 }, false],
    ['replaced by rename (another inode)', { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4 }, { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 5 }, false],
  ])('%s: keys equal = %s', (_what, a, b, equal) => expect(statKeyOf(a) === statKeyOf(b)).toBe(equal));

  it.each<[string, number, number, boolean]>([
    ['modified long before the read', 1_000, 1_000 + RACY_WINDOW_MS + 1, false],
    ['modified within the window', 1_000, 1_000 + RACY_WINDOW_MS - 1, true],
    ['modified after the read (clock skew)', 5_000, 1_000, true],
  ])('%s: racy = %s', (_what, changed, readAt, racy) => {
    expect(isRacy({ mtimeMs: changed, ctimeMs: 0 }, readAt)).toBe(racy);
    expect(isRacy({ mtimeMs: 0, ctimeMs: changed }, readAt)).toBe(racy); // ctime counts too
  });
});

describe('ScanMemo', () => {
  it.each<[string, (m: ScanMemo) => GoFileImports | undefined, boolean]>([
    ['same stat', (m) => m.lookup('svc/main.go', '10:1:1:7'), true],
    ['another stat', (m) => m.lookup('svc/main.go', '11:1:1:7'), false],
    ['a racy entry, even with the same stat', (m) => m.lookup('svc/doc.go', '5:1:1:8'), false],
    ['an unknown file', (m) => m.lookup('svc/new.go', '1:1:1:1'), false],
  ])('lookup: %s → hit = %s', (_what, look, hit) => expect(look(sample()) !== undefined).toBe(hit));

  it.each<[string, (m: ScanMemo) => void, boolean]>([
    ['setting what is there', (m) => m.set('svc/doc.go', '5:1:1:8', true, { imports: [] }), false],
    ['a new stat', (m) => m.set('svc/doc.go', '6:1:1:8', true, { imports: [] }), true],
    ['no longer racy', (m) => m.set('svc/doc.go', '5:1:1:8', false, { imports: [] }), true],
    ['other imports under the same stat (a racy file read again)', (m) => m.set('svc/doc.go', '5:1:1:8', true, facts('os')), true],
    ['a new file', (m) => m.set('svc/new.go', '1:1:1:1', false, facts()), true],
    ['retaining every file', (m) => m.retainOnly(new Set(['svc/main.go', 'svc/doc.go', 'libs/common/greet/greet.go'])), false],
    ['dropping a deleted file', (m) => m.retainOnly(new Set(['svc/main.go', 'svc/doc.go'])), true],
  ])('%s: dirty = %s', (_what, change, dirty) => {
    const m = sample();
    m.dirty = false;
    change(m);
    expect(m.dirty).toBe(dirty);
  });

  it('retainOnly drops the files that are gone', () => {
    const m = sample();
    m.retainOnly(new Set(['svc/main.go']));
    expect([...m.entries.keys()]).toEqual(['svc/main.go']);
  });
});

describe('encodeScanMemo / decodeScanMemo', () => {
  it('round-trips every fact: stat, racy, package, paths, aliases (_ and named), lines, no package clause', () => {
    const m = sample();
    const back = decodeScanMemo(encodeScanMemo(header, m, 'b1'), header);
    expect(back).toBeDefined();
    expect(back!.entries).toEqual(m.entries);
    expect(back!.baseId).toBe('b1');
    expect(back!.dirty).toBe(false);
    expect(back!.changed.size).toBe(0);
  });

  it('stores a repeated import path once', () => {
    const text = encodeScanMemo(header, sample(), 'b1');
    expect(text.split('"fmt"')).toHaveLength(2);
  });

  const good = JSON.parse(encodeScanMemo(header, sample(), 'b1'));
  it.each<[string, string]>([
    ['not JSON (a torn write)', encodeScanMemo(header, sample(), 'b1').slice(0, 40)],
    ['empty', ''],
    ['null', 'null'],
    ['an array', '[]'],
    ['another format version', JSON.stringify({ ...good, format: SCAN_MEMO_FORMAT + 1 })],
    ['another plugin version', JSON.stringify({ ...good, plugin: 'nx-swarm@0.0.9' })],
    ['another scanner', JSON.stringify({ ...good, scanner: 'def' })],
    ['no string table', JSON.stringify({ ...good, strings: undefined })],
    ['a string index out of range', JSON.stringify({ ...good, files: { 'a.go': ['1:1:1:1', 0, 99] } })],
    ['a row of the wrong length', JSON.stringify({ ...good, files: { 'a.go': ['1:1:1:1', 0, -1, 0, -1] } })],
    ['a stat that is no string', JSON.stringify({ ...good, files: { 'a.go': [1, 0, -1] } })],
    ['a racy flag that is no 0/1', JSON.stringify({ ...good, files: { 'a.go': ['1:1:1:1', true, -1] } })],
    ['a line that is no integer', JSON.stringify({ ...good, files: { 'a.go': ['1:1:1:1', 0, -1, 0, -1, 'x'] } })],
    ['without a base id', JSON.stringify({ ...good, id: undefined })],
    ['an import path index of -1', JSON.stringify({ ...good, files: { 'a.go': ['1:1:1:1', 0, -1, -1, -1, 3] } })],
  ])('ignores a file that is %s', (_what, text) => {
    expect(() => decodeScanMemo(text, header)).not.toThrow();
    expect(decodeScanMemo(text, header)).toBeUndefined();
  });
});

describe('the delta file', () => {
  /** A base on disk, then these changes in a later worker. */
  function later(change: (m: ScanMemo) => void) {
    const loaded = decodeScanMemo(encodeScanMemo(header, sample(), 'b1'), header)!;
    change(loaded);
    return encodeScanMemoDelta(header, loaded);
  }
  const reload = (delta: string, base = encodeScanMemo(header, sample(), 'b1')) => {
    const m = decodeScanMemo(base, header)!;
    return { m, applied: applyScanMemoDelta(m, delta, header) };
  };

  it.each<[string, (m: ScanMemo) => void]>([
    ['an edited file', (m) => m.set('svc/main.go', '11:1:1:7', false, facts('os'))],
    ['a new file', (m) => m.set('svc/new.go', '1:1:1:1', true, facts('net/http'))],
    ['a deleted file', (m) => m.retainOnly(new Set(['svc/main.go', 'svc/doc.go']))],
    [
      'several changes, one after the other',
      (m) => {
        m.set('svc/main.go', '11:1:1:7', false, facts('os'));
        m.retainOnly(new Set(['svc/main.go']));
        m.set('svc/doc.go', '7:1:1:8', false, facts('fmt'));
      },
    ],
  ])('holds %s: base + delta = the memo that wrote it', (_what, change) => {
    const expected = decodeScanMemo(encodeScanMemo(header, sample(), 'b1'), header)!;
    change(expected);
    const { m, applied } = reload(later(change));
    expect(applied).toBe(true);
    expect(m.entries).toEqual(expected.entries);
    expect([...m.changed].sort()).toEqual([...expected.changed].sort()); // the next delta still covers them
  });

  it('is small: only the changed files', () => {
    const delta = later((m) => m.set('svc/main.go', '11:1:1:7', false, facts('os')));
    expect(delta).not.toContain('greet.go');
  });

  it.each<[string, string, string]>([
    ['another base', later((m) => m.set('svc/main.go', '11:1:1:7', false, facts('os'))), encodeScanMemo(header, sample(), 'b2')],
    ['garbage', '{"format":1,', encodeScanMemo(header, sample(), 'b1')],
    [
      'another scanner',
      JSON.stringify({ ...JSON.parse(later((m) => m.retainOnly(new Set()))), scanner: 'x' }),
      encodeScanMemo(header, sample(), 'b1'),
    ],
    [
      'dropped paths that are no strings',
      JSON.stringify({ ...JSON.parse(later((m) => m.retainOnly(new Set()))), dropped: [1] }),
      encodeScanMemo(header, sample(), 'b1'),
    ],
  ])('is ignored when it is for %s (the base alone stands)', (_what, delta, base) => {
    const { m, applied } = reload(delta, base);
    expect(applied).toBe(false);
    expect(m.entries).toEqual(sample().entries);
  });

  it('needs a base', () => {
    expect(() => encodeScanMemoDelta(header, new ScanMemo())).toThrow(/base/);
  });
});
