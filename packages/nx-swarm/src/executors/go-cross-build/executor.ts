/**
 * go-cross-build: parse options, plan the `go build` runs, run them (bounded by the CPU count),
 * write build.json, report.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../../lib/common/logger';
import { projectOf } from '../../lib/common/project';
import { planCrossBuild } from '../../lib/go/cross-build-plan';
import { goDistList, goVersion, runGoBuilds } from '../../lib/go/go-toolchain';
import { manifestFor, writeManifest } from '../../lib/go/build-manifest';
import { unknownTargets } from '../../lib/go/targets';
import type { GoCrossBuildExecutorSchema } from './schema';

export default async function runExecutor(options: GoCrossBuildExecutorSchema, context: ExecutorContext): Promise<{ success: boolean }> {
  const started = Date.now();
  const { name: projectName, root: projectRoot } = projectOf(context);
  const extraEnv = options.env ?? {};

  try {
    const plan = planCrossBuild(options, {
      workspaceRoot: context.root,
      projectRoot,
      projectName,
      exists: (p) => fs.existsSync(p),
    });

    const version = await goVersion(extraEnv);
    const unknown = unknownTargets(
      plan.steps.map((s) => s.target),
      await goDistList(extraEnv),
    );
    if (unknown.length > 0) {
      throw new Error(
        `${version} cannot build ${unknown.map((t) => `"${t.id}"`).join(', ')}: not in \`go tool dist list\`. ` +
          `Check the spelling (GOOS/GOARCH, e.g. linux/arm64).`,
      );
    }

    fs.mkdirSync(plan.outputDir, { recursive: true });
    const concurrency = Math.max(1, os.cpus().length);
    logger.info(
      `Building ${projectName} with ${version} for ${plan.steps.map((s) => s.target.id).join(', ')} ` +
        `(cgo ${options.cgo ? 'on' : 'off'}, ${Math.min(concurrency, plan.steps.length)} at a time)`,
    );
    const results = await runGoBuilds(plan.steps, concurrency, (step) => {
      if (options.verbose) logger.info(`$ go ${step.args.join(' ')}`);
    });

    const failed = results.filter((r) => !r.ok && r.message !== 'cancelled after another target failed');
    if (failed.length > 0) {
      for (const f of failed) logger.error(`✖ ${f.step.target.id}: ${f.message}`);
      return { success: false };
    }

    const manifest = manifestFor(plan.steps, version, Boolean(options.cgo));
    const manifestFile = writeManifest(plan.outputDir, manifest);
    for (const b of manifest.binaries) {
      logger.info(
        `✔ ${path.relative(context.root, path.join(plan.outputDir, b.file))}  ${(b.size / 1024 / 1024).toFixed(1)} MiB  sha256:${b.sha256.slice(0, 12)}`,
      );
    }
    logger.info(
      `Built ${manifest.binaries.length} binar${manifest.binaries.length === 1 ? 'y' : 'ies'} in ${((Date.now() - started) / 1000).toFixed(1)} s; manifest ${path.relative(context.root, manifestFile)}`,
    );
    return { success: true };
  } catch (error) {
    logger.error(`go-cross-build failed for ${projectName}: ${(error as Error).message}`);
    return { success: false };
  }
}
