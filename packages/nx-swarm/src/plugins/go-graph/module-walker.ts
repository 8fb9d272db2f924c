/**
 * The module folders' .go files for createNodes, walked again only where something changed.
 *
 * createNodes needs every module's file stats to find what changed (Nx gives it no list of changed
 * files): 10,000 stats and 1,400 folder reads on the benchmark's tree, about 100 ms per graph
 * computation. A process that computes the graph again and again, the Nx daemon with plugins not
 * isolated (`NX_ISOLATE_PLUGINS=false`), keeps each module's last walk here, with a file-system
 * watch (inotify through `fs.watch`) on every folder it walked, and walks a module again only when:
 * - one of its folders had an event (a file written, created, removed or renamed, a folder added);
 * - where events may be lost without a trace (not Linux: FSEvents, ReadDirectoryChangesW), one of
 *   its folders' own stat changed (what a lost event of a create, delete or rename leaves). inotify
 *   drops events only when its queue overflows, which the event count below detects, so on Linux
 *   the 1,400 folder stats of every computation (about 4 ms on the benchmark's tree) are not made;
 * - it had a racy file (modified within 2 s of the walk, see scan-memo.ts);
 * - the set of modules changed.
 * Everything is walked again when the watch can't be trusted: before each computation a barrier
 * file is created in Nx's workspace-data folder and its own event awaited (events of one process
 * come in order, so every edit made before the computation began has then been seen); no event
 * within a second, a watch that failed, or more events since the last computation than an inotify
 * queue might hold without dropping some, and this process goes back to walking everything, every
 * time, as before. Outside the daemon (a CLI process, an isolated plugin worker), or with
 * `NX_SWARM_GO_WATCH=false`, nothing is watched and every computation walks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { statKey, walkModuleGoFiles, workspaceDataDir, type GoFileStat } from './workspace-files';

/** A watch on one folder; `onEvent` gets the entry's name (when the platform gives it). */
export type WatchDir = (abs: string, onEvent: (name: string | undefined) => void, onError: () => void) => { close(): void };

export interface ModuleWalkerSeams {
  watchDir: WatchDir;
  /** statKeyOf the folder, undefined when it is gone. */
  statDir: (abs: string) => string | undefined;
  /** Before trusting the watch, compare every watched folder's stat with its last (see above). */
  checkFolderStats: boolean;
  /** The folder where the barrier files are created (it is not part of any module). */
  barrierDir: string;
  barrierTimeoutMs: number;
  /** More events than this between two computations: walk everything (a full inotify queue drops events). */
  maxEventsBetween: number;
}

export const watchDirWithFs: WatchDir = (abs, onEvent, onError) => {
  const w = fs.watch(abs, { persistent: false }, (_event, name) => onEvent(name == null ? undefined : String(name)));
  w.on('error', onError);
  return w;
};

const BARRIER_PREFIX = 'nx-swarm-go-watch-';

/** The inode in a statKeyOf() key (`size:mtime:ctime:ino`). */
const inodeOf = (key: string | undefined) => (key === undefined ? undefined : key.slice(key.lastIndexOf(':') + 1));

interface WatchedDir {
  root: string;
  abs: string;
  key: string | undefined;
  watch: { close(): void };
  /** An event named like the folder itself: it may be gone (a watch follows the old folder). */
  stale?: boolean;
}

export class ModuleWalker {
  private readonly walks = new Map<string, { files: GoFileStat[]; dirs: string[] }>();
  private readonly dirs = new Map<string, WatchedDir>();
  private readonly dirty = new Set<string>();
  private rootsKey = '';
  private events = 0;
  /** Too many events since the last computation: some may have been dropped, walk everything once. */
  private suspect = false;
  private broken = false;
  private barrierWatch: { close(): void } | undefined;
  /** Barrier files created and not yet seen, by name (walks may overlap: each has its own). */
  private readonly pendingBarriers = new Map<string, (ok: boolean) => void>();
  private seq = 0;
  /** The modules the last walk() walked (the others it answered from their earlier walk). */
  lastWalked: string[] = [];
  /**
   * The modules the last walk() answered from their earlier walk: nothing in their folders changed
   * since (their root folder's go.mod, project.json, Dockerfile included: a write there is an event too).
   */
  lastKept = new Set<string>();

  constructor(
    private readonly workspaceRoot: string,
    private readonly watching: boolean,
    private readonly seams: ModuleWalkerSeams,
  ) {}

  /** The .go files of each module root (nested module roots excluded from their parents). */
  async walk(roots: string[]): Promise<Map<string, GoFileStat[]>> {
    if (this.watching && !this.broken) this.ensureBarrierWatch();
    const key = roots.join('\n');
    // The barrier first: only then have the events of every edit made before this call come in.
    const trusted = this.watching && !this.broken && key === this.rootsKey && this.walks.size > 0 && (await this.barrier()) && !this.suspect;
    if (trusted && this.seams.checkFolderStats) {
      for (const d of this.dirs.values()) if (!this.dirty.has(d.root) && this.seams.statDir(d.abs) !== d.key) this.dirty.add(d.root);
    }
    this.rootsKey = key;
    this.suspect = false;
    this.events = 0;
    const dirty = new Set(this.dirty);
    this.dirty.clear();
    const out = new Map<string, GoFileStat[]>();
    this.lastWalked = [];
    this.lastKept = new Set();
    for (const root of roots) {
      const known = this.walks.get(root);
      if (trusted && known && !dirty.has(root)) {
        out.set(root, known.files);
        this.lastKept.add(root);
        continue;
      }
      const nested = new Set(roots.filter((r) => r !== root && (root === '.' || r.startsWith(`${root}/`))));
      out.set(root, this.walkOne(root, nested, known?.dirs ?? []));
      this.lastWalked.push(root);
    }
    if (this.watching && !this.broken) {
      for (const root of [...this.walks.keys()]) if (!out.has(root)) this.drop(root);
    } else {
      this.walks.clear();
    }
    return out;
  }

  /** Whether this walker keeps watches (false outside the daemon, or once watching failed). */
  get isWatching(): boolean {
    return this.watching && !this.broken;
  }

  /** Stops every watch (tests; a process that is done with the workspace). */
  close(): void {
    this.forget();
    this.barrierWatch?.close();
    this.barrierWatch = undefined;
  }

  private walkOne(root: string, nested: Set<string>, before: string[]): GoFileStat[] {
    const watch = this.watching && !this.broken;
    const seen: string[] = [];
    const files = walkModuleGoFiles(
      this.workspaceRoot,
      root,
      nested,
      watch
        ? (rel, abs) => {
            seen.push(rel);
            this.watchDir(root, rel, abs);
          }
        : undefined,
    );
    if (!watch || this.broken) return files;
    const now = new Set(seen);
    for (const rel of before) {
      const d = this.dirs.get(rel);
      if (d && d.root === root && !now.has(rel)) {
        d.watch.close();
        this.dirs.delete(rel);
      }
    }
    this.walks.set(root, { files, dirs: seen });
    if (files.some((f) => f.racy)) this.dirty.add(root);
    return files;
  }

  /** A watch on the folder (before it is read, so that nothing written after the read goes unseen). */
  private watchDir(root: string, rel: string, abs: string): void {
    const known = this.dirs.get(rel);
    const key = this.seams.statDir(abs);
    if (known && !known.stale && inodeOf(known.key) === inodeOf(key)) {
      known.root = root;
      known.key = key;
      return;
    }
    // New, or removed and made again under the same name: a watch follows the old folder, and its
    // inode number may well be the new one's (file systems reuse them at once).
    known?.watch.close();
    this.dirs.delete(rel);
    try {
      const watch = this.seams.watchDir(
        abs,
        (name) => this.onEvent(rel, name),
        () => this.giveUp(),
      );
      this.dirs.set(rel, { root, abs, key, watch });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.dirty.add(root); // gone since its parent was read: walk the module again next time
        return;
      }
      // ENOSPC (the inotify watch limit), or anything else: no watching in this process.
      this.giveUp();
    }
  }

  private onEvent(rel: string, name: string | undefined): void {
    const d = this.dirs.get(rel);
    if (d) {
      this.dirty.add(d.root);
      // The folder itself removed or moved away (inotify's IN_DELETE_SELF / IN_MOVE_SELF come
      // named like it); or an entry of the same name: then the watch is only set up again.
      if (name === undefined || name === path.basename(d.abs)) d.stale = true;
    }
    if (++this.events > this.seams.maxEventsBetween) this.suspect = true;
  }

  private ensureBarrierWatch(): void {
    if (this.barrierWatch) return;
    try {
      fs.mkdirSync(this.seams.barrierDir, { recursive: true });
      this.barrierWatch = this.seams.watchDir(
        this.seams.barrierDir,
        (name) => {
          if (name) this.pendingBarriers.get(name)?.(true);
        },
        () => this.giveUp(),
      );
    } catch {
      this.giveUp();
    }
  }

  /** True once the event of a file created now has come: every earlier event has been seen. */
  private barrier(): Promise<boolean> {
    if (!this.barrierWatch) return Promise.resolve(false);
    const name = `${BARRIER_PREFIX}${process.pid}-${++this.seq}`;
    const file = path.join(this.seams.barrierDir, name);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), this.seams.barrierTimeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.pendingBarriers.delete(name);
        fs.rmSync(file, { force: true });
        if (!ok) this.giveUp();
        resolve(ok && !this.broken);
      };
      this.pendingBarriers.set(name, finish);
      try {
        fs.writeFileSync(file, '');
      } catch {
        finish(false);
      }
    });
  }

  /** Watching failed or can't be trusted: close it all; from now on every computation walks. */
  private giveUp(): void {
    this.broken = true;
    this.forget();
    this.barrierWatch?.close();
    this.barrierWatch = undefined;
  }

  private forget(): void {
    for (const d of this.dirs.values()) d.watch.close();
    this.dirs.clear();
    this.walks.clear();
    this.dirty.clear();
  }

  private drop(root: string): void {
    for (const rel of this.walks.get(root)?.dirs ?? []) {
      const d = this.dirs.get(rel);
      if (d && d.root === root) {
        d.watch.close();
        this.dirs.delete(rel);
      }
    }
    this.walks.delete(root);
  }
}

const walkers = new Map<string, ModuleWalker>();

/**
 * Half of what one inotify queue holds (`fs.inotify.max_queued_events`, 16,384 by default), at most
 * 4,096: a queue that overflowed has delivered at least that many events before the ones it dropped
 * (libuv ignores the overflow event itself), so the count since the last computation tells.
 */
export function maxEventsBetween(read: () => string = () => fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8')): number {
  try {
    const n = Number.parseInt(read(), 10);
    return Number.isFinite(n) && n > 0 ? Math.min(4096, Math.floor(n / 2)) : 4096;
  } catch {
    return 4096;
  }
}

/** Watching pays only in a process that computes the graph again: the Nx daemon's own (plugins not isolated). */
function shouldWatch(): boolean {
  if (process.env.NX_SWARM_GO_WATCH === 'false') return false;
  return !!(globalThis as { NX_DAEMON?: unknown }).NX_DAEMON || process.env.NX_SWARM_GO_WATCH === 'true';
}

/** This process's walker for the workspace. */
export function moduleWalkerFor(workspaceRoot: string): ModuleWalker {
  let w = walkers.get(workspaceRoot);
  if (!w) {
    w = new ModuleWalker(workspaceRoot, shouldWatch(), {
      watchDir: watchDirWithFs,
      statDir: statKey,
      checkFolderStats: process.platform !== 'linux',
      barrierDir: workspaceDataDir(workspaceRoot),
      barrierTimeoutMs: 1000,
      maxEventsBetween: maxEventsBetween(),
    });
    walkers.set(workspaceRoot, w);
  }
  return w;
}

/** For tests: close and forget every walker of this process. */
export function closeModuleWalkers(): void {
  for (const w of walkers.values()) w.close();
  walkers.clear();
}
