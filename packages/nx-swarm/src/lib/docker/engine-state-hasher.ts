/**
 * The custom Nx hasher of docker-image and swarm-deploy (executors.json `hasher`): Nx's own hash of
 * the task's inputs, combined with what the engine holds for the project now (engineStateText in
 * engine-state.ts). A removed or retagged image, a changed or removed service, a task that stopped,
 * or a changed secret file then miss the cache, as a runtime input would make them.
 *
 * Why a hasher and not a runtime input: Nx runs the hasher inside its own process, so the check costs
 * three Engine API requests and no Node start. Nx hashes `image` and then `deploy` (each once its
 * dependency is done); as a runtime input that was two Node processes per no-op (about 0.1 s each
 * here), and the second check reuses the first one's answer (reusableCheck) without asking the engine.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { CustomHasher, Hash } from '@nx/devkit';
import { readTextOrUndefined } from '../common/fs';
import { checkOwner, engineStateText, type EngineStateParams } from './engine-state';

/** The details key Nx shows for the engine check (`nx show project`, the task's hash details). */
export const ENGINE_STATE_DETAIL = 'nx-swarm engine state';

/** What identifies the plugin build: its version and, in this workspace's own install, the sources' fingerprint. */
export function pluginIdentity(packageRoot = path.join(__dirname, '..', '..', '..')): string {
  const readJson = (file: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(readTextOrUndefined(path.join(packageRoot, file)) ?? 'null') as Record<string, unknown> | undefined;
    } catch {
      return undefined;
    }
  };
  const version = readJson('package.json')?.version;
  const fingerprint = readJson('.nx-swarm-install.json')?.fingerprint; // tools/plugin/install.mjs
  return ['nx-swarm', version, fingerprint].filter((part) => typeof part === 'string').join(' ');
}

/** Nx's hash and the engine state's, as one hash. Pure. */
export function combineHash(base: Hash, stateText: string, hashArray: (parts: string[]) => string): Hash {
  const state = `sha256:${createHash('sha256').update(stateText).digest('hex')}`;
  return {
    ...base,
    value: hashArray([base.value, state]),
    details: { ...base.details, runtime: { ...(base.details.runtime ?? {}), [ENGINE_STATE_DETAIL]: state } },
  };
}

/** This process as checkOwner names it (pid and start time), so that image's answer may stand for deploy's. */
function selfOwner(): string | undefined {
  return checkOwner(
    process.pid,
    (pid) => readTextOrUndefined(`/proc/${pid}/stat`),
    (pid) => readTextOrUndefined(`/proc/${pid}/cmdline`)?.split('\0').join(' '),
  );
}

/** Seams for tests: the engine check and Nx's hashArray. */
export interface HasherSeams {
  stateText?: (p: EngineStateParams) => Promise<string>;
  hashArray?: (parts: string[]) => string;
  workspaceRoot?: string;
}

/** hashArray and workspaceRoot from the Nx that calls the hasher (already loaded there), else @nx/devkit's. */
function nxExports(): Pick<typeof import('@nx/devkit'), 'hashArray' | 'workspaceRoot'> {
  try {
    return require('nx/src/devkit-exports') as typeof import('@nx/devkit');
  } catch {
    return require('@nx/devkit') as typeof import('@nx/devkit');
  }
}

export function engineStateHasher(seams: HasherSeams = {}): CustomHasher {
  return async (task, context) => {
    // Nx passes the task's own env (its .env files included); the typings don't say so yet.
    const env = (context as { env?: NodeJS.ProcessEnv }).env ?? process.env;
    // Nx hashes every task, cacheable or not; a target with `cache: false` never asks the engine.
    if ((task as { cache?: boolean }).cache === false) return context.hasher.hashTask(task, context.taskGraph, env);
    const nx = seams.hashArray && seams.workspaceRoot ? undefined : nxExports();
    const [base, text] = await Promise.all([
      context.hasher.hashTask(task, context.taskGraph, env),
      (seams.stateText ?? engineStateText)({
        workspaceRoot: seams.workspaceRoot ?? nx!.workspaceRoot,
        project: task.target.project,
        env,
        plugin: pluginIdentity(),
        owner: selfOwner(),
      }),
    ]);
    return combineHash(base, text, seams.hashArray ?? nx!.hashArray);
  };
}
