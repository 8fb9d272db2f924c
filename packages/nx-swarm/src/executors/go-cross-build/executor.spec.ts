import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '@nx/devkit';
import { executorContext } from '../../../test/support/executor-context';
import runExecutor from './executor';
import * as toolchain from '../../lib/go/go-toolchain';

jest.mock('../../lib/go/go-toolchain', () => ({
  ...jest.requireActual('../../lib/go/go-toolchain'),
  goVersion: jest.fn(),
  goDistList: jest.fn(),
  runGoBuilds: jest.fn(),
}));

const mocked = toolchain as jest.Mocked<typeof toolchain>;

function workspace(): { root: string; context: ExecutorContext } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-gcb-'));
  fs.mkdirSync(path.join(root, 'svc'));
  fs.writeFileSync(path.join(root, 'svc/go.mod'), 'module example.com/svc\n');
  const context = executorContext(root, 'svc', 'svc');
  return { root, context };
}

describe('go-cross-build executor', () => {
  let errors: string[];
  beforeEach(() => {
    jest.resetAllMocks();
    errors = [];
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    jest.spyOn(logger, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    mocked.goVersion.mockResolvedValue('go1.26.8');
    mocked.goDistList.mockResolvedValue(['linux/amd64', 'linux/arm64', 'windows/amd64']);
  });

  it('builds every target and writes build.json', async () => {
    const { root, context } = workspace();
    mocked.runGoBuilds.mockImplementation(async (steps) => {
      for (const s of steps) fs.writeFileSync(s.output, `binary for ${s.target.id}`);
      return steps.map((step) => ({ step, ok: true }));
    });
    const result = await runExecutor({ targets: ['linux/amd64', 'linux/arm64'] }, context);
    expect(result).toEqual({ success: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'dist/svc/build.json'), 'utf8'));
    expect(manifest.binaries.map((b: { file: string; size: number }) => [b.file, b.size])).toEqual([
      ['svc-linux-amd64', 'binary for linux/amd64'.length],
      ['svc-linux-arm64', 'binary for linux/arm64'.length],
    ]);
    expect(manifest.binaries[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['a target the toolchain does not know', { targets: ['linux/riscv64'] }, /go1\.26\.8 cannot build "linux\/riscv64".*go tool dist list/],
    ['an output path outside the workspace', { outputPath: '../x' }, /not a folder inside the workspace/],
  ])('fails before building on %s', async (_n, options, message) => {
    const { context } = workspace();
    expect(await runExecutor(options, context)).toEqual({ success: false });
    expect(mocked.runGoBuilds).not.toHaveBeenCalled();
    expect(errors.join('\n')).toMatch(message);
  });

  it('says how to install Go when it is missing', async () => {
    const { context } = workspace();
    mocked.goVersion.mockRejectedValue(new Error(`Go is not on PATH. ${toolchain.GO_INSTALL_HINT}`));
    expect(await runExecutor({}, context)).toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/Go is not on PATH\. Install Go/);
  });

  it('fails and names the target when go build fails', async () => {
    const { context } = workspace();
    mocked.runGoBuilds.mockImplementation(async (steps) => [
      { step: steps[0], ok: false, exitCode: 1, message: 'go build exited with code 1' },
      { step: steps[1], ok: false, message: 'cancelled after another target failed' },
    ]);
    expect(await runExecutor({ targets: ['linux/amd64', 'windows/amd64'] }, context)).toEqual({ success: false });
    expect(errors).toEqual(['✖ linux/amd64: go build exited with code 1']);
  });
});
