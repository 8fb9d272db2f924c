/**
 * Options → one `go build` invocation per target (argv + per-child environment). Pure: no process,
 * no file system except through the injected `exists` check.
 */
import * as path from 'node:path';
import { GoTarget, binaryFileName, parseTarget, targetEnv } from './targets';

export interface CrossBuildOptions {
  /** Package path of the main package, relative to the project root. Default ".". */
  main?: string;
  /** Output folder, relative to the workspace root. Default "dist/{projectRoot}". */
  outputPath?: string;
  /** Default: the project name. */
  binaryName?: string;
  /** Default ["linux/amd64"]. */
  targets?: string[];
  /** Default false: CGO_ENABLED=0, a static binary. */
  cgo?: boolean;
  /** Default "-s -w". The build id is always emptied (reproducible builds). */
  ldflags?: string;
  tags?: string[];
  /** Default true. */
  trimpath?: boolean;
  /** Extra environment for `go build` (never written into this process's environment). */
  env?: Record<string, string>;
  /** Extra arguments for `go build`, e.g. ["-race"]. */
  flags?: string[];
  /** Pass -v and print each command. */
  verbose?: boolean;
}

export interface PlanContext {
  workspaceRoot: string;
  projectRoot: string;
  projectName: string;
  /** Does this absolute path exist? */
  exists: (absPath: string) => boolean;
}

export interface GoBuildStep {
  target: GoTarget;
  /** Absolute path of the binary this step writes. */
  output: string;
  /** Arguments after `go`. */
  args: string[];
  /** Environment for this child only (added to the inherited environment). */
  env: Record<string, string>;
  /** Working directory: the project root. */
  cwd: string;
}

export interface CrossBuildPlan {
  outputDir: string;
  /** Absolute path of the folder holding go.mod. */
  moduleDir: string;
  steps: GoBuildStep[];
}

export const DEFAULT_LDFLAGS = '-s -w';

/** Walks up from `dir` (inclusive) to `stopAt` (inclusive) looking for go.mod. */
export function findModuleDir(dir: string, stopAt: string, exists: (p: string) => boolean): string | undefined {
  let current = path.resolve(dir);
  const root = path.resolve(stopAt);
  for (;;) {
    if (exists(path.join(current, 'go.mod'))) return current;
    if (current === root || !current.startsWith(root)) return undefined;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Builds the plan; throws a message for people on invalid options. */
export function planCrossBuild(options: CrossBuildOptions, ctx: PlanContext): CrossBuildPlan {
  const projectDir = path.resolve(ctx.workspaceRoot, ctx.projectRoot);
  const main = options.main ?? '.';
  const mainDir = path.resolve(projectDir, main);
  const relMain = path.relative(projectDir, mainDir);
  const mainArg = relMain === '' ? '.' : `./${relMain.split(path.sep).join('/')}`;
  if (relMain.startsWith('..')) {
    throw new Error(`main "${main}" is outside the project folder ${ctx.projectRoot}.`);
  }
  if (!ctx.exists(mainDir)) {
    throw new Error(`main "${main}" does not exist (looked for ${mainDir}).`);
  }
  const moduleDir = findModuleDir(mainDir, ctx.workspaceRoot, ctx.exists);
  if (!moduleDir) {
    throw new Error(
      `No go.mod found in ${path.relative(ctx.workspaceRoot, mainDir) || '.'} or above it inside the workspace. ` +
        `Create one with \`go mod init MODULE\` in ${ctx.projectRoot}.`,
    );
  }

  const outputRel = options.outputPath ?? path.join('dist', ctx.projectRoot);
  const outputDir = path.resolve(ctx.workspaceRoot, outputRel);
  const fromRoot = path.relative(path.resolve(ctx.workspaceRoot), outputDir);
  if (fromRoot === '' || fromRoot.startsWith('..') || path.isAbsolute(fromRoot)) {
    throw new Error(
      `outputPath "${outputRel}" resolves to ${outputDir}, which is not a folder inside the workspace. ` + `Use a path like dist/${ctx.projectRoot}.`,
    );
  }

  const targetIds = options.targets && options.targets.length > 0 ? options.targets : ['linux/amd64'];
  const targets = targetIds.map(parseTarget);
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${t.goos}/${t.goarch}${t.variant ?? ''}`;
    if (seen.has(key)) throw new Error(`Target "${t.id}" is listed twice.`);
    seen.add(key);
  }

  const binaryName = options.binaryName ?? ctx.projectName;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(binaryName)) {
    throw new Error(`binaryName "${binaryName}" may only contain letters, digits, ".", "_" and "-".`);
  }

  const ldflags = [options.ldflags ?? DEFAULT_LDFLAGS, '-buildid='].filter((s) => s.trim() !== '').join(' ');

  const steps = targets.map((target): GoBuildStep => {
    const output = path.join(outputDir, binaryFileName(binaryName, target));
    const args = ['build'];
    if (options.trimpath ?? true) args.push('-trimpath');
    args.push('-buildvcs=false', `-ldflags=${ldflags}`);
    if (options.tags && options.tags.length > 0) args.push(`-tags=${options.tags.join(',')}`);
    if (options.verbose) args.push('-v', '-x');
    args.push(...(options.flags ?? []));
    args.push('-o', output, mainArg);
    return {
      target,
      output,
      args,
      env: { ...(options.env ?? {}), CGO_ENABLED: options.cgo ? '1' : '0', ...targetEnv(target) },
      cwd: projectDir,
    };
  });

  return { outputDir, moduleDir, steps };
}
