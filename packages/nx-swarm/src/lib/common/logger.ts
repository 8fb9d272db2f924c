/**
 * Nx's logger, loaded on first use (not at module load): the executors' module graph stays small and
 * an executor that prints nothing never pays for it. It is the same object @nx/devkit exports, so
 * `jest.spyOn(logger, 'info')` on @nx/devkit's logger sees these calls.
 */
type Logger = { info: (m: string) => void; warn: (m: string) => void; error: (m: string) => void };

let loaded: Logger | undefined;
function nxLogger(): Logger {
  if (loaded) return loaded;
  try {
    loaded = (require('nx/src/utils/logger') as { logger: Logger }).logger;
  } catch {
    // An nx that doesn't expose the path: the same logger through @nx/devkit (slower to load).

    loaded = (require('@nx/devkit') as { logger: Logger }).logger;
  }
  return loaded;
}

export const logger: Logger = {
  info: (m) => nxLogger().info(m),
  warn: (m) => nxLogger().warn(m),
  error: (m) => nxLogger().error(m),
};
