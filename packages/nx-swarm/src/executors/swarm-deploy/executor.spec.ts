import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExecutorContext, logger } from '@nx/devkit';
import { executorContext } from '../../../test/support/executor-context';
import runExecutor, { formatSummary } from './executor';

/** No daemon: everything here fails (or prints) before the engine is contacted. */
const ctx = (root: string): ExecutorContext => executorContext(root, 'accountservice', 'accountservice');

describe('swarm-deploy executor (no daemon)', () => {
  let errors: string[];
  let root: string;
  beforeEach(() => {
    errors = [];
    jest.spyOn(logger, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-exec-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.each<[string, object, RegExp]>([
    [
      'invalid options, all listed',
      { mode: 'global', replicas: 2, timeout: '5 d' },
      /can't be combined with mode "global"[\s\S]*timeout "5 d" is not a duration/,
    ],
    ['ingress + dnsrr', { ports: [{ target: 1, published: 2 }], endpointMode: 'dnsrr' }, /can't be used with endpointMode "dnsrr"/],
    [
      'no receipt, no image',
      {},
      /No image to deploy: dist\/accountservice\/image\.json does not exist\. Run the image target first \(`nx run accountservice:image`\)/,
    ],
  ])('%s → success false with a human message', async (_n, options, message) => {
    const result = await runExecutor(options, ctx(root), { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(message);
  });

  it('unreachable engine → the endpoint and what to do', async () => {
    const result = await runExecutor({ image: 'x:1' }, ctx(root), { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(/Cannot connect to the Docker Engine at unix:\/\/\/nonexistent.sock/);
  });

  it('formats the summary', () => {
    expect(
      formatSummary({
        service: 'accountservice',
        action: 'update',
        image: 'someprefix/accountservice:c-1',
        imageId: 'sha256:0123456789abcdef0123',
        changes: [],
        replicas: { running: 2, desired: 2 },
        ports: [{ published: 6767, target: 6767, protocol: 'tcp', mode: 'host', url: 'http://127.0.0.1:6767/health' }],
        elapsedMs: 12345,
        deployedAt: '',
      }),
    ).toEqual([
      'Updated accountservice',
      '  image     someprefix/accountservice:c-1 (sha256:0123456789ab)',
      '  replicas  2/2 running',
      '  ports     6767->6767/tcp (host)',
      '  try       curl http://127.0.0.1:6767/health',
      '  elapsed   12.3 s',
    ]);
  });

  it('schema.json documents every option with a description', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'schema.json'), 'utf8'));
    const names = Object.keys(schema.properties);
    expect(names).toEqual(
      expect.arrayContaining([
        'service',
        'image',
        'replicas',
        'mode',
        'networks',
        'ports',
        'env',
        'labels',
        'constraints',
        'placementPreferences',
        'maxReplicasPerNode',
        'resources',
        'restartPolicy',
        'healthcheck',
        'updateConfig',
        'rollbackConfig',
        'endpointMode',
        'mounts',
        'withRegistryAuth',
        'timeout',
        'dryRun',
        'tryPath',
      ]),
    );
    for (const n of names) expect(schema.properties[n].description).toBeTruthy();
  });
});
