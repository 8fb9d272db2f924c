import * as path from 'node:path';
import { execa } from 'execa';

/**
 * The environment for running the real `nx` CLI from a test, in a scratch workspace.
 *
 * The integration suite itself runs under `nx run nx-swarm:integration`, whose NX_* variables
 * (NX_SKIP_NX_CACHE after --skip-nx-cache, NX_TASK_TARGET_*, NX_WORKSPACE_ROOT, …) would leak into
 * the inner nx and change what it does. The inner nx gets this process's environment without them.
 */
export function nxCliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('NX_') && value !== undefined) env[key] = value;
  }
  return { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', GOTOOLCHAIN: 'local', FORCE_COLOR: '0', NX_TUI: 'false' };
}

/** Runs the scratch workspace's own `nx` with a clean environment; never rejects. */
export function runNx(ws: string, ...args: string[]) {
  return execa(path.join(ws, 'node_modules/.bin/nx'), [...args, '--outputStyle=stream'], {
    cwd: ws,
    reject: false,
    all: true,
    env: nxCliEnv(),
    extendEnv: false,
  });
}

/** git in a scratch workspace, with a throwaway identity. */
export function gitIn(ws: string, ...args: string[]) {
  return execa('git', args, {
    cwd: ws,
    env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}
