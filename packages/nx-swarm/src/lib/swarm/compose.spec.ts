import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { interpolate, mergeComposeOptions, parseComposeService, parseEnvFile, type ComposeSourceOptions } from './compose';
import type { SwarmDeployOptions } from './options';

const FIXTURES = path.join(__dirname, '__fixtures__', 'compose');
const STACK = readFileSync(path.join(FIXTURES, 'docker-stack.yml'), 'utf8');
/** The fixture folder as the deployer would name it: workspace-relative. */
const REL_DIR = 'packages/nx-swarm/src/lib/swarm/__fixtures__/compose';
const WORKSPACE = path.resolve(__dirname, '../../../../..');

const readFromWorkspace = (p: string): string | undefined => {
  try {
    return readFileSync(path.resolve(WORKSPACE, p), 'utf8');
  } catch {
    return undefined;
  }
};

function parse(yaml: string, service = 'app', over: Partial<ComposeSourceOptions> = {}) {
  return parseComposeService(yaml, { file: 'stack.yml', service, env: {}, baseDir: 'apps/app', ...over });
}

/** One service called app, with the given body (indented by the caller's YAML) and extra top-level text. */
function svc(body: string, top = ''): string {
  return `services:\n  app:\n    image: x\n${body.replace(/^/gm, '    ')}\n${top}`;
}

describe('interpolate', () => {
  const env = { SET: 'value', EMPTY: '', NUM: '3' };
  it.each([
    ['plain text', 'plain text'],
    ['${SET}', 'value'],
    ['$SET', 'value'],
    ['$SET/suffix', 'value/suffix'],
    ['pre-${SET}-post', 'pre-value-post'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${SET:-fallback}', 'value'],
    ['${UNSET-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${SET:?must be set}', 'value'],
    ['${EMPTY?only unset fails}', ''],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${SET}}', 'value'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-a:b-c}', 'a:b-c'],
    ['$$', '$'],
    ['$${SET}', '${SET}'],
    ['cost $$5', 'cost $5'],
    ['${NUM}x', '3x'],
  ])('%s → %s', (text, expected) => {
    expect(interpolate(text, env)).toBe(expected);
  });

  it('an unset variable without default is empty and reported', () => {
    const unset: string[] = [];
    expect(interpolate('a${NOPE}b$NOPE2', env, (n) => unset.push(n))).toBe('ab');
    expect(unset).toEqual(['NOPE', 'NOPE2']);
  });

  it.each([
    ['${UNSET:?set UNSET to the API key}', 'required variable UNSET is missing a value: set UNSET to the API key'],
    ['${EMPTY:?no empty}', 'required variable EMPTY is missing a value: no empty'],
    ['${UNSET?}', 'required variable UNSET is missing a value'],
    ['${UNSET:-${INNER:?inner needed}}', 'required variable INNER is missing a value: inner needed'],
    ['${SET', 'invalid interpolation format'],
    ['${1BAD}', 'does not start with a variable name'],
    ['${SET*x}', 'invalid interpolation format'],
    ['cost $5', 'a lone "$"'],
  ])('%s fails: %s', (text, message) => {
    expect(() => interpolate(text, env)).toThrow(message);
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines, skips comments and blanks, unquotes, takes bare keys from env', () => {
    const text = '# comment\nA=1\n\n  B = spaced\nC="quoted value"\nD=\'single\'\nE=a=b\nFROM_ENV\nMISSING\nF=#not-a-comment\r\n';
    expect(parseEnvFile(text, { FROM_ENV: 'x' })).toEqual({
      A: '1',
      B: ' spaced',
      C: 'quoted value',
      D: 'single',
      E: 'a=b',
      FROM_ENV: 'x',
      F: '#not-a-comment',
    });
  });
});

describe('parseComposeService: the goblog-shaped stack', () => {
  const env = { TAG: 'v1.2.3', GOMAXPROCS: '2', ENCRYPT_KEY: 'k' };
  const run = (service: string, e: Record<string, string | undefined> = env) =>
    parseComposeService(STACK, { file: 'docker-stack.yml', service, env: e, baseDir: REL_DIR, readFile: readFromWorkspace });

  it('accountservice: every mapped field, merge keys from x- anchors, files re-expressed from the workspace root', () => {
    const r = run('accountservice');
    expect(r.problems).toEqual([]);
    expect(r.composeImage).toBe('someprefix/accountservice:v1.2.3');
    expect(r.options).toEqual<Partial<SwarmDeployOptions>>({
      networks: ['my_network'],
      stopGracePeriod: '20s',
      init: true,
      replicas: 2,
      endpointMode: 'dnsrr',
      labels: { 'com.example.team': 'accounts' },
      constraints: ['node.role == worker', 'node.labels.zone == eu-1'],
      placementPreferences: ['spread=node.labels.zone'],
      maxReplicasPerNode: 1,
      resources: { limits: { cpus: '0.50', memory: '64M', pids: 200 }, reservations: { cpus: '0.10', memory: '32M' } },
      updateConfig: { parallelism: 1, delay: '10s', failureAction: 'rollback', monitor: '15s', order: 'start-first' },
      rollbackConfig: { parallelism: 2, failureAction: 'pause', order: 'stop-first' },
      restartPolicy: { condition: 'on-failure', delay: '5s', maxAttempts: 3, window: '120s' },
      ports: [
        { target: 6767, published: 6767 },
        { target: 6868, published: 6868, protocol: 'tcp', mode: 'host' },
      ],
      healthcheck: {
        test: ['CMD', './healthchecker-linux-amd64', '-port=6767'],
        interval: '3s',
        timeout: '3s',
        retries: 3,
        startPeriod: '10s',
      },
      secrets: [
        { source: 'db_password', file: `${REL_DIR}/secrets/db_password.txt` },
        { source: 'admin_token', env: 'ADMIN_TOKEN', target: 'admin.token', uid: '1000', gid: '1000', mode: 0o400 },
      ],
      configs: [{ source: 'account_conf', file: `${REL_DIR}/accountservice-config.yml`, target: '/etc/accountservice/config.yml' }],
      user: '1000:1000',
      groups: ['999'],
      readOnly: true,
      capDrop: ['ALL'],
      capAdd: ['NET_BIND_SERVICE'],
      stopSignal: 'SIGTERM',
      sysctls: { 'net.core.somaxconn': '1024' },
      ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } },
      env: {
        LOG_LEVEL: 'info',
        QUOTED: 'hello world',
        PROFILE: 'test', // environment: wins over env_file
        INDENTED: 'yes',
        CONFIG_SERVER_URL: 'http://configserver:8888',
        PRICE: '$5',
        GOMAXPROCS: '2',
      },
    });
    expect(r.notes).toEqual([
      expect.stringContaining('services.accountservice.build: ignored, as docker stack deploy does'),
      expect.stringContaining('services.accountservice.depends_on: ignored, as docker stack deploy does'),
    ]);
    // The re-expressed paths really are readable from the workspace root.
    for (const ref of [...(r.options.secrets ?? []), ...(r.options.configs ?? [])]) {
      if (ref.file) expect(readFromWorkspace(ref.file)).toBeDefined();
    }
  });

  it('interpolation reads the given environment', () => {
    const r = run('accountservice', { ...env, REGISTRY: '127.0.0.1:5000', ACCOUNT_REPLICAS: '4', ZONE: 'us-2', PROFILE: 'prod' });
    expect(r.composeImage).toBe('127.0.0.1:5000/accountservice:v1.2.3');
    expect(r.options.replicas).toBe(4);
    expect(r.options.constraints).toContain('node.labels.zone == us-2');
    expect((r.options.env as Record<string, string>).PROFILE).toBe('prod');
  });

  it('a required variable that is missing is a problem naming it and its message', () => {
    const r = run('accountservice', { GOMAXPROCS: '2' });
    expect(r.problems).toEqual([
      'docker-stack.yml: services.accountservice.image: required variable TAG is missing a value: TAG is the release to deploy',
    ]);
    const c = run('configserver', {});
    expect(c.problems).toEqual([
      'docker-stack.yml: services.configserver.environment.ENCRYPT_KEY: required variable ENCRYPT_KEY is missing a value: set ENCRYPT_KEY to the config server key',
    ]);
  });

  it('configserver inherits the x-go-service anchor whole', () => {
    const r = run('configserver');
    expect(r.problems).toEqual([]);
    expect(r.options).toMatchObject({
      networks: ['my_network'],
      replicas: 1,
      constraints: ['node.role == worker'],
      restartPolicy: { condition: 'on-failure', maxAttempts: 3 },
      updateConfig: { order: 'start-first' },
      env: { SPRING_PROFILES_ACTIVE: 'test', ENCRYPT_KEY: 'k' },
    });
  });

  it('rabbitmq: several ports, map-form networks', () => {
    const r = run('rabbitmq');
    expect(r.problems).toEqual([]);
    expect(r.options.ports).toEqual([
      { target: 1883, published: 1883 },
      { target: 5672, published: 5672 },
      { target: 15672, published: 15672 },
    ]);
    expect(r.options.networks).toEqual(['my_network']);
    expect(r.options.constraints).toEqual(['node.role == manager']);
  });

  it('zipkin: global mode, a merge key inside update_config overridden locally', () => {
    const r = run('zipkin');
    expect(r.options.mode).toBe('global');
    expect(r.options.updateConfig).toEqual({
      parallelism: 1,
      delay: '10s',
      failureAction: 'rollback',
      monitor: '15s',
      order: 'stop-first',
    });
  });

  it('viz: bind and named volumes to mounts, container_name noted', () => {
    const r = run('viz');
    expect(r.problems).toEqual([]);
    expect(r.options.mounts).toEqual([
      { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', readOnly: true },
      {
        type: 'volume',
        source: 'viz-data',
        target: '/data',
        volumeDriver: 'local',
        volumeLabels: { 'com.example.purpose': 'visualizer' },
      },
    ]);
    expect(r.notes).toEqual([expect.stringContaining('services.viz.container_name: ignored, as docker stack deploy does')]);
  });

  it('an unknown service lists the services in the file', () => {
    const r = run('accounts');
    expect(r.problems).toEqual([
      'docker-stack.yml: services: no service "accounts"; the file has accountservice, configserver, rabbitmq, zipkin, viz',
    ]);
    expect(r.options).toEqual({});
  });
});

describe('parseComposeService: mappings', () => {
  it.each<[string, string, Partial<SwarmDeployOptions>]>([
    ['replicas as a number', 'deploy:\n  replicas: 3', { replicas: 3 }],
    ['mode replicated', 'deploy:\n  mode: replicated', { mode: 'replicated' }],
    ['endpoint_mode vip', 'deploy:\n  endpoint_mode: vip', { endpointMode: 'vip' }],
    ['deploy.labels as a list', 'deploy:\n  labels: ["a=1", "b=two", "c"]', { labels: { a: '1', b: 'two', c: '' } }],
    ['placement constraints as a string', 'deploy:\n  placement:\n    constraints: node.role==manager', { constraints: ['node.role==manager'] }],
    [
      'several spread preferences',
      'deploy:\n  placement:\n    preferences:\n      - spread: node.labels.dc\n      - spread: node.labels.rack',
      { placementPreferences: ['spread=node.labels.dc', 'spread=node.labels.rack'] },
    ],
    [
      'cpus as a number, memory in bytes',
      'deploy:\n  resources:\n    limits:\n      cpus: 2\n      memory: 1048576',
      { resources: { limits: { cpus: 2, memory: 1048576 } } },
    ],
    [
      'restart_policy, every field',
      'deploy:\n  restart_policy:\n    condition: any\n    delay: 1m30s\n    max_attempts: 0\n    window: 0s',
      { restartPolicy: { condition: 'any', delay: '1m30s', maxAttempts: 0, window: '0s' } },
    ],
    ['max_failure_ratio', 'deploy:\n  update_config:\n    max_failure_ratio: 0.25', { updateConfig: { maxFailureRatio: 0.25 } }],
    [
      'rollback_config monitor and delay',
      'deploy:\n  rollback_config:\n    monitor: 5s\n    delay: 500ms',
      { rollbackConfig: { monitor: '5s', delay: '500ms' } },
    ],
    ['port, target only', 'ports: ["80"]', { ports: [{ target: 80 }] }],
    ['port as a YAML number', 'ports: [80]', { ports: [{ target: 80 }] }],
    ['port udp', 'ports: ["5353:53/udp"]', { ports: [{ target: 53, published: 5353, protocol: 'udp' }] }],
    ['port 8080:80 unquoted', 'ports:\n  - 8080:80', { ports: [{ target: 80, published: 8080 }] }],
    ['port long, published as a string', 'ports:\n  - target: 80\n    published: "8080"', { ports: [{ target: 80, published: 8080 }] }],
    ['port interpolated', 'ports: ["${PORT:-9000}:80"]', { ports: [{ target: 80, published: 9000 }] }],
    ['networks list', 'networks: [front, back]', { networks: ['front', 'back'] }],
    ['environment map, numbers and booleans as text', 'environment:\n  A: 1\n  B: true\n  C: "x y"', { env: { A: '1', B: 'true', C: 'x y' } }],
    ['environment map, null takes the variable', 'environment:\n  FROM_ENV:\n', { env: { FROM_ENV: 'outside' } }],
    ['environment list, KEY= is empty', 'environment: ["EMPTY="]', { env: { EMPTY: '' } }],
    [
      'healthcheck shell string',
      'healthcheck:\n  test: curl -f http://localhost/ || exit 1',
      { healthcheck: { test: 'curl -f http://localhost/ || exit 1' } },
    ],
    [
      'healthcheck CMD-SHELL list',
      'healthcheck:\n  test: ["CMD-SHELL", "true"]\n  retries: "5"',
      { healthcheck: { test: ['CMD-SHELL', 'true'], retries: 5 } },
    ],
    ['healthcheck disable', 'healthcheck:\n  disable: true', { healthcheck: { disable: true } }],
    ['sysctls map', 'sysctls:\n  net.ipv4.tcp_syncookies: 0', { sysctls: { 'net.ipv4.tcp_syncookies': '0' } }],
    ['user as a number', 'user: 1000', { user: '1000' }],
    ['group_add numbers', 'group_add: [999, docker]', { groups: ['999', 'docker'] }],
    ['read_only false, init false', 'read_only: false\ninit: false', { readOnly: false, init: false }],
    ['stop_grace_period in seconds', 'stop_grace_period: 1m', { stopGracePeriod: '1m' }],
    ['anonymous volume', 'volumes: [/cache]', { mounts: [{ type: 'volume', target: '/cache' }] }],
    ['bind with nocopy-less rw', 'volumes: ["/srv/data:/data:rw"]', { mounts: [{ type: 'bind', source: '/srv/data', target: '/data' }] }],
    [
      'long tmpfs volume',
      'volumes:\n  - type: tmpfs\n    target: /tmp\n    tmpfs:\n      size: 64m\n      mode: 01777',
      { mounts: [{ type: 'tmpfs', target: '/tmp', tmpfsSize: '64m', tmpfsMode: 0o1777 }] },
    ],
    [
      'long bind volume, read_only',
      'volumes:\n  - type: bind\n    source: /etc/ssl\n    target: /etc/ssl\n    read_only: true',
      { mounts: [{ type: 'bind', source: '/etc/ssl', target: '/etc/ssl', readOnly: true }] },
    ],
  ])('%s', (_name, body, expected) => {
    const r = parse(svc(body, 'networks:\n  front:\n  back:\n'), 'app', { env: { FROM_ENV: 'outside' } });
    expect(r.problems).toEqual([]);
    expect(r.options).toEqual(expected);
  });

  it('x- fields are ignored at the top level and in the service', () => {
    const r = parse(`x-common: &c\n  foo: bar\nservices:\n  app:\n    image: x\n    x-meta: {a: 1}\n`);
    expect(r).toEqual({ options: {}, composeImage: 'x', problems: [], notes: [] });
  });

  it('merge keys: several anchors, local keys win', () => {
    const yaml = [
      'x-a: &a',
      '  environment: {A: "1"}',
      '  user: nobody',
      'x-b: &b',
      '  user: "1000"',
      '  read_only: true',
      'services:',
      '  app:',
      '    <<: [*a, *b]',
      '    image: x',
      '    read_only: false',
    ].join('\n');
    const r = parse(yaml);
    expect(r.problems).toEqual([]);
    expect(r.options).toEqual({ env: { A: '1' }, user: 'nobody', readOnly: false });
  });

  it('numbers with a leading zero are octal, as Compose reads them', () => {
    const r = parse(
      svc('secrets:\n  - source: s\n    mode: 0440\n  - source: t\n    mode: "0600"', 'secrets:\n  s: {file: s.txt}\n  t: {file: t.txt}'),
    );
    expect(r.options.secrets?.map((s) => s.mode)).toEqual([0o440, '0600']);
  });

  it('an unset variable is empty with a note', () => {
    const r = parse(svc('environment:\n  A: "x${NOPE}y"'));
    expect(r.options.env).toEqual({ A: 'xy' });
    expect(r.notes).toEqual(['stack.yml: services.app.environment.A: variable NOPE is not set; substituting an empty string']);
  });

  it('a bare environment KEY that is unset is left out, with a note', () => {
    const r = parse(svc('environment: [GONE]'));
    expect(r.options.env).toEqual({});
    expect(r.notes).toEqual([expect.stringContaining('GONE has no value and is not set in the environment; left out')]);
  });

  it('interpolation does not touch keys', () => {
    const r = parse(svc('environment:\n  $$KEY: "${V}"'), 'app', { env: { V: 'v' } });
    expect(r.options.env).toEqual({ $$KEY: 'v' });
  });
});

describe('parseComposeService: env_file', () => {
  const files: Record<string, string> = {
    'apps/app/base.env': 'A=from-base\nB=from-base\n',
    'apps/app/conf/over.env': 'B=from-over\nC=3\n',
    '/abs/x.env': 'X=1\n',
  };
  const readFile = (p: string) => files[p];
  it.each<[string, string, Record<string, string>]>([
    ['one file, relative to the compose file', 'env_file: base.env', { A: 'from-base', B: 'from-base' }],
    ['later files override earlier ones', 'env_file: [./base.env, conf/over.env]', { A: 'from-base', B: 'from-over', C: '3' }],
    ['environment overrides env_file', 'env_file: base.env\nenvironment: [B=inline]', { A: 'from-base', B: 'inline' }],
    ['an absolute path is kept', 'env_file: /abs/x.env', { X: '1' }],
    [
      'long syntax, optional and missing',
      'env_file:\n  - path: base.env\n  - path: missing.env\n    required: false',
      { A: 'from-base', B: 'from-base' },
    ],
  ])('%s', (_n, body, env) => {
    const r = parse(svc(body), 'app', { readFile });
    expect(r.problems).toEqual([]);
    expect(r.options.env).toEqual(env);
  });

  it('a missing env file is a problem naming the resolved path', () => {
    const r = parse(svc('env_file: nope.env'), 'app', { readFile });
    expect(r.problems).toEqual(["stack.yml: services.app.env_file: env file apps/app/nope.env can't be read"]);
  });

  it('without readFile an env file is a problem too', () => {
    expect(parse(svc('env_file: base.env')).problems).toHaveLength(1);
  });
});

describe('parseComposeService: secrets and configs', () => {
  it.each<[string, string, string, Partial<SwarmDeployOptions>]>([
    [
      'file, relative to the compose file, re-expressed from the workspace root',
      'secrets: [db]',
      'secrets:\n  db:\n    file: ../../secrets/db.txt',
      { secrets: [{ source: 'db', file: 'secrets/db.txt' }] },
    ],
    ['file, absolute', 'secrets: [db]', 'secrets:\n  db:\n    file: /run/keys/db', { secrets: [{ source: 'db', file: '/run/keys/db' }] }],
    ['environment', 'secrets: [tok]', 'secrets:\n  tok:\n    environment: API_TOKEN', { secrets: [{ source: 'tok', env: 'API_TOKEN' }] }],
    ['external, by key', 'secrets: [ext]', 'secrets:\n  ext:\n    external: true', { secrets: [{ source: 'ext', external: true }] }],
    [
      'external with name:',
      'secrets: [ext]',
      'secrets:\n  ext:\n    external: true\n    name: prod_ext_v3',
      { secrets: [{ source: 'ext', external: true, name: 'prod_ext_v3' }] },
    ],
    [
      'external, old external.name form',
      'configs: [c]',
      'configs:\n  c:\n    external:\n      name: shared_conf',
      { configs: [{ source: 'c', external: true, name: 'shared_conf' }] },
    ],
    [
      'config long syntax, every field',
      'configs:\n  - source: c\n    target: /etc/app.yml\n    uid: 0\n    gid: "101"\n    mode: 0444',
      'configs:\n  c:\n    file: ./app.yml',
      { configs: [{ source: 'c', file: 'apps/app/app.yml', target: '/etc/app.yml', uid: '0', gid: '101', mode: 0o444 }] },
    ],
    [
      'interpolated top-level definition',
      'secrets: [db]',
      'secrets:\n  db:\n    file: ./${ENV_NAME:-dev}/db.txt',
      { secrets: [{ source: 'db', file: 'apps/app/dev/db.txt' }] },
    ],
  ])('%s', (_n, body, top, expected) => {
    const r = parse(svc(body, top));
    expect(r.problems).toEqual([]);
    expect(r.options).toEqual(expected);
  });

  it('name: on a file secret is noted (objects are named by content)', () => {
    const r = parse(svc('secrets: [db]', 'secrets:\n  db:\n    name: db_${VERSION:-1}\n    file: db.txt'));
    expect(r.problems).toEqual([]);
    expect(r.options.secrets).toEqual([{ source: 'db', file: 'apps/app/db.txt' }]);
    expect(r.notes).toEqual([expect.stringContaining('secrets.db.name: ignored: swarm-deploy names the objects it creates by content')]);
  });

  it.each<[string, string, string, string]>([
    ['undefined secret', 'secrets: [nope]', '', 'services.app.secrets[0]: secret "nope" is not defined in the top-level secrets:'],
    ['undefined config', 'configs: [nope]', 'configs: {}', 'services.app.configs[0]: config "nope" is not defined in the top-level configs:'],
    ['no content source', 'secrets: [s]', 'secrets:\n  s: {}', 'secrets.s: needs file:, environment: or external: true'],
    [
      'two content sources',
      'secrets: [s]',
      'secrets:\n  s: {file: a, environment: B}',
      'secrets.s: give only one of file:, environment: and external:',
    ],
    ['inline content', 'configs: [c]', 'configs:\n  c: {content: "hello"}', 'configs.c.content: inline content is not supported'],
    ['template driver', 'configs: [c]', 'configs:\n  c: {file: a, template_driver: golang}', 'configs.c.template_driver: templated objects'],
    ['long syntax without source', 'secrets:\n  - target: x', 'secrets: {}', 'services.app.secrets[0]: source is missing'],
  ])('%s is a problem', (_n, body, top, message) => {
    const r = parse(svc(body, top));
    expect(r.problems).toEqual([expect.stringContaining(message)]);
  });
});

describe('parseComposeService: networks and volumes against the top level', () => {
  it.each<[string, string, string, Partial<SwarmDeployOptions>]>([
    ['external network, name as given', 'networks: [my_network]', 'networks:\n  my_network:\n    external: true', { networks: ['my_network'] }],
    ['top-level name: renames', 'networks: [backend]', 'networks:\n  backend:\n    name: goblog_backend', { networks: ['goblog_backend'] }],
    ['external with name:', 'networks: [net]', 'networks:\n  net:\n    external: true\n    name: shared', { networks: ['shared'] }],
    ['old external.name form', 'networks: [net]', 'networks:\n  net:\n    external:\n      name: legacy', { networks: ['legacy'] }],
    ['overlay driver is fine', 'networks: {net: }', 'networks:\n  net:\n    driver: overlay\n    attachable: true', { networks: ['net'] }],
    [
      'named volume with name: and external',
      'volumes: ["data:/var/lib/data:ro"]',
      'volumes:\n  data:\n    external: true\n    name: prod-data',
      { mounts: [{ type: 'volume', source: 'prod-data', target: '/var/lib/data', readOnly: true }] },
    ],
    [
      'named volume, nocopy',
      'volumes:\n  - type: volume\n    source: data\n    target: /d\n    volume: {nocopy: true}',
      'volumes:\n  data:',
      { mounts: [{ type: 'volume', source: 'data', target: '/d', volumeNoCopy: true }] },
    ],
  ])('%s', (_n, body, top, expected) => {
    const r = parse(svc(body, top));
    expect(r.problems).toEqual([]);
    expect(r.options).toEqual(expected);
  });

  it('a relative bind source is resolved when the compose folder is absolute', () => {
    const r = parse(svc('volumes: ["./html:/usr/share/html:ro"]'), 'app', { baseDir: '/ws/apps/app' });
    expect(r.options.mounts).toEqual([{ type: 'bind', source: '/ws/apps/app/html', target: '/usr/share/html', readOnly: true }]);
  });

  it.each<[string, string, string, string]>([
    ['undefined network', 'networks: [nope]', '', 'services.app.networks: network "nope" is not defined in the top-level networks:'],
    [
      'network aliases',
      'networks:\n  net:\n    aliases: [db]',
      'networks: {net: }',
      'services.app.networks.net.aliases: network aliases are not supported',
    ],
    ['static address', 'networks:\n  net:\n    ipv4_address: 10.0.0.5', 'networks: {net: }', 'ipv4_address: static addresses'],
    [
      'bridge driver',
      'networks: [net]',
      'networks:\n  net:\n    driver: bridge',
      'networks.net.driver: "bridge": swarm services attach to overlay networks only',
    ],
    [
      'ipam',
      'networks: [net]',
      'networks:\n  net:\n    ipam: {config: [{subnet: 10.1.0.0/24}]}',
      'networks.net.ipam: swarm-deploy creates missing networks',
    ],
    ['undefined volume', 'volumes: ["data:/data"]', '', 'volume "data" is not defined in the top-level volumes:'],
    ['relative bind with a relative compose folder', 'volumes: ["./html:/html"]', '', 'bind source "./html" is relative'],
    ['home bind', 'volumes: ["~/x:/x"]', '', 'use an absolute path on the node'],
    ['SELinux flag', 'volumes: ["/a:/a:z"]', '', 'volume option "z" is not supported'],
    ['relative target', 'volumes: ["/a:rel"]', '', 'target "rel" must be an absolute path'],
    ['bind propagation', 'volumes:\n  - type: bind\n    source: /a\n    target: /a\n    bind: {propagation: rshared}', '', '.bind: bind options'],
    [
      'volume driver_opts',
      'volumes: ["data:/data"]',
      'volumes:\n  data:\n    driver_opts: {type: nfs}',
      'volumes.data.driver_opts: volume driver options',
    ],
    ['npipe mount', 'volumes:\n  - type: npipe\n    source: x\n    target: /x', '', 'expected one of volume, bind, tmpfs'],
  ])('%s is a problem', (_n, body, top, message) => {
    const r = parse(svc(body, top));
    expect(r.problems).toEqual([expect.stringContaining(message)]);
  });
});

describe('parseComposeService: what the deployer cannot honour', () => {
  it.each<[string, string, string]>([
    ['privileged', 'privileged: true', 'services.app.privileged: not possible in a swarm service'],
    ['devices', 'devices: ["/dev/fuse"]', 'services.app.devices:'],
    ['links', 'links: [db]', 'services.app.links:'],
    ['container labels', 'labels: {a: b}', 'services.app.labels: container labels are not supported; service labels go in deploy.labels'],
    ['command', 'command: ["serve"]', 'services.app.command:'],
    ['logging', 'logging: {driver: syslog}', 'services.app.logging:'],
    ['mem_limit', 'mem_limit: 1g', 'services.app.mem_limit: set deploy.resources.limits.memory'],
    ['extends', 'extends: {service: base}', 'services.app.extends:'],
    ['an unknown field', 'frobnicate: 1', 'services.app.frobnicate: not a field swarm-deploy knows'],
    [
      'GPU reservations',
      'deploy:\n  resources:\n    reservations:\n      devices: [{capabilities: [gpu]}]',
      'deploy.resources.reservations.devices: device reservations',
    ],
    ['generic resources', 'deploy:\n  resources:\n    reservations:\n      generic_resources: []', 'reservations.generic_resources:'],
    ['job mode', 'deploy:\n  mode: replicated-job', 'deploy.mode: replicated-job: jobs are not supported'],
    ['a bad mode', 'deploy:\n  mode: sometimes', 'deploy.mode: expected one of replicated, global, got "sometimes"'],
    ['an unknown deploy key', 'deploy:\n  resource: {}', 'services.app.deploy.resource: not supported by swarm-deploy'],
    ['an unknown placement key', 'deploy:\n  placement:\n    spread: x', 'deploy.placement.spread:'],
    ['a preference that is not spread', 'deploy:\n  placement:\n    preferences: [{pack: x}]', 'deploy.placement.preferences[0].pack:'],
    [
      'rollback_config failure_action rollback',
      'deploy:\n  rollback_config:\n    failure_action: rollback',
      'rollback_config.failure_action: expected one of pause, continue',
    ],
    ['a bad order', 'deploy:\n  update_config:\n    order: random', 'update_config.order: expected one of start-first, stop-first'],
    ['a bad duration', 'deploy:\n  update_config:\n    delay: soon', 'update_config.delay'],
    ['a bad memory', 'deploy:\n  resources:\n    limits:\n      memory: lots', 'limits.memory'],
    ['bad cpus', 'deploy:\n  resources:\n    limits:\n      cpus: "-1"', 'limits.cpus'],
    ['replicas not a number', 'deploy:\n  replicas: "${N:-many}"', 'deploy.replicas: expected a whole number, got "many"'],
    ['a port range', 'ports: ["8000-8010:8000-8010"]', 'port range "8000-8010" is not supported'],
    ['a long port range', 'ports:\n  - target: 80\n    published: "8080-8081"', 'port range "8080-8081"'],
    ['a host ip', 'ports: ["127.0.0.1:8080:80"]', 'binding to one address (127.0.0.1) is not possible in a swarm'],
    ['a host ip, long syntax', 'ports:\n  - target: 80\n    host_ip: 127.0.0.1', 'ports[0].host_ip: binding to one address'],
    ['a port out of range', 'ports: ["70000:80"]', 'port 70000 is out of range'],
    ['a bad protocol', 'ports: ["80/icmp"]', 'expected one of tcp, udp, sctp'],
    ['healthcheck start_interval', 'healthcheck:\n  start_interval: 1s', 'healthcheck.start_interval: start_interval needs engine API 1.44'],
    ['a bad ulimit', 'ulimits:\n  nofile: {soft: 1}', 'ulimits.nofile.hard: expected a whole number'],
    ['cap_add not a list', 'cap_add: {a: 1}', 'cap_add: expected a list'],
  ])('%s', (_n, body, message) => {
    const r = parse(svc(body));
    expect(r.problems).toEqual([expect.stringContaining(message)]);
    expect(r.problems[0]).toMatch(/^stack\.yml: /);
  });

  it.each(['build: .', 'container_name: app', 'depends_on: [db]', 'expose: ["80"]', 'restart: always', 'profiles: [debug]'])(
    '%s is a note, not a problem',
    (body) => {
      const r = parse(svc(body));
      expect(r.problems).toEqual([]);
      expect(r.notes).toEqual([expect.stringMatching(/^stack\.yml: services\.app\.\w+: ignored, as docker stack deploy does \(.+\)$/)]);
    },
  );

  it('an unsupported top-level field is a problem', () => {
    expect(parse(`include: [other.yml]\nservices:\n  app:\n    image: x\n`).problems).toEqual(['stack.yml: include: not supported by swarm-deploy']);
  });

  it.each([
    ['invalid YAML', 'services:\n  app: [\n', 'not valid YAML'],
    ['duplicate keys', 'services:\n  app:\n    image: a\n    image: b\n', 'not valid YAML'],
    ['not a map', '- a\n- b\n', 'expected a Compose file'],
    ['no services', 'version: "3"\n', 'no service "app"; the file has no services'],
    ['an unknown alias', 'services:\n  app: *nope\n', 'not valid YAML: Unresolved alias'],
  ])('%s', (_n, yaml, message) => {
    const r = parse(yaml);
    expect(r.problems).toEqual([expect.stringContaining(message)]);
  });
});

describe('mergeComposeOptions', () => {
  const fromCompose: Partial<SwarmDeployOptions> = {
    replicas: 3,
    networks: ['my_network', 'backend'],
    updateConfig: { parallelism: 2, order: 'start-first' },
    env: { A: '1' },
  };
  it.each<[string, SwarmDeployOptions, string[], SwarmDeployOptions]>([
    [
      'schema defaults do not override the file',
      { replicas: 1, networks: ['my_network'], mode: 'replicated' },
      [],
      {
        replicas: 3,
        networks: ['my_network', 'backend'],
        updateConfig: { parallelism: 2, order: 'start-first' },
        env: { A: '1' },
        mode: 'replicated',
      },
    ],
    [
      'explicit options override, key by key, whole values',
      { replicas: 5, updateConfig: { delay: '5s' }, networks: ['my_network'] },
      ['replicas', 'updateConfig'],
      { replicas: 5, networks: ['my_network', 'backend'], updateConfig: { delay: '5s' }, env: { A: '1' } },
    ],
    [
      'options the file does not set come through, explicit or not',
      { service: 'accountservice', dryRun: true, timeout: '2m' },
      ['dryRun'],
      { ...fromCompose, service: 'accountservice', dryRun: true, timeout: '2m' } as SwarmDeployOptions,
    ],
    ['an explicit empty list overrides too', { env: [] }, ['env'], { ...fromCompose, env: [] } as SwarmDeployOptions],
  ])('%s', (_n, given, explicitKeys, expected) => {
    const before = JSON.stringify(fromCompose);
    expect(mergeComposeOptions(fromCompose, given, (k) => explicitKeys.includes(k))).toEqual(expected);
    expect(JSON.stringify(fromCompose)).toBe(before);
  });
});
