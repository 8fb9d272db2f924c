import { createHash } from 'node:crypto';
import {
  SshFailureKind,
  classifySshFailure,
  controlPersistSeconds,
  remoteDockerCommand,
  remoteEndpointCommand,
  remoteUnixSocketOf,
  sharedControlName,
  sshControlArgv,
  sshDialArgv,
  sshExitArgv,
  sshForwardArgv,
  sshWords,
} from './ssh-command';
import { sshConfigFileFor } from './ssh-transport';

describe('sshDialArgv', () => {
  const base = ['-o', 'ConnectTimeout=30', '-T', '-o', 'BatchMode=yes'];
  it.each([
    ['an alias: ssh config decides user and port', { host: 'mgr' }, {}, [...base, '--', 'mgr', 'docker', 'system', 'dial-stdio']],
    [
      'user and port from the URL',
      { host: 'h.example', username: 'deploy', port: 2222 },
      {},
      [...base, '-l', 'deploy', '-p', '2222', '--', 'h.example', 'docker', 'system', 'dial-stdio'],
    ],
    [
      'a remote socket path, quoted for the remote shell',
      { host: 'h', socketPath: "/run/my docker's.sock" },
      {},
      [...base, '--', 'h', 'docker', `'--host=unix:///run/my docker'\\''s.sock'`, 'system', 'dial-stdio'],
    ],
    [
      'one multiplexed connection, and -F when $HOME has its own config',
      { host: 'mgr' },
      { controlPath: '/tmp/x/cm', configFile: '/home/ci/.ssh/config' },
      [
        '-F',
        '/home/ci/.ssh/config',
        ...base,
        '-o',
        'ControlMaster=auto',
        '-o',
        'ControlPath=/tmp/x/cm',
        '-o',
        'ControlPersist=60',
        '--',
        'mgr',
        'docker',
        'system',
        'dial-stdio',
      ],
    ],
  ])('%s', (_name, target, options, expected) => {
    expect(sshDialArgv(target, options)).toEqual(expected);
  });

  it('never disables host key checking', () => {
    const argv = sshDialArgv({ host: 'mgr' }, { controlPath: '/tmp/x/cm' }).join(' ');
    expect(argv).not.toMatch(/StrictHostKeyChecking|UserKnownHostsFile/);
  });

  it.each(['', '-oProxyCommand=evil'])('refuses the host %j', (host) => {
    expect(() => sshDialArgv({ host })).toThrow(/not an ssh host/);
  });

  it('a bare slash is no socket path', () => {
    expect(remoteDockerCommand({ host: 'h', socketPath: '/' })).toEqual(['docker', 'system', 'dial-stdio']);
  });

  it('closes the master through its control path', () => {
    expect(sshExitArgv({ host: 'mgr' }, '/tmp/x/cm')).toEqual(['-o', 'ControlPath=/tmp/x/cm', '-O', 'exit', '--', 'mgr']);
  });
});

// ssh's own words (OpenSSH 9.2, as printed to stderr), and the remote docker CLI's.
const CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:ZV7cW5k0vIbVQ4tdo9dIwNIg1Sxk2P7s1vF6oVw0mXc.
Please contact your system administrator.
Add correct host key in /tmp/h/.ssh/known_hosts to get rid of this message.
Offending ED25519 key in /tmp/h/.ssh/known_hosts:1
  remove with:
  ssh-keygen -f "/tmp/h/.ssh/known_hosts" -R "[192.168.213.11]:2222"
Host key for [192.168.213.11]:2222 has changed and you have requested strict checking.
Host key verification failed.
`;
const UNKNOWN = `No ED25519 host key is known for [192.168.213.11]:2222 and you have requested strict checking.
Host key verification failed.
`;

describe('classifySshFailure', () => {
  const target = { host: 'mgr', username: 'deploy' };
  it.each<[string, string, number | null, SshFailureKind, RegExp]>([
    [
      'changed host key',
      CHANGED,
      255,
      'host-key-changed',
      /not the one in \/tmp\/h\/.ssh\/known_hosts \(line 1\).*ssh-keygen -f "\/tmp\/h\/.ssh\/known_hosts" -R "\[192.168.213.11\]:2222"/s,
    ],
    ['unknown host key', UNKNOWN, 255, 'host-key-unknown', /never accepts a host key by itself.*ssh-keyscan mgr >> ~\/.ssh\/known_hosts/s],
    ['key refused', 'deploy@10.0.0.5: Permission denied (publickey).\n', 255, 'auth', /refused the login as deploy@mgr.*ssh-add -l/s],
    ['unknown alias', 'ssh: Could not resolve hostname mgr: Name or service not known\n', 255, 'resolve', /Host mgr/],
    ['no sshd', 'ssh: connect to host 10.0.0.5 port 2222: Connection refused\n', 255, 'refused', /Port/],
    ['timeout', 'ssh: connect to host 10.0.0.5 port 22: Connection timed out\n', 255, 'timeout', /ProxyJump/],
    ['no docker CLI (bash)', 'bash: line 1: docker: command not found\n', 127, 'no-docker', /Install the docker CLI on mgr/],
    ['no docker CLI (dash)', 'sh: 1: docker: not found\n', 127, 'no-docker', /PATH/],
    ['old docker CLI', "docker: 'system dial-stdio' is not a docker command.\nSee 'docker --help'\n", 1, 'no-dial-stdio', /18.09/],
    [
      'not in the docker group',
      'Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: dial unix /var/run/docker.sock: connect: permission denied\n',
      1,
      'docker-permission',
      /docker group/,
    ],
    [
      'remote engine down',
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
      1,
      'remote-engine-down',
      /systemctl start docker/,
    ],
    [
      'a jump host closing',
      'kex_exchange_identification: Connection closed by remote host\nConnection closed by UNKNOWN port 65535\n',
      255,
      'closed',
      /ProxyJump/,
    ],
    ['anything else', 'something odd\n', 1, 'other', /ssh -l deploy mgr docker version/],
  ])('%s', (_name, stderr, code, kind, next) => {
    const failure = classifySshFailure(stderr, code, target);
    expect(failure.kind).toBe(kind);
    expect(failure.next).toMatch(next);
    expect(failure.words).not.toBe('');
  });

  it("keeps ssh's words, without the banner", () => {
    const words = sshWords(CHANGED);
    expect(words).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
    expect(words).toContain('Host key verification failed.');
    expect(words).not.toMatch(/^@/m);
  });

  it('says so when ssh printed nothing', () => {
    expect(classifySshFailure('', 255, target).words).toBe('ssh exited with code 255 and printed nothing');
  });
});

describe('sshConfigFileFor', () => {
  const exists = (files: string[]) => (f: string) => files.includes(f);
  it.each([
    ['HOME is the account home: ssh finds ~/.ssh itself', { HOME: '/root' }, ['/root/.ssh/config'], undefined],
    ['HOME elsewhere with a config (CI containers)', { HOME: '/github/home' }, ['/github/home/.ssh/config'], '/github/home/.ssh/config'],
    ['HOME elsewhere without one', { HOME: '/github/home' }, [], undefined],
    ['no HOME', {}, [], undefined],
  ])('%s', (_name, env, files, expected) => {
    expect(sshConfigFileFor(env, '/root', exists(files))).toBe(expected);
  });
});

describe('a kept ssh connection (NX_SWARM_SSH_CONTROL_PERSIST)', () => {
  it.each([
    [undefined, 60],
    ['', 60],
    ['0', 0],
    ['no', 0],
    ['OFF', 0],
    ['300', 300],
    ['5m', 60],
    ['999999', 86400],
  ])('%j → %d s', (value, seconds) => {
    expect(controlPersistSeconds(value === undefined ? {} : { NX_SWARM_SSH_CONTROL_PERSIST: value })).toBe(seconds);
  });

  const hash = (t: string) => createHash('sha256').update(t).digest('hex');
  it.each<[string, Parameters<typeof sharedControlName>]>([
    ['another host', [{ host: 'other' }, undefined, 'm', hash]],
    ['another user', [{ host: 'mgr', username: 'deploy' }, undefined, 'm', hash]],
    ['another port', [{ host: 'mgr', port: 2222 }, undefined, 'm', hash]],
    ['another ssh config file', [{ host: 'mgr' }, '/ci/.ssh/config', 'm', hash]],
    ['changed known_hosts or config contents', [{ host: 'mgr' }, undefined, 'm2', hash]],
  ])('is another socket for %s', (_name, args) => {
    const base = sharedControlName({ host: 'mgr' }, undefined, 'm', hash);
    expect(sharedControlName(...args)).not.toBe(base);
    expect(sharedControlName({ host: 'mgr' }, undefined, 'm', hash)).toBe(base);
    expect(base).toMatch(/^cm-[0-9a-f]{20}$/);
  });

  it('checks a master through its control path', () => {
    expect(sshControlArgv({ host: 'mgr' }, '/run/x/cm-1', 'check', '/h/.ssh/config')).toEqual([
      '-F',
      '/h/.ssh/config',
      '-o',
      'ControlPath=/run/x/cm-1',
      '-O',
      'check',
      '--',
      'mgr',
    ]);
  });
});

describe('the forward of a kept master to the remote engine socket', () => {
  it.each<[string, string, string | undefined]>([
    ['the default socket', 'unix:///var/run/docker.sock\n', '/var/run/docker.sock'],
    ['a rootless engine', 'unix:///run/user/1000/docker.sock', '/run/user/1000/docker.sock'],
    ['a login banner before the answer', 'Welcome to mgr\nunix:///var/run/docker.sock\n', '/var/run/docker.sock'],
    ['a tcp engine', 'tcp://10.0.0.5:2376', undefined],
    ['an ssh context on the remote', 'ssh://other', undefined],
    ['a relative path', 'unix://docker.sock', undefined],
    ['a path with a colon (ssh -L could not say it)', 'unix:///tmp/a:b.sock', undefined],
    ['an error', 'context "x": not found', undefined],
    ['nothing', '', undefined],
  ])('remoteUnixSocketOf: %s', (_what, output, expected) => expect(remoteUnixSocketOf(output)).toBe(expected));

  it('asks the remote docker CLI, as dial-stdio would resolve it (DOCKER_HOST, context)', () => {
    expect(remoteEndpointCommand()).toEqual(['docker', 'context', 'inspect', '--format', "'{{.Endpoints.docker.Host}}'"]);
    expect(sshDialArgv({ host: 'mgr' }, { controlPath: '/run/x/cm-1', remoteCommand: remoteEndpointCommand() }).slice(-7)).toEqual([
      '--',
      'mgr',
      ...remoteEndpointCommand(),
    ]);
  });

  it('is asked of the master through its control path', () => {
    expect(sshForwardArgv({ host: 'mgr' }, '/run/x/cm-1', '/run/x/cm-1.sock', '/var/run/docker.sock', '/h/.ssh/config')).toEqual([
      '-F',
      '/h/.ssh/config',
      '-o',
      'ControlPath=/run/x/cm-1',
      '-O',
      'forward',
      '-L',
      '/run/x/cm-1.sock:/var/run/docker.sock',
      '--',
      'mgr',
    ]);
    expect(() => sshForwardArgv({ host: 'mgr' }, '/run/x/cm-1', '/run/x/a:b', '/var/run/docker.sock')).toThrow(/":"/);
  });
});
