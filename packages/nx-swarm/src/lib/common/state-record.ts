/**
 * What the image and deploy tasks of a project leave for the next cache check: which image
 * repositories and services to look at in the engine, which files and environment variables the deploy
 * read, and a nonce that changes whenever a run wrote something only the registry could tell.
 *
 * The `image` and `deploy` targets are cacheable through their executors' hasher
 * (lib/docker/engine-state-hasher.ts, the text from lib/docker/engine-state.ts), which adds to Nx's
 * hash what the engine holds for them now. Nx computes a task's hash before the task runs, so a
 * cache entry is keyed by the state *before* its run:
 * - a run that changed nothing (the image existed, the service was up to date) leaves an entry whose
 *   state is what the engine still has when it matches again: serving it from the cache is right;
 * - a run that wrote (loaded or pushed an image, updated a service) leaves an entry keyed by a state
 *   that must never come back. A service's version index only grows, but an image set can return to
 *   an earlier one (remove the new image), so an image write changes the nonce, and the pre-run state
 *   with the old nonce is gone for good. The same for a push that uploaded or put anything; a push
 *   that only found everything in place (HEADs) changes nothing, and the state lists the pushed tags'
 *   manifest digests as the registry has them.
 *
 * Kept in .nx/workspace-data/nx-swarm-state/PROJECT.json, outside every task's outputs, so a cache
 * hit never restores it. No dependencies: the hasher loads this file inside the Nx process.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ImageStateRecord {
  /** Repositories whose tags and image ids the state lists. */
  repositories: string[];
  /** Changes with every run that loaded, built, tagged, or uploaded or put anything in a registry. */
  nonce: string;
  /** Pushed references (`registry/repository:tag`) whose manifest digest the state lists (a HEAD each). */
  registryRefs?: string[];
}

export interface DeployStateRecord {
  /** Services whose id, version, update state and running tasks the state lists. */
  services: string[];
  /** Files the deploy read (secrets, configs, stack file, env_file, groupsFromFiles), workspace-relative or absolute. */
  files: string[];
  /** Environment variables the deploy read for secrets, configs and the stack file (their values are hashed, never printed). */
  env: string[];
  /** Set when the state can't describe what the deploy depends on: then it is never served from the cache. */
  uncacheable?: string;
}

export interface StateRecord {
  version: 1;
  image?: ImageStateRecord;
  deploy?: DeployStateRecord;
}

/** In Nx's workspace-data folder (where Nx's own plugins keep theirs; `nx reset` clears it, and the next check then runs the task). */
export function stateRecordPath(workspaceRoot: string, project: string, env: NodeJS.ProcessEnv = process.env): string {
  const dataDir = env.NX_WORKSPACE_DATA_DIRECTORY || env.NX_PROJECT_GRAPH_CACHE_DIRECTORY || path.join('.nx', 'workspace-data');
  return path.join(path.resolve(workspaceRoot, dataDir), 'nx-swarm-state', `${project.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

export function readStateRecord(workspaceRoot: string, project: string): StateRecord | undefined {
  try {
    return parseStateRecord(fs.readFileSync(stateRecordPath(workspaceRoot, project), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The record in a file's text, or undefined when it is none of this version. Never throws. */
export function parseStateRecord(text: string | undefined): StateRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as StateRecord;
    return json && json.version === 1 ? json : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The image part after a run. `wrote`: the run changed the engine or the registry (built, loaded,
 * tagged, pushed). Pure.
 */
export function nextImageRecord(
  previous: ImageStateRecord | undefined,
  repositories: string[],
  wrote: boolean,
  newNonce: () => string = randomUUID,
  registryRefs: string[] = [],
): ImageStateRecord {
  const key = (r: ImageStateRecord | undefined) => JSON.stringify([[...(r?.repositories ?? [])].sort(), [...(r?.registryRefs ?? [])].sort()]);
  const next: ImageStateRecord = {
    repositories: [...repositories].sort(),
    nonce: '',
    ...(registryRefs.length ? { registryRefs: [...registryRefs].sort() } : {}),
  };
  next.nonce = !wrote && previous && key(previous) === key(next) ? previous.nonce : newNonce();
  return next;
}

/** Writes one part of the record (atomically: the next hash may read it at any time). Never throws. */
export function updateStateRecord(workspaceRoot: string, project: string, patch: Partial<Omit<StateRecord, 'version'>>): void {
  const file = stateRecordPath(workspaceRoot, project);
  try {
    const next: StateRecord = { ...(readStateRecord(workspaceRoot, project) ?? { version: 1 }), ...patch, version: 1 };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n');
    fs.renameSync(tmp, file);
  } catch {
    // Without a record the next hash can't describe the state and is never served from the cache.
    try {
      fs.rmSync(file, { force: true });
    } catch {
      /* nothing more to do */
    }
  }
}

/**
 * The last cache check's answer, for the other target's check in the same Nx run: Nx hashes `image`
 * and then `deploy` (each after its dependency), calling the hasher twice. See `reusableCheck` in
 * lib/docker/engine-state.ts for when the second one may reuse it.
 */
export function checkMemoPath(workspaceRoot: string, project: string, env: NodeJS.ProcessEnv = process.env): string {
  return stateRecordPath(workspaceRoot, project, env).replace(/\.json$/, '.check.json');
}

/** Every image or deploy run of the project starts by dropping it: a check after a run always asks the engine. Never throws. */
export function forgetCheckMemo(workspaceRoot: string, project: string): void {
  try {
    fs.rmSync(checkMemoPath(workspaceRoot, project), { force: true });
  } catch {
    /* then it ages out (a second and a half) */
  }
}
