/**
 * go-serve: the continuous `serve` target. Runs the service on this machine and restarts it when its
 * Go code, or a workspace module it imports, changes (no Air needed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { goDependencyRoots, planServe } from '../../lib/go/serve-plan';
import { serve } from '../../lib/go/serve';
import type { GoServeExecutorSchema } from './schema';

export default async function* runExecutor(options: GoServeExecutorSchema, context: ExecutorContext): AsyncGenerator<{ success: boolean }> {
  const projectName = context.projectName ?? 'service';
  const projectRoot = context.projectsConfigurations?.projects[projectName]?.root ?? '.';
  const dependencyRoots = goDependencyRoots(context.projectGraph, projectName, (root) => fs.existsSync(path.join(context.root, root, 'go.mod')));
  const plan = planServe(options, { workspaceRoot: context.root, projectRoot, projectName, dependencyRoots });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const events = { info: (m: string) => logger.info(`${projectName}: ${m}`), error: (m: string) => logger.error(`${projectName}: ${m}`) };
  let started!: () => void;
  const firstStart = new Promise<void>((resolve) => (started = resolve));
  const done = serve(plan, events, abort.signal, started);
  await Promise.race([firstStart, done]);
  yield { success: true };
  await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  yield { success: true };
}
