/**
 * go-tidy: `go mod tidy` in the project's folder, or its check (`--check`) for CI.
 */
import * as path from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { tidyArgs, tidyVerdict } from '../../lib/go/tidy';
import { GO_INSTALL_HINT } from '../../lib/go/go-toolchain';
import type { GoTidyExecutorSchema } from './schema';

export default async function runExecutor(options: GoTidyExecutorSchema, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectName ?? 'project';
  const root = context.projectsConfigurations?.projects[project]?.root ?? '.';
  const args = tidyArgs(options);
  logger.info(`$ go ${args.join(' ')}   (in ${root})`);
  try {
    const r = await execa('go', args, { cwd: path.join(context.root, root), reject: false });
    const verdict = tidyVerdict(project, options, { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr });
    if (verdict) {
      logger.error(verdict);
      return { success: false };
    }
    if (r.stderr.trim()) logger.info(r.stderr.trim());
    logger.info(options.check ? `${project}: go.mod and go.sum are tidy` : `${project}: go mod tidy done`);
    return { success: true };
  } catch (error) {
    const notFound = (error as { code?: string }).code === 'ENOENT';
    logger.error(notFound ? `Go is not on PATH. ${GO_INSTALL_HINT}` : `go mod tidy failed for ${project}: ${(error as Error).message}`);
    return { success: false };
  }
}
