/** The deployer against a fake SwarmApi: the stages wired together, without an engine. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeSwarmApi, task } from '../../../test/support/fake-swarm-api';
import { ConvergenceInput } from './convergence';
import { DeployError } from './deploy-error';
import { DeployParams, deploy, groupsFromFiles } from './deployer';
import { follow } from './follow';
import { SwarmDeployOptions } from './options';

const V1 = 'repo/acct:c-1';
const V2 = 'repo/acct:c-2';
const base: SwarmDeployOptions = { service: 'acct', ports: [{ target: 6767, published: 6767, mode: 'host' }], endpointMode: 'dnsrr' };

function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('deploy (fake SwarmApi)', () => {
  let root: string;
  let api: FakeSwarmApi;
  let lines: string[];
  const run = (options: SwarmDeployOptions, extra: Partial<DeployParams> = {}) =>
    deploy({
      options,
      projectName: 'acct',
      projectRoot: 'apps/acct',
      workspaceRoot: root,
      api: { api, describe: 'fake://engine', local: false },
      log: (l) => lines.push(l),
      ...fakeClock(),
      ...extra,
    });
  /** Every service created or updated runs its image's task at once. */
  const tasksFollowSpec = () => {
    api.onWrite = (w) => {
      const id = w.id!;
      const image = w.spec!.TaskTemplate.ContainerSpec.Image;
      const n = api.writes.length;
      api.tasks.set(id, [task(`t${n}`, 'running', image)]);
      api.upToDate.set(id, [`t${n}`]);
      const svc = api.services.get(id)!;
      if (w.kind === 'update') svc.UpdateStatus = { State: 'completed', Message: 'update completed' };
    };
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-deployer-'));
    api = new FakeSwarmApi();
    api.images = { [V1]: { Id: 'sha256:1' }, [V2]: { Id: 'sha256:2', healthcheck: { Test: ['CMD', '/acct', 'healthcheck'], Interval: 5e9 } } };
    lines = [];
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('dryRun prints the plan and never enters the write path', async () => {
    const report = await run({ ...base, image: V1, dryRun: true });
    expect(report.action).toBe('dry-run');
    expect(lines.join('\n')).toMatch(/Plan: create service acct from repo\/acct:c-1/);
    expect(api.writes).toEqual([]);
    expect(api.calls.filter((c) => /create|update/.test(c))).toEqual([]);
    expect(fs.existsSync(path.join(root, 'dist/apps/acct/deploy.json'))).toBe(false);
  });

  it('dryRun of a change swarm cannot make in place (mode): fails like the deploy would, writes nothing', async () => {
    tasksFollowSpec();
    await run({ ...base, image: V1 });
    await expect(run({ ...base, image: V1, mode: 'global', dryRun: true })).rejects.toThrow(/can't be updated in place: mode/);
    expect(api.writes).toHaveLength(1);
  });

  it('creates, follows until settled, reports; then a second deploy is a no-op that writes nothing', async () => {
    tasksFollowSpec();
    const created = await run({ ...base, image: V1 });
    expect(created).toMatchObject({ action: 'create', image: V1, imageId: 'sha256:1', replicas: { running: 1, desired: 1 } });
    expect(created.ports[0].url).toBe('http://127.0.0.1:6767/');
    expect(api.writes.map((w) => w.kind)).toEqual(['create']);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'dist/apps/acct/deploy.json'), 'utf8')).action).toBe('create');

    lines = [];
    const again = await run({ ...base, image: V1 });
    expect(again.action).toBe('noop');
    expect(lines.join('\n')).toMatch(/acct is up to date \(repo\/acct:c-1, 1\/1 running\); nothing to do/);
    expect(api.writes).toHaveLength(1);
  });

  it('update: the try URL points at the health path of a `<binary> healthcheck` image', async () => {
    tasksFollowSpec();
    await run({ ...base, image: V1 });
    const updated = await run({ ...base, image: V2 });
    expect(updated.action).toBe('update');
    expect(updated.changes).toEqual([`image: ${V1} → ${V2}`, 'updateConfig.Monitor: 10s → 5s']);
    expect(updated.ports[0].url).toBe('http://127.0.0.1:6767/health');
    // the monitor was sized from the image's 5 s health-check interval
    expect(api.writes[1].spec!.UpdateConfig!.Monitor).toBe(5e9);
  });

  it('retries "update out of sequence": reads the service again, re-plans, writes once', async () => {
    tasksFollowSpec();
    await run({ ...base, image: V1 });
    const outOfSequence = Object.assign(new Error('(HTTP code 500) server error - rpc error: update out of sequence'), { statusCode: 500 });
    api.updateErrors = [outOfSequence, outOfSequence];
    api.calls = [];
    const r = await run({ ...base, image: V2 });
    expect(r.action).toBe('update');
    expect(api.calls.filter((c) => c === 'updateService')).toHaveLength(3);
    expect(api.calls.filter((c) => c === 'inspectService acct').length).toBeGreaterThanOrEqual(3);
    expect(api.writes.map((w) => w.kind)).toEqual(['create', 'update']);
    expect(lines.join('\n')).not.toMatch(/out of sequence/);
  });

  it('a concurrent create (409) turns into an update of the service the other deploy made', async () => {
    tasksFollowSpec();
    api.createErrors = [Object.assign(new Error('name conflicts'), { statusCode: 409 })];
    const other = api.addService({ Name: 'acct', TaskTemplate: { ContainerSpec: { Image: V1 } }, Mode: { Replicated: { Replicas: 1 } } });
    api.services.delete(other.ID); // not there when we look first...
    const realCreate = api.createService.bind(api);
    api.createService = async (spec) => {
      api.services.set(other.ID, other); // ...but there when we create
      return realCreate(spec);
    };
    const r = await run({ ...base, image: V2 });
    expect(r.action).toBe('update');
    expect(api.writes.map((w) => w.kind)).toEqual(['update']);
  });

  it('other errors are explained, not retried', async () => {
    api.createErrors = [Object.assign(new Error("port published with ingress mode can't be used with dnsrr mode"), { statusCode: 400 })];
    await expect(run({ ...base, image: V1 })).rejects.toThrow(/Could not create service acct: .*Publish the port with "mode": "host"/);
    expect(api.calls.filter((c) => c === 'createService')).toHaveLength(1);
  });

  it('same spec, rollout still going: follows it without writing', async () => {
    tasksFollowSpec();
    await run({ ...base, image: V1 });
    const svc = [...api.services.values()][0];
    svc.UpdateStatus = { State: 'updating', Message: 'update in progress' };
    let polls = 0;
    api.tasks.set(svc.ID, () => {
      polls++;
      if (polls >= 3) svc.UpdateStatus = { State: 'completed', Message: 'update completed' };
      return [task('t9', polls >= 2 ? 'running' : 'starting', V1)];
    });
    api.upToDate.set(svc.ID, ['t9']);
    const r = await run({ ...base, image: V1 });
    expect(r.action).toBe('follow');
    expect(lines.join('\n')).toMatch(/a rollout is in progress, following it/);
    expect(api.writes).toHaveLength(1);
  });

  it('an unknown receipt image on the engine: says to run the image target', async () => {
    fs.mkdirSync(path.join(root, 'dist/apps/acct'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'dist/apps/acct/image.json'),
      JSON.stringify({ repository: 'repo/acct', contentRef: 'repo/acct:c-9', imageId: 'sha256:9', pushed: false }),
    );
    await expect(run(base)).rejects.toThrow(
      /repo\/acct:c-9 named by dist\/apps\/acct\/image.json is not on the engine at fake:\/\/engine.*nx run acct:image/,
    );
  });

  it('start-first with a fixed host port on one node: refused before planning', async () => {
    await expect(run({ ...base, image: V1, updateConfig: { order: 'start-first' } })).rejects.toThrow(DeployError);
    expect(api.calls.some((c) => c.startsWith('inspectService'))).toBe(false);
  });

  describe('composeFile', () => {
    const stack = `
x-deploy: &deploy
  restart_policy: { condition: on-failure }
services:
  acct:
    image: example/acct:from-stack
    ports: ["6767:6767"]
    environment: { GREETING: "\${GREETING:-hello}" }
    secrets: [admin_token]
    deploy:
      <<: *deploy
      replicas: 3
      endpoint_mode: dnsrr
secrets:
  admin_token: { environment: ADMIN_TOKEN }
`;
    beforeEach(() => fs.writeFileSync(path.join(root, 'docker-stack.yml'), stack));

    it('reads the service from the file; explicit options win; the file image is used only without a receipt', async () => {
      tasksFollowSpec();
      const r = await run(
        {
          composeFile: 'docker-stack.yml',
          composeService: 'acct',
          service: 'acct',
          replicas: 1,
          networks: ['my_network'],
          ports: [{ target: 6767, published: 6767, mode: 'host' }],
        },
        { env: { ADMIN_TOKEN: 't0k3n' }, explicit: (k) => ['service', 'replicas', 'ports', 'composeFile', 'composeService'].includes(k) },
      );
      const spec = api.writes.find((w) => w.kind === 'create')!.spec!;
      expect(spec.Mode.Replicated!.Replicas).toBe(1); // explicit, though it equals the schema default (the file says 3)
      expect(spec.EndpointSpec!.Mode).toBe('dnsrr');
      expect(spec.TaskTemplate.ContainerSpec.Env).toEqual(['GREETING=hello']);
      expect(spec.TaskTemplate.RestartPolicy!.Condition).toBe('on-failure');
      expect(spec.TaskTemplate.ContainerSpec.Secrets![0].SecretName).toMatch(/^acct_admin_token_[0-9a-f]{8}$/);
      expect(r.image).toBe('example/acct:from-stack');
      expect(lines.join('\n')).toMatch(/No image target receipt .*deploying the image docker-stack.yml names, example\/acct:from-stack/);
    });

    it('a field the deployer cannot honour fails before any engine call, naming it', async () => {
      fs.writeFileSync(path.join(root, 'docker-stack.yml'), stack.replace('    ports:', '    privileged: true\n    ports:'));
      await expect(run({ composeFile: 'docker-stack.yml', service: 'acct' }, { env: { ADMIN_TOKEN: 'x' } })).rejects.toMatchObject({
        message: expect.stringMatching(/Can't deploy service acct from docker-stack.yml/),
        details: [expect.stringMatching(/privileged/)],
      });
      expect(api.calls).toEqual([]);
    });
  });

  describe('secrets, configs and releases', () => {
    const TOKEN = 'tok-SECRET-value-1';
    const TOKEN2 = 'tok-SECRET-value-2';
    const withObjects = (token: string, greeting = 'Hello'): SwarmDeployOptions => {
      fs.mkdirSync(path.join(root, 'conf'), { recursive: true });
      fs.writeFileSync(path.join(root, 'conf/greeting.txt'), greeting);
      return {
        ...base,
        secrets: [{ source: 'admin_token', env: 'ADMIN_TOKEN' }],
        configs: [{ source: 'greeting', file: 'conf/greeting.txt', target: '/config/greeting.txt' }],
        env: { ADMIN_TOKEN_FILE: '/run/secrets/admin_token' },
        // the content comes from here: params.env
        image: V1,
        ...(token ? {} : {}),
      };
    };
    const deployWith = (token: string, o: SwarmDeployOptions, extra: Partial<DeployParams> = {}) => run(o, { env: { ADMIN_TOKEN: token }, ...extra });
    const history = () =>
      JSON.parse([...api.services.values()][0].Spec.Labels!['io.nx-swarm.releases']).r as { n: number; secrets?: Record<string, string> }[];

    it('creates the versions before the service, mounts them by ID, records release #1; unchanged → no write at all', async () => {
      tasksFollowSpec();
      const r = await deployWith(TOKEN, withObjects(TOKEN));
      expect(api.writes.map((w) => w.kind)).toEqual(['create-secret', 'create-config', 'create']);
      const cs = api.writes[2].spec!.TaskTemplate.ContainerSpec;
      expect(cs.Secrets).toEqual([
        {
          File: { Name: 'admin_token', UID: '0', GID: '0', Mode: 0o444 },
          SecretID: api.objects.secret[0].ID,
          SecretName: api.objects.secret[0].Spec.Name,
        },
      ]);
      expect(cs.Configs![0]).toMatchObject({ File: { Name: '/config/greeting.txt' }, ConfigID: api.objects.config[0].ID });
      expect(api.objects.secret[0].data.toString()).toBe(TOKEN);
      expect(r.release).toEqual({ n: 1 });
      expect(history()[0]).toMatchObject({ n: 1, image: V1, secrets: { admin_token: api.objects.secret[0].Spec.Name } });

      lines = [];
      const again = await deployWith(TOKEN, withObjects(TOKEN));
      expect(again.action).toBe('noop');
      expect(api.writes).toHaveLength(3);
    });

    it('rotation: new version, rolling update, the old version kept while release #1 is in the history', async () => {
      tasksFollowSpec();
      await deployWith(TOKEN, withObjects(TOKEN));
      const v1 = api.objects.secret[0].Spec.Name;
      lines = [];
      const r = await deployWith(TOKEN2, withObjects(TOKEN2, 'Hi'));
      expect(r.action).toBe('update');
      const v2 = api.objects.secret[1].Spec.Name;
      expect(r.changes).toEqual(
        expect.arrayContaining([
          `secret admin_token: content changed (new version ${v2})`,
          expect.stringMatching(/^config greeting: content changed/),
        ]),
      );
      expect(history().map((h) => h.secrets!.admin_token)).toEqual([v2, v1]);
      expect(api.objects.secret.map((o) => o.Spec.Name)).toEqual([v1, v2]); // v1 is release #1's
    });

    it('deletes the versions no service and no release uses (a rolled-back release), never one in use', async () => {
      tasksFollowSpec();
      await deployWith(TOKEN, withObjects(TOKEN));
      // a version left over from a release swarm rolled back (its history entry went with the spec)
      api.objects.secret.push({
        ID: 'orphan',
        Spec: { Name: 'acct_admin_token_0badbad0', Labels: { 'io.nx-swarm.managed-by': 'nx-swarm', 'io.nx-swarm.service': 'acct' } },
        data: Buffer.from('x'),
      });
      lines = [];
      await deployWith(TOKEN2, withObjects(TOKEN2));
      expect(api.writes.filter((w) => w.kind === 'remove-secret').map((w) => w.id)).toEqual(['orphan']);
      expect(lines.join('\n')).toMatch(/Deleted 1 version that no service or recorded release uses: secret acct_admin_token_0badbad0/);
    });

    it('the secret value appears in no line, report, change or deploy.json; dryRun creates nothing', async () => {
      tasksFollowSpec();
      const warnings: string[] = [];
      const dry = await deployWith(TOKEN, { ...withObjects(TOKEN), dryRun: true }, { warn: (l) => warnings.push(l) });
      expect(dry.action).toBe('dry-run');
      expect(api.writes).toEqual([]);
      expect(lines.join('\n')).toMatch(/secret admin_token: added \(new version acct_admin_token_[0-9a-f]{8}, from env ADMIN_TOKEN\)/);
      await deployWith(TOKEN, withObjects(TOKEN));
      await deployWith(TOKEN2, withObjects(TOKEN2));
      const everything = [
        lines.join('\n'),
        warnings.join('\n'),
        JSON.stringify(dry),
        fs.readFileSync(path.join(root, 'dist/apps/acct/deploy.json'), 'utf8'),
        JSON.stringify([...api.services.values()]),
      ];
      for (const text of everything) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(TOKEN2);
      }
    });

    it('a missing file or unset variable fails before any engine call, naming the option', async () => {
      await expect(
        run(
          { ...base, image: V1, secrets: [{ source: 'admin_token', env: 'NOT_SET_ANYWHERE' }], configs: [{ source: 'g', file: 'nope.txt' }] },
          { env: {} },
        ),
      ).rejects.toMatchObject({
        details: [
          expect.stringMatching(/secrets\[0\]\.env: the environment variable NOT_SET_ANYWHERE is not set/),
          expect.stringMatching(/configs\[0\]\.file: nope.txt does not exist/),
        ],
      });
      expect(api.calls).toEqual([]);
    });

    it('an external secret that does not exist: refused before any write, with the way out', async () => {
      await expect(run({ ...base, image: V1, secrets: [{ source: 'db', external: true, name: 'prod_db' }] })).rejects.toThrow(
        /The external secret prod_db \(secrets: db\) doesn't exist on the swarm/,
      );
      expect(api.writes).toEqual([]);
    });
  });
});

describe('follow (fake SwarmApi)', () => {
  const tracker = (over: Partial<ConvergenceInput> = {}): ConvergenceInput => ({
    kind: 'update',
    serviceName: 'acct',
    image: V2,
    previousImage: V1,
    desiredReplicas: 1,
    hasHealthcheck: false,
    failureAction: 'rollback',
    deadlineMs: 120_000,
    settleMs: 10_000,
    ...over,
  });

  it("re-issues a stuck stop-first rollback's spec (ForceUpdate + 1) once, then reports the rollback", async () => {
    const api = new FakeSwarmApi();
    const desired = { Name: 'acct', TaskTemplate: { ContainerSpec: { Image: V2 }, ForceUpdate: 0 }, Mode: { Replicated: { Replicas: 1 } } };
    const svc = api.addService({ ...desired, TaskTemplate: { ContainerSpec: { Image: V1 }, ForceUpdate: 0 } }, { ID: 's1' });
    svc.UpdateStatus = { State: 'rollback_started', Message: 'update rolled back due to failure or early termination of task crashed0001' };
    api.tasks.set('s1', [
      task('crashed0001', 'failed', V2, { DesiredState: 'shutdown', Status: { State: 'failed', Err: 'task: non-zero exit (1)' } }),
      task('ghost', 'pending', V2, { DesiredState: 'shutdown', NodeID: undefined }),
      task('waiting', 'ready', V1, { DesiredState: 'ready' }),
    ]);
    api.onWrite = () => {
      svc.UpdateStatus = { State: 'rollback_completed', Message: 'rollback completed' };
      api.tasks.set('s1', [task('back', 'running', V1)]);
    };
    const warnings: string[] = [];
    const clock = fakeClock();
    const error = await follow(api, {
      serviceId: 's1',
      desired,
      tracker: tracker(),
      view: {},
      log: () => {},
      warn: (w) => warnings.push(w),
      ...clock,
    }).catch((e) => e);
    expect(api.writes).toHaveLength(1);
    expect(api.writes[0].spec!.TaskTemplate.ForceUpdate).toBe(1);
    expect(api.writes[0].spec!.TaskTemplate.ContainerSpec.Image).toBe(V1);
    expect(warnings.join()).toMatch(/rollback is stuck/);
    expect(clock.now()).toBeGreaterThan(5000);
    expect(error).toBeInstanceOf(DeployError);
    expect(error.message).toMatch(/rolled back: repo\/acct:c-1 is running again/);
    expect(error.details.join('\n')).toMatch(/fake: log line/);
  });

  it('a service removed while following: says so', async () => {
    const api = new FakeSwarmApi();
    await expect(
      follow(api, { serviceId: 'gone', desired: {} as never, tracker: tracker(), view: {}, log: () => {}, warn: () => {}, ...fakeClock() }),
    ).rejects.toThrow(/disappeared while deploying/);
  });
});

describe('groupsFromFiles', () => {
  it.each<[string, boolean, (f: string) => number, string[] | RegExp]>([
    ['local engine: the gid of each file', true, (f) => (f === '/var/run/docker.sock' ? 105 : 7), ['105']],
    [
      'remote engine: refused, with the way out',
      false,
      () => 105,
      /the engine at tcp:\/\/mgr:2376 is remote\. Give the group id in "groups" instead \(on the manager: `stat -c %g \/var\/run\/docker.sock`\)/,
    ],
    [
      'unreadable file',
      true,
      () => {
        throw new Error('ENOENT: no such file');
      },
      /can't read the group of \/var\/run\/docker.sock: ENOENT/,
    ],
  ])('%s', (_n, local, stat, expected) => {
    const run = () => groupsFromFiles(['/var/run/docker.sock'], { local, describe: 'tcp://mgr:2376' }, stat);
    if (Array.isArray(expected)) expect(run()).toEqual(expected);
    else expect(run).toThrow(expected);
  });
});
