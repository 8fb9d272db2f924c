import { TlsFailureKind, classifyTlsError } from './tls-errors';

const tls = {
  verify: true,
  caPath: '/ci/certs/ca.pem',
  certPath: '/ci/certs/cert.pem',
  keyPath: '/ci/certs/key.pem',
  origin: 'DOCKER_CERT_PATH=/ci/certs',
};
const all = { ca: true, cert: true, key: true };
const noClient = { ca: true, cert: false, key: false };

describe('classifyTlsError', () => {
  it.each<[string, { code?: string; message: string }, typeof all, TlsFailureKind, RegExp]>([
    [
      'another CA signed the engine',
      { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' },
      all,
      'unknown-ca',
      /not signed by a CA we trust.*\/ci\/certs\/ca.pem from DOCKER_CERT_PATH=\/ci\/certs/,
    ],
    ['self-signed engine cert', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, all, 'unknown-ca', /CA we trust/],
    [
      'no ca.pem: system CAs',
      { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' },
      { ca: false, cert: true, key: true },
      'unknown-ca',
      /none found, so the system CAs/,
    ],
    [
      'wrong name',
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        message: "Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list: 192.168.213.11",
      },
      all,
      'wrong-name',
      /for another name.*IP: 10.0.0.9/,
    ],
    ['expired', { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, all, 'expired', /expired.*DOCKER_CERT_PATH/],
    ['not yet valid', { code: 'CERT_NOT_YET_VALID', message: 'certificate is not yet valid' }, all, 'not-yet-valid', /clock/],
    [
      'no client certificate (TLS 1.3)',
      {
        code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        message:
          'C0:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../ssl/record/rec_layer_s3.c:1586:SSL alert number 116',
      },
      noClient,
      'client-cert-missing',
      /wants a client certificate and none was sent.*no cert.pem\/key.pem in DOCKER_CERT_PATH=\/ci\/certs/,
    ],
    [
      'a client certificate from another CA',
      {
        code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
        message: 'C0:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../ssl/record/rec_layer_s3.c:1586:SSL alert number 48',
      },
      all,
      'client-cert-refused',
      /refused our client certificate.*\/ci\/certs\/cert.pem/,
    ],
    ['a plain HTTP port', { code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'ssl3_get_record:wrong version number' }, all, 'not-tls', /2375/],
    ['a broken key file', { message: 'error:1E08010C:DECODER routines::unsupported' }, all, 'bad-files', /PEM/],
  ])('%s', (_name, error, seen, kind, cause) => {
    const failure = classifyTlsError(error, tls, seen);
    expect(failure?.kind).toBe(kind);
    expect(`${failure?.cause} ${failure?.next}`).toMatch(cause);
  });

  it('leaves other errors alone', () => {
    expect(classifyTlsError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.5:2376' }, tls, all)).toBeUndefined();
  });

  it('names a docker context as the origin', () => {
    const failure = classifyTlsError(
      { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' },
      { ...tls, origin: 'docker context "prod" (/h/.docker/contexts/tls/abc/docker)' },
      all,
    );
    expect(failure?.cause).toMatch(/docker context "prod"/);
  });
});
