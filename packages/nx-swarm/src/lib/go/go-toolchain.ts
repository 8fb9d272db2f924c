/**
 * The thin apply layer over the Go toolchain: `go env GOVERSION`, `go tool dist list`, `go build`.
 * Every child gets an argv array and its own environment; this process's environment is never
 * written.
 */
import { execa, ExecaError } from 'execa';
import type { GoBuildStep } from './cross-build-plan';

export const GO_INSTALL_HINT = 'Install Go from https://go.dev/dl/ (or `apt-get install golang`), make sure `go` is on PATH, and run again.';

function isNotFound(error: unknown): boolean {
  return (error as { code?: string })?.code === 'ENOENT';
}

/** The toolchain's version, e.g. "go1.26.8"; throws the install hint when `go` is missing. */
export async function goVersion(env?: Record<string, string>): Promise<string> {
  try {
    const { stdout } = await execa('go', ['env', 'GOVERSION'], { env });
    return stdout.trim();
  } catch (error) {
    if (isNotFound(error)) throw new Error(`Go is not on PATH. ${GO_INSTALL_HINT}`);
    throw new Error(`\`go env GOVERSION\` failed: ${(error as ExecaError).shortMessage ?? String(error)}`);
  }
}

/** `go tool dist list`: every GOOS/GOARCH pair this toolchain supports. */
export async function goDistList(env?: Record<string, string>): Promise<string[]> {
  const { stdout } = await execa('go', ['tool', 'dist', 'list'], { env });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export interface StepResult {
  step: GoBuildStep;
  ok: boolean;
  exitCode?: number;
  message?: string;
}

/**
 * Runs the steps with at most `concurrency` children at once. The compiler's output is streamed
 * verbatim (file:line) to this process's stdout/stderr. On the first failure the other builds are
 * cancelled and no new one starts.
 */
export async function runGoBuilds(
  steps: GoBuildStep[],
  concurrency: number,
  onStart: (step: GoBuildStep) => void = () => undefined,
): Promise<StepResult[]> {
  const abort = new AbortController();
  const results: StepResult[] = [];
  let next = 0;

  async function worker(): Promise<void> {
    while (next < steps.length && !abort.signal.aborted) {
      const step = steps[next++];
      onStart(step);
      try {
        await execa('go', step.args, {
          cwd: step.cwd,
          env: step.env,
          stdio: ['ignore', 'inherit', 'inherit'],
          cancelSignal: abort.signal,
        });
        results.push({ step, ok: true });
      } catch (error) {
        const e = error as ExecaError;
        if (isNotFound(e)) {
          results.push({ step, ok: false, message: `Go is not on PATH. ${GO_INSTALL_HINT}` });
        } else if (e.isCanceled) {
          results.push({ step, ok: false, message: 'cancelled after another target failed' });
        } else {
          results.push({ step, ok: false, exitCode: e.exitCode, message: `go build exited with code ${e.exitCode}` });
        }
        abort.abort();
      }
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, steps.length)) }, worker));
  return results;
}
