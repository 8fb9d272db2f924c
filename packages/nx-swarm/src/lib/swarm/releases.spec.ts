import * as path from 'node:path';
import {
  RELEASE_LIMIT,
  Release,
  appendRelease,
  chooseRollbackTarget,
  decodeReleases,
  encodeReleases,
  formatReleaseTable,
  gitCommit,
  namesInReleases,
} from './releases';

const rel = (n: number, extra: Partial<Release> = {}): Release => ({
  n,
  image: `repo/acct@sha256:${String(n).repeat(64).slice(0, 64)}`,
  at: `2026-12-01T10:0${n % 10}:00.000Z`,
  by: 'ci@runner',
  ...extra,
});

describe('release-history label codec', () => {
  it('round-trips, newest first', () => {
    const h = [rel(2, { secrets: { admin_token: 'acct_admin_token_22222222' }, commit: 'abc123def456' }), rel(1)];
    expect(decodeReleases(encodeReleases(h))).toEqual({ releases: h });
  });

  it.each([
    [5, 5],
    [RELEASE_LIMIT, RELEASE_LIMIT],
    [25, RELEASE_LIMIT],
  ])('keeps at most the last %d → %d', (count, kept) => {
    let h: Release[] = [];
    for (let i = 0; i < count; i++) h = appendRelease(h, { image: `img:${i + 1}`, at: 'now', by: 'me' });
    const decoded = decodeReleases(encodeReleases(h)).releases;
    expect(decoded).toHaveLength(kept);
    expect(decoded[0]).toMatchObject({ n: count, image: `img:${count}` });
    expect(decoded[kept - 1].n).toBe(count - kept + 1);
  });

  it('stays small: 10 releases with a secret and a config each fit in 4 KiB', () => {
    let h: Release[] = [];
    for (let i = 0; i < 12; i++) {
      h = appendRelease(h, {
        ...rel(1),
        secrets: { admin_token: `accountservice_admin_token_${i}0000000` },
        configs: { greeting: `accountservice_greeting_${i}0000000` },
        commit: 'abcdefabcdef',
      });
    }
    expect(encodeReleases(h).length).toBeLessThan(4096);
  });

  it.each<[string, string | undefined, number, RegExp | undefined]>([
    ['no label', undefined, 0, undefined],
    ['empty', '', 0, undefined],
    ['not JSON', '{', 0, /not JSON/],
    ['other format', '{"v":9,"r":[]}', 0, /unknown format/],
    ['a bad entry is skipped, the rest read', JSON.stringify({ v: 1, r: [rel(2), { n: 'x' }] }), 1, /1 unreadable release/],
  ])('decode: %s', (_n, value, count, problem) => {
    const d = decodeReleases(value);
    expect(d.releases).toHaveLength(count);
    if (problem) expect(d.problem).toMatch(problem);
    else expect(d.problem).toBeUndefined();
  });

  it('namesInReleases: every object version a release keeps', () => {
    expect(namesInReleases([rel(2, { secrets: { t: 's2' }, configs: { g: 'c2' } }), rel(1, { secrets: { t: 's1' } })]).sort()).toEqual([
      'c2',
      's1',
      's2',
    ]);
  });
});

describe('chooseRollbackTarget', () => {
  const h = [rel(3), rel(2), rel(1)];
  it.each<[string, Release[], number | undefined, number | undefined, RegExp | undefined]>([
    ['default: the one before the current', h, undefined, 2, undefined],
    ['--to 1', h, 1, 1, undefined],
    ['--to the current', h, 3, undefined, /#3 is the current release/],
    ['--to one not kept', h, 7, undefined, /no release #7; the history holds #3, #2, #1/],
    ['only one release', [rel(1)], undefined, undefined, /only one release/],
    ['no history', [], undefined, undefined, /no release history/],
  ])('%s', (_n, releases, to, expected, problem) => {
    const r = chooseRollbackTarget(releases, to);
    expect(r.release?.n).toBe(expected);
    if (problem) expect(r.problem).toMatch(problem);
  });
});

it('formatReleaseTable: newest first, current marked, digests shortened, rollbacks said', () => {
  const lines = formatReleaseTable([
    rel(3, { rollbackOf: 1, image: rel(1).image }),
    rel(2, { secrets: { admin_token: 'acct_admin_token_abcdef12' }, commit: 'abc123def456' }),
    rel(1),
  ]);
  expect(lines[0]).toMatch(/^#\s+deployed\s+image\s+secrets\/configs\s+commit\s+by$/);
  expect(lines[1]).toMatch(/^\*3\s+2026-12-01 10:03:00Z\s+repo\/acct@sha256:111111111111\s+-\s+-\s+ci@runner \(rollback to #1\)$/);
  expect(lines[2]).toMatch(/^ 2 .*admin_token@abcdef12\s+abc123def456\s+ci@runner$/);
  expect(lines).toHaveLength(4);
});

describe('gitCommit (read from .git, no git process)', () => {
  const C = 'a'.repeat(40);
  const D = 'b'.repeat(40);
  it.each<[string, Record<string, string>, string | undefined]>([
    ['loose ref', { '/r/.git/HEAD': 'ref: refs/heads/main\n', '/r/.git/refs/heads/main': `${C}\n` }, C.slice(0, 12)],
    ['packed ref', { '/r/.git/HEAD': 'ref: refs/heads/main\n', '/r/.git/packed-refs': `# pack-refs\n${D} refs/heads/main\n` }, D.slice(0, 12)],
    ['detached HEAD', { '/r/.git/HEAD': `${C}\n` }, C.slice(0, 12)],
    [
      'worktree (.git file + commondir)',
      {
        '/r/.git': 'gitdir: /main/.git/worktrees/r\n',
        '/main/.git/worktrees/r/HEAD': 'ref: refs/heads/x\n',
        '/main/.git/worktrees/r/commondir': '../..\n',
        '/main/.git/refs/heads/x': `${D}\n`,
      },
      D.slice(0, 12),
    ],
    ['no git', {}, undefined],
    ['unborn branch', { '/r/.git/HEAD': 'ref: refs/heads/main\n' }, undefined],
  ])('%s', (_n, files, expected) => {
    expect(gitCommit('/r/apps/x', (f) => files[path.resolve(f)])).toBe(expected);
  });
});
