import { registryDomainOf } from '../docker/reference';
import { pushedRefParts, registryPullLine } from './registry-probe';

const D = `sha256:${'a'.repeat(64)}`;

describe('pushedRefParts', () => {
  it.each([
    [`127.0.0.1:5000/a/b:c-1@${D}`, { registry: '127.0.0.1:5000', repository: 'a/b', reference: D }],
    [`reg.example.com/team/app@${D}`, { registry: 'reg.example.com', repository: 'team/app', reference: D }],
    [`localhost:5000/app:v1@${D}`, { registry: 'localhost:5000', repository: 'app', reference: D }],
    [`someprefix/app:c-1@${D}`, undefined], // Docker Hub
    ['127.0.0.1:5000/a/b:c-1', undefined], // no digest
  ])('%s', (ref, parts) => expect(pushedRefParts(ref, registryDomainOf)).toEqual(parts));
});

describe('registryPullLine: the registry answer and the next step', () => {
  const ref = `127.0.0.1:5000/a/b@${D}`;
  it.each<[string, { status: number; words: string }, boolean, RegExp]>([
    [
      'private, nothing sent',
      { status: 401, words: 'UNAUTHORIZED: authentication required' },
      false,
      /without credentials with 401 "UNAUTHORIZED: authentication required": it is private.*docker login 127\.0\.0\.1:5000/,
    ],
    [
      'credentials refused',
      { status: 401, words: 'UNAUTHORIZED: authentication required' },
      true,
      /with the credentials this deploy sent to the nodes \(from auths in \/c\/config\.json\).*refused. Log in again/,
    ],
    ['denied', { status: 403, words: 'DENIED: requested access to the resource is denied' }, true, /403 "DENIED.*refused/],
    ['gone', { status: 404, words: 'MANIFEST_UNKNOWN: manifest unknown' }, false, /no such manifest. Push the image again/],
    ['served: the node is the problem', { status: 200, words: 'OK' }, false, /serves .* so the node itself could not reach it.*insecure-registries/],
    ['no answer', { status: 0, words: 'fetch failed' }, false, /"fetch failed"\. Check that 127\.0\.0\.1:5000 is up and reachable/],
  ])('%s', (_name, answer, sent, line) => {
    expect(
      registryPullLine(ref, answer, {
        registry: '127.0.0.1:5000',
        credentialsSent: sent,
        credentialSource: sent ? 'auths in /c/config.json' : undefined,
      }),
    ).toMatch(line);
  });
});
