/**
 * An ExecutorContext for calling an executor directly, and a capture of what it prints through
 * @nx/devkit's logger. Pure (no engine, no processes): used by the unit specs in src/ and by the
 * integration tests (re-exported from ./swarm).
 */
import { ExecutorContext, logger } from '@nx/devkit';

export function executorContext(workspaceRoot: string, projectName: string, projectRoot: string): ExecutorContext {
  return {
    root: workspaceRoot,
    cwd: workspaceRoot,
    isVerbose: false,
    projectName,
    targetName: 'deploy',
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: projectRoot } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as unknown as ExecutorContext;
}

/** Captures what the executors print through @nx/devkit's logger. */
export function captureLogger() {
  const lines: string[] = [];
  const spies = (['info', 'warn', 'error', 'log'] as const).map((level) =>
    jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      const text = args.map(String).join(' ');
      lines.push(`[${level}] ${text}`);
      if (process.env.NXSWARM_TEST_VERBOSE) process.stdout.write(`[${level}] ${text}\n`);
    }),
  );
  return {
    lines,
    text: () => lines.join('\n'),
    mark: () => lines.length,
    since: (mark: number) => lines.slice(mark).join('\n'),
    clear: () => lines.splice(0, lines.length),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
