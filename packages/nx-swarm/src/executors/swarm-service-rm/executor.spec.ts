import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExecutorContext, logger } from '@nx/devkit';
import runExecutor from './executor';

const ctx = { root: '/tmp', cwd: '/tmp', isVerbose: false, projectName: 'accountservice' } as unknown as ExecutorContext;

describe('swarm-service-rm executor (no daemon)', () => {
  let errors: string[];
  beforeEach(() => {
    errors = [];
    jest.spyOn(logger, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
  });
  afterEach(() => jest.restoreAllMocks());

  it.each<[string, object, RegExp]>([
    ['invalid service name', { service: 'bad_name' }, /"bad_name" is not a valid swarm service name/],
    ['bad timeout', { timeout: 'soon' }, /timeout "soon" is not a duration/],
    ['unreachable engine', {}, /Cannot connect to the Docker Engine/],
  ])('%s', async (_n, options, message) => {
    const result = await runExecutor(options, ctx, { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(message);
  });

  it('schema.json has defaults for every option', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'schema.json'), 'utf8'));
    expect(Object.keys(schema.properties).sort()).toEqual(['failIfMissing', 'removeNetworks', 'service', 'timeout']);
  });
});
