/**
 * The memo of scanned Go files that outlives a plugin worker. Nx starts a new worker for a graph-only
 * plugin on every project-graph computation (it shuts a worker down after its last graph hook), so an
 * in-memory memo is gone by the next edit; this one is written to Nx's workspace-data folder.
 *
 * Pure: stat fingerprints, the racy-file rule, the file format (encode/decode) and the memo itself;
 * reading and writing the file is in workspace-files.ts.
 *
 * Correctness over hits. An entry is trusted only while the file's size, mtime, ctime and inode are
 * all unchanged (ctime can't be set from user space, so a tool that restores an mtime still changes
 * it), and never when the file was modified within RACY_WINDOW_MS of being read: a second write in
 * the same timestamp tick with the same size would otherwise go unseen (git's "racily clean" index
 * entries). A file that is missing, unreadable, of another format version, plugin version or scanner
 * is simply not used: the cost is one full scan, never a wrong graph.
 */
import type { GoFileImports, GoImport } from './imports';

/** Bump when the layout below changes. */
export const SCAN_MEMO_FORMAT = 1;

/** A file modified this close to (or after) the moment it was read is read again next time. */
export const RACY_WINDOW_MS = 2000;

/** What invalidates a whole memo file: its format, the plugin's version, and the scanner's own code. */
export interface ScanMemoHeader {
  format: number;
  plugin: string;
  scanner: string;
}

export interface ScanMemoEntry {
  /** statKeyOf() of the file when it was read. */
  stat: string;
  /** Modified within RACY_WINDOW_MS of the read: the scan stands for this computation only. */
  racy: boolean;
  facts: GoFileImports;
}

export interface StatLike {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export function statKeyOf(st: StatLike): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
}

/** True when the file changed too close to `readAt` (epoch ms) for its stat to vouch for what was read. */
export function isRacy(st: Pick<StatLike, 'mtimeMs' | 'ctimeMs'>, readAt: number, windowMs = RACY_WINDOW_MS): boolean {
  return Math.max(st.mtimeMs, st.ctimeMs) > readAt - windowMs;
}

const sameImports = (a: GoImport[], b: GoImport[]) =>
  a.length === b.length && a.every((x, i) => x.path === b[i].path && x.name === b[i].name && x.line === b[i].line);

/**
 * File path → what its scan found. `dirty`: something changed that should reach the disk; `changed`:
 * the files set or dropped since the memo's base file (`baseId`) was written, what a delta holds.
 */
export class ScanMemo {
  dirty = false;
  readonly changed = new Set<string>();
  constructor(
    readonly entries = new Map<string, ScanMemoEntry>(),
    public baseId?: string,
  ) {}

  /** The facts of a file whose stat is unchanged since a read that was not racy. */
  lookup(file: string, stat: string): GoFileImports | undefined {
    const e = this.entries.get(file);
    return e && !e.racy && e.stat === stat ? e.facts : undefined;
  }

  set(file: string, stat: string, racy: boolean, facts: GoFileImports): void {
    const old = this.entries.get(file);
    if (
      old &&
      old.stat === stat &&
      old.racy === racy &&
      old.facts.packageName === facts.packageName &&
      sameImports(old.facts.imports, facts.imports)
    ) {
      return;
    }
    this.entries.set(file, { stat, racy, facts });
    this.changed.add(file);
    this.dirty = true;
  }

  /** Drops every file not in `files` (deleted, or no longer in a module the plugin reads). */
  retainOnly(files: Set<string>): void {
    for (const file of this.entries.keys()) {
      if (!files.has(file)) {
        this.entries.delete(file);
        this.changed.add(file);
        this.dirty = true;
      }
    }
  }
}

/*
 * Two files. The base: JSON { format, plugin, scanner, id, strings, files }. Import paths, aliases
 * and package names repeat across thousands of files, so they are indices into `strings`; each file
 * is [stat, racy 0|1, package index or -1, then per import: path index, alias index or -1, line].
 * The delta, written instead of the base while few files changed since it (an edit rewrites a few
 * hundred bytes, not megabytes): { format, plugin, scanner, base: the base's id, strings, files (the
 * changed ones), dropped: [paths] }. A delta whose base is not the base on disk is ignored.
 */
type EncodedFile = [string, 0 | 1, number, ...number[]];
interface EncodedMemo extends ScanMemoHeader {
  id: string;
  strings: string[];
  files: Record<string, EncodedFile>;
}
interface EncodedDelta extends ScanMemoHeader {
  base: string;
  strings: string[];
  files: Record<string, EncodedFile>;
  dropped: string[];
}

function encodeFiles(memo: ScanMemo, which: Iterable<string>): { strings: string[]; files: Record<string, EncodedFile>; dropped: string[] } {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const id = (s: string | undefined) => {
    if (s === undefined) return -1;
    let i = index.get(s);
    if (i === undefined) {
      i = strings.push(s) - 1;
      index.set(s, i);
    }
    return i;
  };
  const files: Record<string, EncodedFile> = {};
  const dropped: string[] = [];
  for (const file of which) {
    const e = memo.entries.get(file);
    if (!e) {
      dropped.push(file);
      continue;
    }
    const row: EncodedFile = [e.stat, e.racy ? 1 : 0, id(e.facts.packageName)];
    for (const imp of e.facts.imports) row.push(id(imp.path), id(imp.name), imp.line);
    files[file] = row;
  }
  return { strings, files, dropped };
}

/** The whole memo as a base file with this id. */
export function encodeScanMemo(header: ScanMemoHeader, memo: ScanMemo, id: string): string {
  const { strings, files } = encodeFiles(memo, memo.entries.keys());
  const out: EncodedMemo = { ...header, id, strings, files };
  return JSON.stringify(out);
}

/** What changed since the memo's base (memo.changed), as a delta file for it. */
export function encodeScanMemoDelta(header: ScanMemoHeader, memo: ScanMemo): string {
  if (!memo.baseId) throw new Error('a delta needs a base');
  const out: EncodedDelta = { ...header, base: memo.baseId, ...encodeFiles(memo, memo.changed) };
  return JSON.stringify(out);
}

const parse = (text: string): Record<string, unknown> | undefined => {
  try {
    const raw: unknown = JSON.parse(text);
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};
const sameHeader = (m: Record<string, unknown>, h: ScanMemoHeader) => m.format === h.format && m.plugin === h.plugin && m.scanner === h.scanner;

function decodeFiles(strings: unknown, files: unknown): Map<string, ScanMemoEntry> | undefined {
  if (!Array.isArray(strings) || !strings.every((s) => typeof s === 'string') || !files || typeof files !== 'object') return undefined;
  const str = (i: unknown): string | undefined | null =>
    i === -1 ? undefined : Number.isInteger(i) && (i as number) >= 0 && (i as number) < strings.length ? (strings[i as number] as string) : null;
  const entries = new Map<string, ScanMemoEntry>();
  for (const [file, row] of Object.entries(files)) {
    if (!Array.isArray(row) || row.length < 3 || (row.length - 3) % 3 !== 0) return undefined;
    const [stat, racy, pkg] = row;
    const packageName = str(pkg);
    if (typeof stat !== 'string' || (racy !== 0 && racy !== 1) || packageName === null) return undefined;
    const imports: GoImport[] = [];
    for (let i = 3; i < row.length; i += 3) {
      const path = str(row[i]);
      const name = str(row[i + 1]);
      const line = row[i + 2];
      if (typeof path !== 'string' || name === null || typeof line !== 'number' || !Number.isInteger(line)) return undefined;
      imports.push(name === undefined ? { path, line } : { path, name, line });
    }
    entries.set(file, { stat, racy: racy === 1, facts: packageName === undefined ? { imports } : { packageName, imports } });
  }
  return entries;
}

/** The memo in a base file, or undefined when it is not one this plugin wrote in this format. Never throws. */
export function decodeScanMemo(text: string, expected: ScanMemoHeader): ScanMemo | undefined {
  const m = parse(text);
  if (!m || !sameHeader(m, expected) || typeof m.id !== 'string') return undefined;
  const entries = decodeFiles(m.strings, m.files);
  return entries && new ScanMemo(entries, m.id);
}

/** Applies a delta file to the memo of its base; false (memo untouched) when it is not for that base or broken. */
export function applyScanMemoDelta(memo: ScanMemo, text: string, expected: ScanMemoHeader): boolean {
  const d = parse(text);
  if (!d || !sameHeader(d, expected) || !memo.baseId || d.base !== memo.baseId) return false;
  const entries = decodeFiles(d.strings, d.files);
  const dropped = d.dropped;
  if (!entries || !Array.isArray(dropped) || !dropped.every((f) => typeof f === 'string')) return false;
  for (const [file, e] of entries) {
    memo.entries.set(file, e);
    memo.changed.add(file);
  }
  for (const file of dropped as string[]) {
    memo.entries.delete(file);
    memo.changed.add(file);
  }
  return true;
}
