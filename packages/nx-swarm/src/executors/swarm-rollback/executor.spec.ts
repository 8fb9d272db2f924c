import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { logger } from '@nx/devkit';
import { executorContext } from '../../../test/support/executor-context';
import runExecutor from './executor';

/** No daemon: what fails before (or because) no engine answers. The rollback itself: lib/swarm/rollback.spec.ts and the integration test. */
describe('swarm-rollback executor (no daemon)', () => {
  let errors: string[];
  let root: string;
  beforeEach(() => {
    errors = [];
    jest.spyOn(logger, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-rollback-exec-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.each<[string, object, RegExp]>([
    ['a bad service name', { service: 'no_such!' }, /"no_such!" is not a valid swarm service name/],
    ['no engine', {}, /Cannot connect to the Docker Engine at unix:\/\/\/nonexistent.sock/],
  ])('%s → success false with a human message', async (_n, options, message) => {
    const result = await runExecutor(options, executorContext(root, 'accountservice', 'accountservice'), {
      env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(message);
  });
});
