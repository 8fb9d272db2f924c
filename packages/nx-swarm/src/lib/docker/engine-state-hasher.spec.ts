import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Hash, HasherContext, Task } from '@nx/devkit';
import { ENGINE_STATE_DETAIL, combineHash, engineStateHasher, pluginIdentity } from './engine-state-hasher';
import type { EngineStateParams } from './engine-state';

const base = (value = '111'): Hash => ({
  value,
  details: { command: 'c', nodes: { 'app:{projectRoot}/Dockerfile': 'f1' }, runtime: { 'go env GOVERSION': 'g' } },
});
const join = (parts: string[]) => parts.join('|');

describe('combineHash', () => {
  it.each<[string, Hash, string, Hash, string, boolean]>([
    ['same inputs, same engine state', base(), 'state A', base(), 'state A', true],
    ['same inputs, the engine changed', base(), 'state A', base(), 'state B', false],
    ['changed inputs, same engine state', base('111'), 'state A', base('222'), 'state A', false],
  ])('%s: same hash = %s', (_what, b1, s1, b2, s2, same) => {
    expect(combineHash(b1, s1, join).value === combineHash(b2, s2, join).value).toBe(same);
  });

  it("keeps Nx's details and adds the state's digest, never its text", () => {
    const h = combineHash(base(), 'service app id x version 3', join);
    expect(h.details.nodes).toEqual(base().details.nodes);
    expect(h.details.runtime).toEqual({ 'go env GOVERSION': 'g', [ENGINE_STATE_DETAIL]: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(JSON.stringify(h)).not.toContain('version 3');
  });
});

describe('engineStateHasher', () => {
  const task = { id: 'app:deploy', target: { project: 'app', target: 'deploy' }, overrides: {}, outputs: [] } as unknown as Task;
  it("asks Nx for its hash with the task's env and adds the engine state of the task's project", async () => {
    const seen: Array<{ env: unknown; params?: EngineStateParams }> = [];
    const env = { DOCKER_HOST: 'unix:///tmp/x.sock' };
    const context = {
      hasher: {
        hashTask: async (_t: Task, _g: unknown, e: unknown) => {
          seen.push({ env: e });
          return base();
        },
      },
      taskGraph: {},
      env,
    } as unknown as HasherContext;
    const hasher = engineStateHasher({
      hashArray: join,
      workspaceRoot: '/ws',
      stateText: async (p) => {
        seen.push({ env: p.env, params: p });
        return 'state A';
      },
    });
    const h = await hasher(task, context);
    expect(seen.map((s) => s.env)).toEqual([env, env]);
    expect(seen[1].params).toMatchObject({ workspaceRoot: '/ws', project: 'app' });
    expect(h.value).toBe(combineHash(base(), 'state A', join).value);
  });

  it.each<[string, boolean | undefined, boolean]>([
    ['cache: true', true, true],
    ['cache unset (older Nx)', undefined, true],
    ['cache: false (Nx still hashes it)', false, false],
  ])('%s: the engine is asked = %s', async (_what, cache, asked) => {
    let checks = 0;
    const context = { hasher: { hashTask: async () => base() }, taskGraph: {}, env: {} } as unknown as HasherContext;
    const hasher = engineStateHasher({
      hashArray: join,
      workspaceRoot: '/ws',
      stateText: async () => {
        checks++;
        return 'state A';
      },
    });
    const h = await hasher({ ...task, cache } as Task, context);
    expect(checks > 0).toBe(asked);
    expect(h.value).toBe(asked ? combineHash(base(), 'state A', join).value : base().value);
  });
});

describe('pluginIdentity', () => {
  it.each<[string, Record<string, string>, string]>([
    ['installed from npm', { 'package.json': '{"version":"0.1.0"}' }, 'nx-swarm 0.1.0'],
    [
      "this workspace's own install",
      { 'package.json': '{"version":"0.1.0"}', '.nx-swarm-install.json': '{"fingerprint":"abc"}' },
      'nx-swarm 0.1.0 abc',
    ],
    ['no package.json', {}, 'nx-swarm'],
  ])('%s', (_what, files, id) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxs-plugin-id-'));
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    expect(pluginIdentity(dir)).toBe(id);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
