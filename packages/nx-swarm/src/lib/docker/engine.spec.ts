import { parseDockerHost } from './endpoint';
import { connectionLostWords, daemonMessage, isConnectionLost, negotiateApiVersion, unreachableMessage } from './engine';
import { classifySshFailure } from './ssh-command';
import { SshTransportError } from './ssh-transport';

describe('negotiateApiVersion', () => {
  it.each([
    ['1.41', undefined, '1.41'],
    ['1.43', '1.12', '1.43'],
    ['1.52', '1.44', '1.47'],
    ['1.52', '1.48', '1.48'],
  ])('server %s (min %s) -> %s', (server, min, expected) => {
    expect(negotiateApiVersion(server, min)).toBe(expected);
  });
  it('refuses an engine that is too old', () => {
    expect(() => negotiateApiVersion('1.30')).toThrow(/older than 1.41/);
  });
});

describe('daemonMessage', () => {
  it.each([
    [
      { json: { message: 'This node is not a swarm manager.' }, message: '(HTTP code 503) unexpected - This node is not a swarm manager.' },
      'This node is not a swarm manager.',
    ],
    [{ message: '(HTTP code 404) no such image - No such image: x:y' }, 'No such image: x:y'],
    [new Error('connect ENOENT /var/run/docker.sock'), 'connect ENOENT /var/run/docker.sock'],
  ])('%#', (error, expected) => {
    expect(daemonMessage(error)).toBe(expected);
  });
});

const tlsEndpoint = parseDockerHost('tcp://10.0.0.5:2376', 'DOCKER_HOST', {
  verify: true,
  certDir: '/ci/certs',
  origin: 'DOCKER_CERT_PATH=/ci/certs',
});
const sshError = (stderr: string, code: number, afterData = false) =>
  new SshTransportError(classifySshFailure(stderr, code, { host: 'mgr' }), afterData);

describe('unreachableMessage', () => {
  it.each<[string, ReturnType<typeof parseDockerHost>, Error | string, RegExp, RegExp | null]>([
    [
      'no local engine',
      parseDockerHost('unix:///var/run/docker.sock', 'DOCKER_HOST'),
      'connect ENOENT /var/run/docker.sock',
      /Start an engine/,
      null,
    ],
    [
      'TLS: the next step is the certificates, not "is the engine running"',
      tlsEndpoint,
      Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      /tcp\+tls:\/\/10.0.0.5:2376 \(DOCKER_HOST\): TLS: the engine's certificate is not signed.*DOCKER_CERT_PATH=\/ci\/certs/s,
      /engine is running/,
    ],
    [
      'TLS, refused port',
      tlsEndpoint,
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:2376'), { code: 'ECONNREFUSED' }),
      /engine is running and reachable/,
      null,
    ],
    [
      "ssh: ssh's words, then the fix",
      parseDockerHost('ssh://mgr', 'DOCKER_HOST'),
      sshError('No ED25519 host key is known for mgr and you have requested strict checking.\nHost key verification failed.\n', 255),
      /ssh:\/\/mgr \(DOCKER_HOST\) through ssh:\n {2}No ED25519 host key is known for mgr.*\n {2}Host key verification failed\.\n.*ssh-keyscan/s,
      null,
    ],
  ])('%s', (_name, endpoint, cause, expected, notExpected) => {
    const message = unreachableMessage(endpoint, cause, { ca: true, cert: true, key: true });
    expect(message).toMatch(expected);
    if (notExpected) expect(message).not.toMatch(notExpected);
  });
});

describe('isConnectionLost', () => {
  it.each<[string, unknown, boolean]>([
    ['socket hang up', new Error('socket hang up'), true],
    ['reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['engine gone', Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }), true],
    ['ssh stream ended', sshError('Connection to 10.0.0.5 closed by remote host.\n', 255, true), true],
    ['an answer of the engine', Object.assign(new Error('(HTTP code 500) server error - rpc error'), { statusCode: 500 }), false],
    ['a conflict', Object.assign(new Error('(HTTP code 409) conflict - update out of sequence'), { statusCode: 409 }), false],
    ['not an error', undefined, false],
  ])('%s -> %s', (_name, error, lost) => {
    expect(isConnectionLost(error)).toBe(lost);
  });

  it("words of a lost ssh stream are ssh's last line", () => {
    expect(connectionLostWords(sshError('Connection to 10.0.0.5 closed by remote host.\n', 255, true))).toBe(
      'the ssh connection ended: Connection to 10.0.0.5 closed by remote host.',
    );
  });
});
