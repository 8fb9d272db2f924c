/**
 * What a deploy read from the workspace and the environment (secrets' and configs' files and
 * variables, the stack file and its env_files, groupsFromFiles), so that the deploy target's cache
 * check (lib/docker/engine-state.ts) hashes exactly those the next time. Files inside the workspace
 * are kept workspace-relative, so the record holds at any checkout path.
 */
import * as path from 'node:path';

export interface ReadTracker {
  /** The environment, recording each variable read by name. */
  env: NodeJS.ProcessEnv;
  /** Records a file path (absolute or workspace-relative). */
  file(f: string): void;
  /** Marks the deploy as one the state can't describe (e.g. an image given by a tag). */
  uncacheable(why: string): void;
  readonly read: { files: string[]; env: string[]; uncacheable?: string };
}

export function readTracker(env: NodeJS.ProcessEnv, workspaceRoot: string): ReadTracker {
  const names = new Set<string>();
  const files = new Set<string>();
  let why: string | undefined;
  const tracked = new Proxy(env, {
    get(target, key, receiver) {
      if (typeof key === 'string') names.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return {
    env: tracked,
    file(f) {
      const abs = path.resolve(workspaceRoot, f);
      const rel = path.relative(workspaceRoot, abs);
      files.add(rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs);
    },
    uncacheable(reason) {
      why ??= reason;
    },
    get read() {
      return { files: [...files].sort(), env: [...names].sort(), ...(why ? { uncacheable: why } : {}) };
    },
  };
}
