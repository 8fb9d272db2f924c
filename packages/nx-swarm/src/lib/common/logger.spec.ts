import { logger as devkitLogger } from '@nx/devkit';
import { logger } from './logger';

describe('common logger', () => {
  afterEach(() => jest.restoreAllMocks());
  it.each(['info', 'warn', 'error'] as const)('%s goes to the logger @nx/devkit exports (so spies on it see the lines)', (level) => {
    const spy = jest.spyOn(devkitLogger, level).mockImplementation(() => undefined);
    logger[level]('hello');
    expect(spy).toHaveBeenCalledWith('hello');
  });
});
