/**
 * Release history: each deploy that writes the service records a release (image, secret and
 * config versions, git commit, time, who and where) in one service label, newest first, the last
 * RELEASE_LIMIT. The label is part of the spec the deploy writes, so swarm's automatic rollback of
 * a failed update restores the previous history with the previous spec: a release that never
 * converged drops out by itself. Pure (the git reader takes an injected file reader).
 */
import * as path from 'node:path';

export const RELEASES_LABEL = 'io.nx-swarm.releases';
export const RELEASE_LIMIT = 10;
const FORMAT = 1;

export interface Release {
  /** Release number, counting up from 1 for the service. */
  n: number;
  /** The image reference the tasks run (pinned: digest or content tag). */
  image: string;
  /** source → object name. */
  secrets?: Record<string, string>;
  configs?: Record<string, string>;
  /** git commit of the workspace (short), "+dirty"-less: HEAD as checked out. */
  commit?: string;
  /** ISO time of the deploy. */
  at: string;
  /** user@machine that ran it. */
  by: string;
  /** This release was a rollback to release n. */
  rollbackOf?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNameMap = (v: unknown): v is Record<string, string> => isRecord(v) && Object.values(v).every((x) => typeof x === 'string');

function validRelease(v: unknown): v is Release {
  if (!isRecord(v)) return false;
  return (
    Number.isInteger(v.n) &&
    (v.n as number) > 0 &&
    typeof v.image === 'string' &&
    typeof v.at === 'string' &&
    typeof v.by === 'string' &&
    (v.secrets === undefined || isNameMap(v.secrets)) &&
    (v.configs === undefined || isNameMap(v.configs)) &&
    (v.commit === undefined || typeof v.commit === 'string') &&
    (v.rollbackOf === undefined || Number.isInteger(v.rollbackOf))
  );
}

/** The label's value → the history (newest first). A value this version can't read: an empty history and why. */
export function decodeReleases(value: string | undefined): { releases: Release[]; problem?: string } {
  if (value === undefined || value === '') return { releases: [] };
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!isRecord(parsed) || parsed.v !== FORMAT || !Array.isArray(parsed.r)) {
      return {
        releases: [],
        problem: `label ${RELEASES_LABEL} has an unknown format (written by another nx-swarm version?); starting a new history`,
      };
    }
    const releases = parsed.r.filter(validRelease).sort((a, b) => b.n - a.n);
    return releases.length === parsed.r.length
      ? { releases }
      : { releases, problem: `label ${RELEASES_LABEL}: ${parsed.r.length - releases.length} unreadable release(s) skipped` };
  } catch {
    return { releases: [], problem: `label ${RELEASES_LABEL} is not JSON; starting a new history` };
  }
}

/** The history → the label's value (compact JSON, newest first, at most RELEASE_LIMIT). */
export function encodeReleases(releases: Release[]): string {
  const r = [...releases]
    .sort((a, b) => b.n - a.n)
    .slice(0, RELEASE_LIMIT)
    .map((x) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined && !(isRecord(v) && !Object.keys(v).length))));
  return JSON.stringify({ v: FORMAT, r });
}

/** The history with a new release on top (numbered after the newest), bounded. */
export function appendRelease(history: Release[], release: Omit<Release, 'n'>): Release[] {
  const n = (history[0]?.n ?? 0) + 1;
  return [{ ...release, n } as Release, ...history].slice(0, RELEASE_LIMIT);
}

/** The object names every release in the history uses (kept while the release is in the history). */
export function namesInReleases(releases: Release[]): string[] {
  return releases.flatMap((r) => [...Object.values(r.secrets ?? {}), ...Object.values(r.configs ?? {})]);
}

/**
 * The release to roll back to: `to` = a release number from the list; default the release before
 * the current one (the newest). Returns the release, or why there is none.
 */
export function chooseRollbackTarget(releases: Release[], to?: number): { release?: Release; problem?: string } {
  if (!releases.length)
    return { problem: 'it has no release history (it was deployed by something other than nx-swarm, or before nx-swarm recorded releases)' };
  if (to === undefined) {
    if (releases.length < 2) return { problem: `it has only one release (#${releases[0].n}), so there is nothing earlier to return to` };
    return { release: releases[1] };
  }
  const release = releases.find((r) => r.n === to);
  if (!release)
    return {
      problem: `it has no release #${to}; the history holds ${releases.map((r) => `#${r.n}`).join(', ')} (the last ${RELEASE_LIMIT} are kept)`,
    };
  if (release === releases[0]) return { problem: `release #${to} is the current release` };
  return { release };
}

/** The `--list` table: newest first, the current release marked. */
export function formatReleaseTable(releases: Release[], currentImage?: string): string[] {
  const rows = releases.map((r, i) => [
    `${i === 0 && (!currentImage || currentImage === r.image) ? '*' : ' '}${r.n}`,
    r.at.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z'),
    shortImage(r.image),
    [...Object.entries(r.secrets ?? {}), ...Object.entries(r.configs ?? {})].map(([s, name]) => `${s}@${name.slice(-8)}`).join(' ') || '-',
    r.commit ?? '-',
    r.by + (r.rollbackOf ? ` (rollback to #${r.rollbackOf})` : ''),
  ]);
  const head = ['#', 'deployed', 'image', 'secrets/configs', 'commit', 'by'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((x, c) => (c === cells.length - 1 ? x : x.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** repo@sha256:abcdef123456 → repo@sha256:abcdef123456 (12 hex), tags untouched. */
function shortImage(image: string): string {
  return image.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, '@sha256:$1');
}

/**
 * The checked-out commit (12 hex) of the git work tree at or above `dir`, read from .git (HEAD,
 * loose refs, packed-refs, worktree `gitdir:` files) without running git. undefined: no git.
 */
export function gitCommit(dir: string, readText: (file: string) => string | undefined): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const dotgit = path.join(d, '.git');
    let gitDir: string | undefined;
    const asFile = readText(dotgit);
    if (asFile?.startsWith('gitdir:')) gitDir = path.resolve(d, asFile.slice(7).trim());
    else if (readText(path.join(dotgit, 'HEAD')) !== undefined) gitDir = dotgit;
    if (gitDir) {
      const head = readText(path.join(gitDir, 'HEAD'))?.trim();
      if (!head) return undefined;
      if (/^[0-9a-f]{40}$/.test(head)) return head.slice(0, 12);
      const ref = /^ref: (.+)$/.exec(head)?.[1];
      if (!ref) return undefined;
      const common = readText(path.join(gitDir, 'commondir'))?.trim();
      const dirs = [gitDir, ...(common ? [path.resolve(gitDir, common)] : [])];
      for (const g of dirs) {
        const loose = readText(path.join(g, ref))?.trim();
        if (loose && /^[0-9a-f]{40}$/.test(loose)) return loose.slice(0, 12);
        const packed = readText(path.join(g, 'packed-refs'));
        const line = packed?.split('\n').find((l) => l.endsWith(` ${ref}`));
        if (line) return line.slice(0, 12);
      }
      return undefined;
    }
    if (path.dirname(d) === d) return undefined;
  }
}
