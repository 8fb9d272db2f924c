import { FakeSwarmApi, task } from '../../../test/support/fake-swarm-api';
import { ensureNetworks } from './network';
import { RemoveError, removeService } from './service-remover';

const spec = (name: string, networks: string[]) => ({
  Name: name,
  TaskTemplate: { ContainerSpec: { Image: 'i' }, Networks: networks.map((Target) => ({ Target })) },
  Mode: { Replicated: { Replicas: 1 } },
});

describe('removeService (fake SwarmApi)', () => {
  it('absent: "not deployed" and success; with failIfMissing: an error that says how to list services', async () => {
    const api = new FakeSwarmApi();
    const lines: string[] = [];
    await expect(removeService(api, { service: 'acct', log: (l) => lines.push(l) })).resolves.toMatchObject({ removed: false });
    expect(lines.join()).toMatch(/acct is not deployed; nothing to remove/);
    await expect(removeService(api, { service: 'acct', failIfMissing: true })).rejects.toThrow(RemoveError);
  });

  it("deletes the service's own secret and config versions (no history keeps them now), never another service's", async () => {
    const api = new FakeSwarmApi();
    const svc = api.addService(spec('acct', ['net1']));
    const mk = (id: string, service: string) => ({
      ID: id,
      Spec: { Name: `${service}_t_${id.padEnd(8, '0')}`, Labels: { 'io.nx-swarm.managed-by': 'nx-swarm', 'io.nx-swarm.service': service } },
      data: Buffer.from('x'),
    });
    api.objects.secret.push(mk('a1', 'acct'), mk('b1', 'other'));
    api.tasks.set(svc.ID, []);
    const lines: string[] = [];
    await removeService(api, { service: 'acct', pollMs: 1, log: (l) => lines.push(l) });
    expect(api.objects.secret.map((o) => o.ID)).toEqual(['b1']);
    expect(lines.join('\n')).toMatch(/Deleted 1 version that no service or recorded release uses: secret acct_t_a1000000/);
  });

  it('removes, then waits until no task is left', async () => {
    const api = new FakeSwarmApi();
    const svc = api.addService(spec('acct', ['net1']));
    let polls = 0; // after the remove, the manager still lists the task twice, then none
    api.listTasks = async () => (++polls < 3 ? [task('t1', 'shutdown', 'i')] : []);
    const lines: string[] = [];
    const r = await removeService(api, { service: 'acct', pollMs: 1, log: (l) => lines.push(l) });
    expect(r.removed).toBe(true);
    expect(api.writes).toEqual([{ kind: 'remove', id: svc.ID }]);
    expect(lines).toEqual(expect.arrayContaining(['  1 task(s), 0 container(s) left', '  0 task(s), 0 container(s) left']));
  });

  it('tasks that never go: a timeout that says the ports may still be busy', async () => {
    const api = new FakeSwarmApi();
    const svc = api.addService(spec('acct', []));
    api.listTasks = async () => [task('t1', 'running', 'i')];
    await expect(removeService(api, { service: 'acct', pollMs: 1, timeoutMs: 5 })).rejects.toThrow(
      new RegExp(`still shutting down.*published ports may still be busy.*${svc.ID}`),
    );
  });

  it('removeNetworks: keeps networks other services use and ingress, removes the rest', async () => {
    const api = new FakeSwarmApi();
    api.networks = [
      { Id: 'n1', Name: 'mine', Scope: 'swarm' },
      { Id: 'n2', Name: 'shared', Scope: 'swarm' },
      { Id: 'n3', Name: 'ingress', Scope: 'swarm', Ingress: true },
    ];
    api.addService(spec('acct', ['n1', 'n2', 'n3']));
    api.addService(spec('other', ['n2']));
    const lines: string[] = [];
    const r = await removeService(api, { service: 'acct', removeNetworks: true, pollMs: 1, log: (l) => lines.push(l) });
    expect(r.networksRemoved).toEqual(['mine']);
    expect(api.networks.map((n) => n.Name)).toEqual(['shared', 'ingress']);
    expect(lines.join('\n')).toMatch(/Keeping network shared: other services use it/);
  });
});

describe('ensureNetworks (fake SwarmApi)', () => {
  it.each<[string, boolean, string[], string[]]>([
    ['existing network: its ID, nothing created', false, ['my_network'], []],
    ['missing: created as an attachable overlay', false, ['my_network', 'new_net'], ['new_net']],
    ['missing with dryRun: listed, not created', true, ['new_net'], ['new_net']],
  ])('%s', async (_n, dryRun, names, created) => {
    const api = new FakeSwarmApi();
    const r = await ensureNetworks(api, names, dryRun);
    expect(r.created).toEqual(created);
    expect(api.networks.some((n) => n.Name === 'new_net')).toBe(!dryRun && created.includes('new_net'));
    if (!dryRun) expect(Object.keys(r.ids)).toEqual(names);
  });

  it('a local-scoped network of that name: refused with the way out', async () => {
    const api = new FakeSwarmApi();
    api.networks = [{ Id: 'b1', Name: 'my_network', Driver: 'bridge', Scope: 'local' }];
    await expect(ensureNetworks(api, ['my_network'])).rejects.toThrow(/is a local-scoped bridge network; swarm services need an overlay/);
  });

  it('created concurrently by another deploy: uses that one', async () => {
    const api = new FakeSwarmApi();
    api.createNetwork = async (s) => {
      api.networks.push({ Id: 'theirs', Name: s.Name, Scope: 'swarm' });
      throw new Error('network with name new_net already exists');
    };
    expect((await ensureNetworks(api, ['new_net'])).ids).toEqual({ new_net: 'theirs' });
  });
});
