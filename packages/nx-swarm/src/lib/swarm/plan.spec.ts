import { task } from '../../../test/support/fake-swarm-api';
import { normalizeDeployOptions } from './deploy-options';
import { SwarmDeployOptions } from './options';
import { CurrentState, DesiredState, describePlan, planDeploy } from './plan';
import { buildServiceSpec } from './service-spec';
import type { ServiceInspect } from './swarm-api';

const IMG = 'repo/acct:c-2';
const spec = (o: SwarmDeployOptions = {}, image = IMG) =>
  buildServiceSpec(normalizeDeployOptions({ service: 'acct', ...o }, { projectName: 'acct' }), { image, networkIds: { my_network: 'net1' } });
const svc = (s = spec(), updateState?: string): ServiceInspect => ({
  ID: 'svc1',
  Version: { Index: 7 },
  Spec: s,
  ...(updateState ? { UpdateStatus: { State: updateState, Message: 'm' } } : {}),
});
const desired = (s = spec(), extra: Partial<DesiredState> = {}): DesiredState => ({ spec: s, imagePushed: true, ...extra });
const running = [task('t1', 'running', IMG)];

describe('planDeploy', () => {
  it.each<[string, CurrentState, DesiredState, number, string, RegExp | undefined]>([
    ['no service → create', { upToDateRunning: [] }, desired(), 1, 'create', undefined],
    ['same spec, all running → noop', { service: svc(), upToDateRunning: running }, desired(), 1, 'noop', undefined],
    ['new image → update', { service: svc(spec({}, 'repo/acct:c-1')), upToDateRunning: running }, desired(), 1, 'update', undefined],
    [
      'same spec, update paused → update (re-issue)',
      { service: svc(spec(), 'paused'), upToDateRunning: running },
      desired(),
      1,
      'update',
      /is paused \("m"\); re-issuing the spec/,
    ],
    [
      'same spec, rollback paused → update (re-issue)',
      { service: svc(spec(), 'rollback_paused'), upToDateRunning: running },
      desired(),
      1,
      'update',
      /rollback_paused/,
    ],
    [
      'same spec, updating → follow',
      { service: svc(spec(), 'updating'), upToDateRunning: running },
      desired(),
      1,
      'follow',
      /a rollout is in progress, following it/,
    ],
    [
      'same spec, rolling back → follow',
      { service: svc(spec(), 'rollback_started'), upToDateRunning: running },
      desired(),
      1,
      'follow',
      /following it/,
    ],
    [
      'same spec, tasks failed to pull, this deploy sends credentials → update (re-issue with them)',
      { service: svc(), upToDateRunning: [], pullFailures: 3 },
      desired(spec(), { sendsRegistryAuth: true }),
      1,
      'update',
      /could not pull the image \(3 attempts\); re-issuing it with the registry credentials/,
    ],
    [
      'same spec, tasks failed to pull, no credentials to send → follow',
      { service: svc(), upToDateRunning: [], pullFailures: 3 },
      desired(),
      1,
      'follow',
      /not all running it yet/,
    ],
    [
      'same spec, a task still starting → follow',
      { service: svc(), upToDateRunning: [task('t1', 'starting', IMG)] },
      desired(),
      1,
      'follow',
      /not all running it yet/,
    ],
    [
      'same spec, a replica missing → follow',
      { service: svc(spec({ replicas: 2 })), upToDateRunning: running },
      desired(spec({ replicas: 2 })),
      1,
      'follow',
      /not all running/,
    ],
    [
      'global, all wanted running → noop',
      { service: svc(spec({ mode: 'global' })), upToDateRunning: running, wantedTasks: 1 },
      desired(spec({ mode: 'global' })),
      1,
      'noop',
      undefined,
    ],
    [
      'global, one of two → follow',
      { service: svc(spec({ mode: 'global' })), upToDateRunning: running, wantedTasks: 2 },
      desired(spec({ mode: 'global' })),
      2,
      'follow',
      undefined,
    ],
    [
      'replicated → global → recreate',
      { service: svc(), upToDateRunning: running },
      desired(spec({ mode: 'global' })),
      1,
      'recreate',
      /can.t be updated in place: mode\.Global changes.*docker service rm acct/,
    ],
    [
      'create with the stop-first note',
      { upToDateRunning: [] },
      desired(spec(), { orderNote: 'Updates use order stop-first' }),
      1,
      'create',
      /stop-first/,
    ],
  ])('%s', (_n, current, want, nodes, action, note) => {
    const plan = planDeploy(current, want, nodes);
    expect(plan.action).toBe(action);
    if (note) expect(plan.notes.join('\n')).toMatch(note);
    if (action === 'noop') expect(plan.notes).toEqual([]);
  });

  it('a re-issue with credentials raises ForceUpdate, so swarm replaces the tasks that could not pull', () => {
    const p = planDeploy({ service: svc(), upToDateRunning: [], pullFailures: 1 }, desired(spec(), { sendsRegistryAuth: true }), 1);
    expect(p.desired.TaskTemplate.ForceUpdate).toBe((svc().Spec.TaskTemplate.ForceUpdate ?? 0) + 1);
  });

  it('update: the changes, one line each', () => {
    const plan = planDeploy({ service: svc(spec({}, 'repo/acct:c-1')), upToDateRunning: running }, desired(spec({ env: { A: '1' } })), 1);
    expect([...plan.changeLines].sort()).toEqual(['env: +A', 'image: repo/acct:c-1 → repo/acct:c-2']);
  });

  it('warns when an unpushed image goes to a multi-node swarm', () => {
    expect(planDeploy({ upToDateRunning: [] }, desired(spec(), { imagePushed: false }), 3).warnings.join()).toMatch(/never pushed.*other 2 node/);
    expect(planDeploy({ upToDateRunning: [] }, desired(spec(), { imagePushed: false }), 1).warnings).toEqual([]);
  });
});

describe('describePlan', () => {
  it.each<[string, CurrentState, DesiredState, RegExp]>([
    ['create', { upToDateRunning: [] }, desired(), /^Plan: create service acct from repo\/acct:c-2\.\n {2}spec: \{"Name":"acct"/],
    [
      'update',
      { service: svc(spec({}, 'repo/acct:c-1')), upToDateRunning: running },
      desired(),
      /^Plan: update service acct:\n {2}image: repo\/acct:c-1 → repo\/acct:c-2$/,
    ],
    ['noop', { service: svc(), upToDateRunning: running }, desired(), /^Plan: nothing to do, acct is up to date\.$/],
    ['follow', { service: svc(spec(), 'updating'), upToDateRunning: running }, desired(), /nothing to write.*still going/],
    [
      're-issue',
      { service: svc(spec(), 'paused'), upToDateRunning: running },
      desired(),
      /re-issue the spec of acct \(its previous update is paused\)/,
    ],
    [
      'recreate',
      { service: svc(), upToDateRunning: running },
      desired(spec({ mode: 'global' })),
      /^Plan: can't deploy: acct can't be updated in place/,
    ],
  ])('%s', (_n, current, want, expected) => expect(describePlan(planDeploy(current, want, 1)).join('\n')).toMatch(expected));
});

describe('planDeploy: secrets, configs, drift and the release label', () => {
  const ENV = { TOKEN: 'v1', TOKEN2: 'v2' } as NodeJS.ProcessEnv;
  const withSecret = (envVar: string, extra: SwarmDeployOptions = {}) => {
    const o = normalizeDeployOptions(
      { service: 'acct', secrets: [{ source: 'admin_token', env: envVar }], ...extra },
      { projectName: 'acct', env: ENV },
    );
    return { o, spec: buildServiceSpec(o, { image: IMG, networkIds: { my_network: 'net1' }, objectIds: { [o.secrets[0].name]: 'id-' + envVar } }) };
  };
  const v1 = withSecret('TOKEN');
  const v2 = withSecret('TOKEN2');

  it.each<[string, ServiceInspect, DesiredState, string, RegExp[], RegExp[]]>([
    ['secret added', svc(), desired(v1.spec, { objectLines: ['secret admin_token: added (…)'] }), 'update', [/secret admin_token: added/], []],
    ['secret unchanged (IDs may differ): noop', svc(withSecret('TOKEN').spec), desired({ ...v1.spec }), 'noop', [], []],
    [
      'secret content changed: one line in the user words, not a removal',
      svc(v1.spec),
      desired(v2.spec, { objectLines: [`secret admin_token: content changed (new version ${v2.o.secrets[0].name})`] }),
      'update',
      [/^secret admin_token: content changed/],
      [/removes/, /^secrets:/],
    ],
    [
      'a secret added with the CLI is a removal, said before the write',
      svc({
        ...v1.spec,
        TaskTemplate: {
          ...v1.spec.TaskTemplate,
          ContainerSpec: {
            ...v1.spec.TaskTemplate.ContainerSpec,
            Secrets: [
              ...v1.spec.TaskTemplate.ContainerSpec.Secrets!,
              { File: { Name: 'cli_one', UID: '0', GID: '0', Mode: 292 }, SecretID: 'x', SecretName: 'cli_one' },
            ],
          },
        },
      }),
      desired(v1.spec),
      'update',
      [/^removes secret cli_one \(at cli_one\)$/],
      [],
    ],
  ])('%s', (_n, current, want, action, present, absent) => {
    const p = planDeploy({ service: current, upToDateRunning: running }, want, 1);
    expect(p.action).toBe(action);
    for (const re of present) expect(p.changeLines.some((l) => re.test(l))).toBe(true);
    for (const re of absent) expect(p.changeLines.some((l) => re.test(l))).toBe(false);
  });

  it('drift: a mount, label and env var added outside nx-swarm are listed in a note before the write', () => {
    const base = spec({ env: { A: '1' } });
    const cli = JSON.parse(JSON.stringify(base)) as typeof base;
    cli.Labels = { ...cli.Labels, 'com.example.team': 'payments' };
    cli.TaskTemplate.ContainerSpec.Env = ['A=1', 'DEBUG=1'];
    cli.TaskTemplate.ContainerSpec.Mounts = [{ Type: 'volume', Source: 'cache', Target: '/cache' }];
    const p = planDeploy({ service: svc(cli), upToDateRunning: running }, desired(base), 1);
    expect(p.action).toBe('update');
    expect(p.removals).toEqual(['mount cache → /cache (volume)', 'label com.example.team', 'env DEBUG']);
    expect(p.notes.join('\n')).toMatch(
      /removes from acct what its options don't have: mount cache → \/cache \(volume\); label com.example.team; env DEBUG/,
    );
    expect(describePlan(p).join('\n')).toMatch(/env: -DEBUG/);
  });

  it('the release-history label alone is no change', () => {
    const current = spec();
    const withHistory = { ...current, Labels: { ...current.Labels, 'io.nx-swarm.releases': '{"v":1,"r":[]}' } };
    expect(planDeploy({ service: svc(withHistory), upToDateRunning: running }, desired(spec()), 1).action).toBe('noop');
  });

  it('hardening options are changes with their option names', () => {
    const p = planDeploy({ service: svc(spec()), upToDateRunning: running }, desired(spec({ user: '65532', readOnly: true })), 1);
    expect(p.changeLines).toEqual(['readOnly: (none) → true', 'user: (none) → 65532']);
  });
});
