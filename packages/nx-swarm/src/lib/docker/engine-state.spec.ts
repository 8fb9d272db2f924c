import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { forgetCheckMemo, updateStateRecord } from '../common/state-record';
import { CHECK_REUSE_MS, EngineGet, checkOwner, engineStateText, repoOf, reusableCheck, type CheckMemo } from './engine-state';

describe('repoOf', () => {
  it.each([
    ['a/b:tag', 'a/b'],
    ['host:5000/a/b:tag', 'host:5000/a/b'],
    ['host:5000/a/b', 'host:5000/a/b'],
    ['a/b@sha256:abc', 'a/b'],
    ['a:1@sha256:abc', 'a'],
  ])('%s → %s', (ref, repo) => expect(repoOf(ref)).toBe(repo));
});

/** A fake engine: the answers a test changes between two checks. */
function fakeEngine() {
  const state = {
    images: [
      { Id: 'sha256:aaa', RepoTags: ['me/app:c-1', 'me/app:latest'] },
      { Id: 'sha256:bbb', RepoTags: ['me/app:c-0', 'other/app:x'] },
    ],
    services: [{ ID: 'svc1', Version: { Index: 10 }, Spec: { Name: 'app' }, UpdateStatus: { State: 'completed' } }],
    tasks: [{ ID: 't1', ServiceID: 'svc1', Status: { State: 'running' } }],
    fail: false,
  };
  const get: EngineGet = async (p) => {
    if (state.fail) throw new Error('connect ECONNREFUSED /var/run/docker.sock');
    if (p.startsWith('/images/json')) return state.images;
    if (p.startsWith('/services')) return state.services;
    if (p.startsWith('/tasks')) return state.tasks;
    throw new Error(`unexpected ${p}`);
  };
  return { state, get };
}

describe('engineStateText: what Nx hashes for the image and deploy targets', () => {
  let root: string;
  let n = 0;
  const nonce = () => `nonce-${++n}`;
  const env = { SECRET_TOKEN: 's3cret-value' } as NodeJS.ProcessEnv;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxs-engine-state-'));
    fs.writeFileSync(path.join(root, 'greeting.txt'), 'hello');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const text = (get: EngineGet, e: NodeJS.ProcessEnv = env) =>
    engineStateText({ workspaceRoot: root, project: 'app', env: e, plugin: 'test', get, nonce });
  const record = () => {
    updateStateRecord(root, 'app', { image: { repositories: ['me/app'], nonce: 'n1' } });
    updateStateRecord(root, 'app', { deploy: { services: ['app'], files: ['greeting.txt'], env: ['SECRET_TOKEN'] } });
  };

  it('lists the repository tags, the service and its running tasks, and never a value', async () => {
    record();
    const engine = fakeEngine();
    const out = await text(engine.get);
    expect(out).toContain('image me/app:c-1 sha256:aaa');
    expect(out).toContain('image me/app:latest sha256:aaa');
    expect(out).toContain('image me/app:c-0 sha256:bbb');
    expect(out).not.toContain('other/app');
    expect(out).toContain('service app id svc1 version 10 update completed');
    expect(out).toContain('task app t1 running');
    expect(out).not.toContain('s3cret');
    expect(out).not.toContain('hello');
    expect(await text(engine.get)).toBe(out); // stable: the same state hashes the same
  });

  type Change = (s: ReturnType<typeof fakeEngine>['state'], root: string) => NodeJS.ProcessEnv | void;
  it.each<[string, Change]>([
    ['an image removed', (s) => void s.images.shift()],
    ['a tag moved', (s) => void (s.images[1].RepoTags = ['me/app:c-0', 'me/app:latest'])],
    ['the service updated (version)', (s) => void (s.services[0].Version.Index = 11)],
    ['the service removed', (s) => void (s.services = [])],
    ['an update rolled back', (s) => void (s.services[0].UpdateStatus.State = 'rollback_completed')],
    ['a task replaced', (s) => void (s.tasks[0].ID = 't2')],
    ['a task not running', (s) => void (s.tasks[0].Status.State = 'starting')],
    ['a config file edited', (_s, r) => fs.writeFileSync(path.join(r, 'greeting.txt'), 'hello!')],
    ['a config file removed', (_s, r) => fs.rmSync(path.join(r, 'greeting.txt'))],
    ['a secret variable changed', () => ({ SECRET_TOKEN: 'other' })],
    ['a secret variable unset', () => ({})],
  ])('changes when %s', async (_name, change) => {
    record();
    const engine = fakeEngine();
    const before = await text(engine.get);
    const e = change(engine.state, root);
    expect(await text(engine.get, e ?? env)).not.toBe(before);
  });

  it.each<[string, () => void, (s: ReturnType<typeof fakeEngine>['state']) => void, string]>([
    ['there is no record yet', () => {}, () => {}, 'no state record yet'],
    [
      'the deploy named its image by a tag',
      () =>
        updateStateRecord(root, 'app', {
          deploy: { services: ['app'], files: [], env: [], uncacheable: 'the image is named by a tag (me/app:latest), which can move' },
        }),
      () => {},
      'named by a tag',
    ],
    ['the engine does not answer', record, (s) => void (s.fail = true), 'ECONNREFUSED'],
  ])('is a fresh random line when %s', async (_name, setup, breakIt, why) => {
    setup();
    const engine = fakeEngine();
    breakIt(engine.state);
    const a = await text(engine.get);
    expect(a).toContain('not cacheable now');
    expect(a).toContain(why);
    expect(await text(engine.get)).not.toBe(a);
  });

  it('lists the manifest digest the registry has for each pushed tag, and changes when it moves or goes', async () => {
    updateStateRecord(root, 'app', {
      image: { repositories: ['reg:5000/me/app'], nonce: 'n1', registryRefs: ['reg:5000/me/app:c-1', 'reg:5000/me/app:latest'] },
    });
    const engine = fakeEngine();
    const registry: Record<string, string | undefined> = { 'reg:5000/me/app:c-1': 'sha256:idx1', 'reg:5000/me/app:latest': 'sha256:idx1' };
    const run = () =>
      engineStateText({ workspaceRoot: root, project: 'app', env, plugin: 'test', get: engine.get, head: async (ref) => registry[ref], nonce });
    const before = await run();
    expect(before).toContain('registry reg:5000/me/app:c-1 sha256:idx1');
    expect(before).toContain('registry reg:5000/me/app:latest sha256:idx1');
    registry['reg:5000/me/app:latest'] = 'sha256:idx0';
    const moved = await run();
    expect(moved).not.toBe(before);
    registry['reg:5000/me/app:c-1'] = undefined;
    expect(await run()).toContain('registry reg:5000/me/app:c-1 absent');
  });

  it('does not dial an ssh:// engine whose connection is not kept between runs (a login per check): random', async () => {
    record();
    const out = await engineStateText({
      workspaceRoot: root,
      project: 'app',
      env: { DOCKER_HOST: 'ssh://deploy@manager', NX_SWARM_SSH_CONTROL_PERSIST: '0' },
      plugin: 'test',
      nonce,
    });
    expect(out).toMatch(/not cacheable now: the engine is at ssh:\/\/deploy@manager .*which this check does not dial/);
  });
});

describe("the second check of one Nx run reuses the first one's answer", () => {
  const memo: CheckMemo = {
    owner: '42:100',
    record: 'r1 -',
    endpoint: 'unix:///var/run/docker.sock test',
    at: 1000,
    text: 'nx-swarm engine state 1',
  };
  const now = { owner: '42:100', record: 'r1 -', endpoint: 'unix:///var/run/docker.sock test', at: 1200 };
  it.each<[string, CheckMemo | undefined, Partial<typeof now>, boolean]>([
    ['same process, same record, a moment later', memo, {}, true],
    ['at the end of the window', memo, { at: 1000 + CHECK_REUSE_MS }, true],
    ['after the window', memo, { at: 1000 + CHECK_REUSE_MS + 1 }, false],
    ['a clock that went back', memo, { at: 999 }, false],
    ['another Nx process (pid)', memo, { owner: '43:100' }, false],
    ['a reused pid (another start time)', memo, { owner: '42:101' }, false],
    ['another state record (a run wrote it)', memo, { record: 'r2 -' }, false],
    ['another endpoint', memo, { endpoint: 'ssh://mgr test' }, false],
    ['no memo', undefined, {}, false],
    ['a memo of a random line', { ...memo, text: 'not cacheable now: x (1)' }, {}, false],
  ])('%s: reused = %s', (_what, m, change, reused) => {
    expect(reusableCheck(m, { ...now, ...change })).toBe(reused ? memo.text : undefined);
  });

  const stat = (pid: number, comm: string, ppid: number, start: number) =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 1 2 0 0 1 2 3 4 20 0 1 0 ${start} 5410816 988`;
  const cli = 'node /ws/node_modules/.bin/nx run app:deploy';
  it.each<[string, Record<number, string>, Record<number, string>, string | undefined]>([
    ['the Nx CLI', { 10: stat(10, 'node', 1, 555) }, { 10: cli }, '10:555'],
    ['a process name with spaces and parentheses', { 10: stat(10, 'nx (cli) x', 1, 77) }, { 10: cli }, '10:77'],
    [
      'the Nx daemon (it serves every command: no reuse)',
      { 10: stat(10, 'node', 1, 500) },
      { 10: 'node /ws/node_modules/nx/dist/src/daemon/server/start.js' },
      undefined,
    ],
    ['no /proc', {}, {}, undefined],
    ['a cmdline that cannot be read', { 10: stat(10, 'node', 1, 555) }, {}, undefined],
    ['a stat line without a start time', { 10: '10 (node) S 1 10' }, { 10: cli }, undefined],
  ])('checkOwner: %s', (_what, procs, cmdlines, owner) =>
    expect(
      checkOwner(
        10,
        (pid) => procs[pid],
        (pid) => cmdlines[pid],
      ),
    ).toBe(owner),
  );

  describe('engineStateText with an owner', () => {
    let root: string;
    let calls = 0;
    let clock = 10_000;
    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxs-check-memo-'));
      fs.writeFileSync(path.join(root, 'greeting.txt'), 'hello');
      updateStateRecord(root, 'app', { image: { repositories: ['me/app'], nonce: 'n1' } });
      updateStateRecord(root, 'app', { deploy: { services: ['app'], files: ['greeting.txt'], env: [] } });
      calls = 0;
      clock = 10_000;
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
    const engine = fakeEngine();
    const get: EngineGet = (p) => {
      calls++;
      return engine.get(p);
    };
    const check = (owner = '9:500') =>
      engineStateText({ workspaceRoot: root, project: 'app', env: {}, plugin: 'test', get, owner, now: () => clock });

    it.each<[string, () => void, boolean]>([
      ['nothing between the two checks (image hit, then deploy)', () => (clock += 200), true],
      ['an image or deploy run between them', () => forgetCheckMemo(root, 'app'), false],
      ['the record rewritten between them', () => updateStateRecord(root, 'app', { image: { repositories: ['me/app'], nonce: 'n2' } }), false],
      ['a file the deploy reads edited between them', () => fs.writeFileSync(path.join(root, 'greeting.txt'), 'hello!'), false],
      ['later than the window', () => (clock += CHECK_REUSE_MS + 1), false],
    ])('%s: the engine is asked again = %s', async (_what, between, reused) => {
      const first = await check();
      const asked = calls;
      between();
      const second = await check();
      expect(calls > asked).toBe(!reused);
      if (reused) expect(second).toBe(first);
    });

    it('another Nx process asks the engine itself', async () => {
      await check('9:500');
      const asked = calls;
      await check('8:400');
      expect(calls).toBeGreaterThan(asked);
    });
  });
});
