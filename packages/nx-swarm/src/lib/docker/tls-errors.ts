/**
 * TLS failures towards a tcp+tls engine, explained: which side refused what, which files were used
 * (DOCKER_CERT_PATH or the docker context they came from), and what to change. Pure: takes Node's
 * error (code + message) and the TLS material the endpoint resolved to.
 */
import type { TlsMaterial } from './endpoint';

export type TlsFailureKind =
  'unknown-ca' | 'wrong-name' | 'expired' | 'not-yet-valid' | 'client-cert-missing' | 'client-cert-refused' | 'not-tls' | 'bad-files';

export interface TlsFailure {
  kind: TlsFailureKind;
  cause: string;
  next: string;
}

export interface TlsFilesSeen {
  ca: boolean;
  cert: boolean;
  key: boolean;
}

const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** Where the files are, in one phrase. */
function origin(tls: TlsMaterial | undefined): string {
  return tls?.origin ?? 'no TLS files (set DOCKER_CERT_PATH or use a docker context with TLS material)';
}

/** Classifies a Node TLS/socket error; undefined when it is not about TLS. */
export function classifyTlsError(
  error: { code?: string; message?: string },
  tls: TlsMaterial | undefined,
  seen: TlsFilesSeen,
): TlsFailure | undefined {
  const code = error.code ?? '';
  const msg = (error.message ?? '').trim();
  const caFile = tls?.caPath ?? 'ca.pem';
  const from = origin(tls);
  if (UNKNOWN_CA.has(code) || /unable to verify the first certificate|self[- ]signed certificate/i.test(msg)) {
    return {
      kind: 'unknown-ca',
      cause: `TLS: the engine's certificate is not signed by a CA we trust (${msg || code}); CA used: ${seen.ca ? caFile : 'none found, so the system CAs'} from ${from}`,
      next:
        `Put the CA that signed the engine's certificate in ${caFile} (compare: \`openssl s_client -connect HOST:2376 -showcerts\` ` +
        `against \`openssl x509 -in ${caFile} -noout -subject\`), or point DOCKER_CERT_PATH / the context at the right files.`,
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /does not match certificate's altnames/i.test(msg)) {
    return {
      kind: 'wrong-name',
      cause: `TLS: the engine's certificate is for another name (${msg}); files from ${from}`,
      next:
        `Connect with a name the certificate lists (see \`openssl x509 -noout -ext subjectAltName\` on the engine's cert), ` +
        `or reissue the engine's certificate with subjectAltName for this address.`,
    };
  }
  if (code === 'CERT_HAS_EXPIRED' || /certificate has expired/i.test(msg)) {
    return {
      kind: 'expired',
      cause: `TLS: a certificate has expired (${msg || code}); files from ${from}`,
      next: `Renew the engine's certificate (or the CA), and check this machine's clock (\`date -u\`).`,
    };
  }
  if (code === 'CERT_NOT_YET_VALID' || /certificate is not yet valid/i.test(msg)) {
    return {
      kind: 'not-yet-valid',
      cause: `TLS: a certificate is not valid yet (${msg || code}); files from ${from}`,
      next: `Check the clocks of this machine and the engine (\`date -u\`), or wait until the certificate's notBefore.`,
    };
  }
  if (/alert certificate required|alert handshake failure|peer did not return a certificate/i.test(msg) && !(seen.cert && seen.key)) {
    return {
      kind: 'client-cert-missing',
      cause: `TLS: the engine wants a client certificate and none was sent (${msg}); no cert.pem/key.pem in ${from}`,
      next: `Put the client certificate and key the engine's CA issued in ${tls?.certPath ?? 'cert.pem'} and ${tls?.keyPath ?? 'key.pem'} (DOCKER_CERT_PATH, or \`docker context create … --docker host=…,ca=…,cert=…,key=…\`).`,
    };
  }
  if (/alert (unknown ca|bad certificate|certificate unknown|certificate required|handshake failure|decrypt error|access denied)/i.test(msg)) {
    return {
      kind: 'client-cert-refused',
      cause: `TLS: the engine refused our client certificate (${msg}); sent ${tls?.certPath ?? 'cert.pem'} from ${from}`,
      next: `Use a client certificate issued by the CA the engine trusts (its --tlscacert), with extendedKeyUsage clientAuth.`,
    };
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(msg)) {
    return {
      kind: 'not-tls',
      cause: `TLS: the other side does not speak TLS (${msg || code})`,
      next: `That port serves plain HTTP (2375?): use tcp://HOST:2375 without DOCKER_TLS_VERIFY, or the engine's TLS port (2376).`,
    };
  }
  if (/PEM|no start line|bad decrypt|key values mismatch|DECODER routines/i.test(msg)) {
    return {
      kind: 'bad-files',
      cause: `TLS: the certificate files cannot be used (${msg}); files from ${from}`,
      next: `Check that ca.pem, cert.pem and key.pem are PEM files and that key.pem belongs to cert.pem (\`openssl x509 -noout -pubkey -in cert.pem\` vs \`openssl pkey -pubout -in key.pem\`).`,
    };
  }
  return undefined;
}
