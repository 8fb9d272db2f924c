import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '@nx/devkit';
import { executorContext } from '../../../test/support/executor-context';
import runExecutor, { defaultPlatforms } from './executor';
import * as engine from '../../lib/docker/engine';

jest.mock('../../lib/docker/engine', () => ({
  ...jest.requireActual('../../lib/docker/engine'),
  connectEngine: jest.fn(),
}));

const connectEngine = engine.connectEngine as jest.MockedFunction<typeof engine.connectEngine>;

function workspace(withBinary: boolean): ExecutorContext {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-img-'));
  fs.mkdirSync(path.join(root, 'svc'));
  fs.writeFileSync(path.join(root, 'svc/Dockerfile'), 'FROM scratch\nCOPY svc-linux-amd64 /svc\n');
  if (withBinary) {
    fs.mkdirSync(path.join(root, 'dist/svc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist/svc/svc-linux-amd64'), 'binary');
  }
  return executorContext(root, 'svc', 'svc');
}

const files = [{ from: 'dist/svc/svc-linux-amd64', to: 'svc-linux-amd64' }];

describe('docker-image executor', () => {
  let errors: string[];
  beforeEach(() => {
    jest.resetAllMocks();
    errors = [];
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    jest.spyOn(logger, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
  });

  it.each([
    [
      'the build output is missing',
      false,
      { files },
      /files\[0\]\.from dist\/svc\/svc-linux-amd64 does not exist\. Run the build target first \(nx run svc:build\)/,
    ],
    ['the repository is invalid', true, { files, repository: 'Bad Repo' }, /Invalid repository/],
    ['a tag is invalid', true, { files, tags: ['-nope'] }, /Invalid tag/],
  ])('fails before calling the daemon when %s', async (_n, withBinary, options, message) => {
    expect(await runExecutor(options, workspace(withBinary))).toEqual({ success: false });
    expect(connectEngine).not.toHaveBeenCalled();
    expect(errors.join('\n')).toMatch(message);
  });

  it('names the endpoint when the engine is unreachable, and writes no receipt', async () => {
    const context = workspace(true);
    connectEngine.mockRejectedValue(new Error('Cannot connect to the Docker Engine at unix:///nope.sock (DOCKER_HOST): connect ENOENT'));
    expect(await runExecutor({ files }, context)).toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/docker-image: Cannot connect to the Docker Engine at unix:\/\/\/nope\.sock/);
    expect(fs.existsSync(path.join(context.root, 'dist/svc/image.json'))).toBe(false);
  });

  function withDockerfile(text: string): ExecutorContext {
    const context = workspace(true);
    fs.writeFileSync(path.join(context.root, 'svc/Dockerfile'), text);
    return context;
  }

  it('auto: a RUN sends the build to the engine and says why', async () => {
    const infos: string[] = [];
    jest.spyOn(logger, 'info').mockImplementation((m: unknown) => void infos.push(String(m)));
    connectEngine.mockRejectedValue(new Error('no engine here'));
    expect(await runExecutor({ files }, withDockerfile('FROM scratch\nRUN echo hi\n'))).toEqual({ success: false });
    expect(infos.join('\n')).toContain('builder: engine (line 2: RUN needs a container)');
    expect(connectEngine).toHaveBeenCalled();
  });

  it('oci: a Dockerfile outside the subset fails before any engine or registry, naming the line', async () => {
    expect(await runExecutor({ files, builder: 'oci' }, withDockerfile('FROM scratch\nRUN echo hi\n'))).toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/builder "oci" cannot build svc\/Dockerfile: line 2: RUN needs a container\. Use builder "auto" or "engine"/);
    expect(connectEngine).not.toHaveBeenCalled();
  });

  it('auto + push: the OCI builder pushes without the engine (an unreachable registry is named)', async () => {
    const infos: string[] = [];
    jest.spyOn(logger, 'info').mockImplementation((m: unknown) => void infos.push(String(m)));
    expect(await runExecutor({ files, push: true, registry: '127.0.0.1:1' }, workspace(true))).toEqual({ success: false });
    expect(infos.join('\n')).toMatch(/builder: oci \(the Dockerfile needs no container\); platforms: linux\/amd64 \(the default\)/);
    expect(errors.join('\n')).toMatch(/registry at 127\.0\.0\.1:1 is unreachable/);
    expect(connectEngine).not.toHaveBeenCalled();
  });

  it.each([
    ['the platforms option', { platforms: ['linux/arm64'] }, {}, ['linux/arm64'], 'the platforms option'],
    [
      'the build matrix',
      {},
      { build: { executor: 'nx-swarm:go-cross-build', options: { targets: ['linux/amd64', 'darwin/arm64', 'linux/arm64'] } } },
      ['linux/amd64', 'linux/arm64'],
      "the build target's matrix",
    ],
    ['the platform option', { platform: 'linux/arm64' }, {}, ['linux/arm64'], 'the platform option'],
    ['nothing', {}, { build: { executor: 'nx:run-commands' } }, ['linux/amd64'], 'the default'],
  ])('default platforms from %s', (_n, plan, targets, platforms, from) => {
    const context = executorContext('/ws', 'svc', 'svc');
    context.projectsConfigurations!.projects.svc.targets = targets;
    expect(defaultPlatforms(plan as never, context, 'svc')).toEqual({ platforms, from });
  });
});
