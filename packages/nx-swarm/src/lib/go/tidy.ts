/**
 * `go mod tidy`, and its check for CI (`go mod tidy -diff`, Go 1.23+: prints what would change and
 * exits 1, writing nothing). Plan: options → argv; verdict: exit code + output → what to tell the user.
 */
export interface TidyOptions {
  check?: boolean;
}

export function tidyArgs(options: TidyOptions): string[] {
  return ['mod', 'tidy', ...(options.check ? ['-diff'] : [])];
}

export interface TidyOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** undefined when tidy succeeded; otherwise the message for the user (what failed, Go's words, the fix). */
export function tidyVerdict(project: string, options: TidyOptions, outcome: TidyOutcome): string | undefined {
  if (outcome.exitCode === 0) return undefined;
  const words = (outcome.stderr || outcome.stdout).trim();
  if (options.check && /flag provided but not defined: -diff/.test(outcome.stderr)) {
    return `tidy --check needs Go 1.23 or newer (go mod tidy -diff); this toolchain says: ${words}`;
  }
  if (options.check && outcome.stdout.trim()) {
    return `go.mod/go.sum of ${project} are not tidy; go mod tidy would change:\n${outcome.stdout.trimEnd()}\nRun \`nx run ${project}:tidy\` and commit the result.`;
  }
  return `go mod tidy failed for ${project}: ${words || `exit code ${outcome.exitCode}`}`;
}
