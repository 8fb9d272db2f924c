/** swarm-rollback against a fake SwarmApi: three releases made by the deployer, then back. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeSwarmApi, task } from '../../../test/support/fake-swarm-api';
import { deploy } from './deployer';
import { SwarmDeployOptions } from './options';
import { RollbackOptions, rollback } from './rollback';

const img = (n: number) => `repo/acct:c-${n}`;

describe('rollback (fake SwarmApi)', () => {
  let root: string;
  let api: FakeSwarmApi;
  let lines: string[];
  const clock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  };
  const facts = () => ({ api, describe: 'fake://engine', local: false });
  const options = (n: number): SwarmDeployOptions => ({
    service: 'acct',
    image: img(n),
    ports: [{ target: 6767, published: 6767, mode: 'host' }],
    endpointMode: 'dnsrr',
    secrets: [{ source: 'admin_token', env: 'TOKEN' }],
  });
  const deployN = (n: number) =>
    deploy({
      options: options(n),
      projectName: 'acct',
      projectRoot: 'acct',
      workspaceRoot: root,
      env: { TOKEN: `token-${n}` },
      api: facts(),
      log: (l) => lines.push(l),
      ...clock(),
    });
  const back = (o: RollbackOptions) =>
    rollback({ options: o, projectName: 'acct', projectRoot: 'acct', workspaceRoot: root, api: facts(), log: (l) => lines.push(l), ...clock() });
  const svc = () => [...api.services.values()][0];

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-rollback-'));
    api = new FakeSwarmApi();
    api.images = { [img(1)]: { Id: 'sha256:1' }, [img(2)]: { Id: 'sha256:2' }, [img(3)]: { Id: 'sha256:3' } };
    api.onWrite = (w) => {
      const n = api.writes.length;
      api.tasks.set(w.id!, [task(`t${n}`, 'running', w.spec!.TaskTemplate.ContainerSpec.Image)]);
      api.upToDate.set(w.id!, [`t${n}`]);
    };
    lines = [];
    for (const n of [1, 2, 3]) await deployN(n);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('--list prints the three releases, newest first, the current marked; writes nothing', async () => {
    const writes = api.writes.length;
    lines = [];
    const r = await back({ list: true });
    expect(r.kind).toBe('list');
    expect(lines[0]).toMatch(/Releases of acct \(newest first, \* = current/);
    expect(lines[2]).toMatch(/^\*3 .*repo\/acct:c-3\s+admin_token@[0-9a-f]{8}/);
    expect(lines.slice(3).map((l) => l.trim()[0])).toEqual(['2', '1']);
    expect(api.writes).toHaveLength(writes);
  });

  it('rollback: the previous release image and secret version, verified, recorded as release #4', async () => {
    const v2 = api.objects.secret[1];
    const r = await back({});
    expect(r.kind === 'rollback' && r.report).toMatchObject({
      action: 'rollback',
      image: img(2),
      release: { n: 4, rollbackOf: 2 },
      replicas: { running: 1, desired: 1 },
    });
    const cs = svc().Spec.TaskTemplate.ContainerSpec;
    expect(cs.Image).toBe(img(2));
    expect(cs.Secrets).toEqual([expect.objectContaining({ SecretName: v2.Spec.Name, SecretID: v2.ID })]);
    expect(lines.join('\n')).toMatch(/Rolling acct back to release #2 \(repo\/acct:c-2/);
    const history = JSON.parse(svc().Spec.Labels!['io.nx-swarm.releases']).r;
    expect(history.map((h: { n: number }) => h.n)).toEqual([4, 3, 2, 1]);
    expect(history[0]).toMatchObject({ rollbackOf: 2, image: img(2) });
  });

  it('--to 1, then the default goes back to release #4 (what ran before the rollback: c-3)', async () => {
    await back({ to: 1 });
    expect(svc().Spec.TaskTemplate.ContainerSpec.Image).toBe(img(1));
    await back({});
    expect(svc().Spec.TaskTemplate.ContainerSpec.Image).toBe(img(3));
  });

  it('dryRun prints the plan and writes nothing', async () => {
    const writes = api.writes.length;
    lines = [];
    const r = await back({ dryRun: true, to: 1 });
    expect(r.kind === 'rollback' && r.report.action).toBe('dry-run');
    expect(lines.join('\n')).toMatch(/Plan: update service acct:[\s\S]*image: repo\/acct:c-3 → repo\/acct:c-1/);
    expect(api.writes).toHaveLength(writes);
  });

  it.each<[string, RollbackOptions, (a: FakeSwarmApi) => void, RegExp]>([
    ['to the current', { to: 3 }, () => undefined, /Can't roll back acct: release #3 is the current release/],
    ['to one not kept', { to: 9 }, () => undefined, /no release #9; the history holds #3, #2, #1/],
    [
      'its secret version was deleted by hand',
      { to: 1 },
      (a) => (a.objects.secret = a.objects.secret.slice(1)),
      /Can't roll back to release #1: its secret acct_admin_token_[0-9a-f]{8} no longer exists/,
    ],
    ['no service', {}, (a) => a.services.clear(), /There is no service acct on fake:\/\/engine: nothing to roll back/],
  ])('refused before any write: %s', async (_n, o, arrange, message) => {
    arrange(api);
    const writes = api.writes.length;
    await expect(back(o)).rejects.toThrow(message);
    expect(api.writes).toHaveLength(writes);
  });
});
