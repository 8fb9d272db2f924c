import {
  authServerFor,
  formatReference,
  parseReference,
  registryDomainOf,
  repositoryPathOf,
  repositoryProblem,
  tagProblem,
  withRegistry,
} from './reference';

describe('repositoryProblem', () => {
  it.each([
    'accountservice',
    'someprefix/accountservice',
    'a/b/c/d',
    'my-app',
    'my__app',
    'my.app',
    'a---b',
    '127.0.0.1:5000/accountservice',
    'localhost/app',
    'localhost:5000/team/app',
    'registry.example.com/team/app',
    'Registry.Example.com/team/app',
    '[::1]:5000/app',
    'nxswarm-test-img-abc123/accountservice',
  ])('accepts %s', (name) => {
    expect(repositoryProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['Accountservice', /lowercase/],
    ['someprefix/AccountService', /lowercase/],
    ['app:latest', /tag/],
    ['-app', /not a valid path component/],
    ['app-', /not a valid path component/],
    ['a..b', /not a valid path component/],
    ['a___b', /not a valid path component/],
    ['a//b', /empty path component/],
    ['app/', /empty path component/],
    ['bad_host:5000/app', /registry host/],
    ['a b', /not a valid path component/],
    ['x'.repeat(256), /maximum is 255/],
  ])('rejects %j', (name, message) => {
    expect(repositoryProblem(name)).toMatch(message);
  });
});

describe('tagProblem', () => {
  it.each(['latest', '1.4.0', 'c-3f9a2b1c4d5e', '_x', 'A_b.c-d', 'x'.repeat(128)])('accepts %s', (tag) => {
    expect(tagProblem(tag)).toBeUndefined();
  });
  it.each([
    ['', /empty/],
    ['.hidden', /must start/],
    ['-x', /must start/],
    ['a:b', /may only contain/],
    ['a/b', /may only contain/],
    ['x'.repeat(129), /maximum is 128/],
  ])('rejects %j', (tag, message) => {
    expect(tagProblem(tag)).toMatch(message);
  });
});

describe('parseReference', () => {
  const digest = 'sha256:' + 'a'.repeat(64);
  it.each([
    ['someprefix/accountservice', { domain: undefined, path: 'someprefix/accountservice', tag: undefined, digest: undefined }],
    ['someprefix/accountservice:latest', { domain: undefined, path: 'someprefix/accountservice', tag: 'latest', digest: undefined }],
    ['127.0.0.1:5000/acc:c-3f9a2b1c4d5e', { domain: '127.0.0.1:5000', path: 'acc', tag: 'c-3f9a2b1c4d5e', digest: undefined }],
    [`127.0.0.1:5000/acc@${digest}`, { domain: '127.0.0.1:5000', path: 'acc', tag: undefined, digest }],
    [`localhost:5000/a/b:1@${digest}`, { domain: 'localhost:5000', path: 'a/b', tag: '1', digest }],
  ])('parses %s', (ref, expected) => {
    const parsed = parseReference(ref);
    expect(parsed).toEqual(expected);
    expect(formatReference(parsed)).toBe(ref);
  });
  it.each([
    ['app:', /empty/],
    ['app@sha256:xyz', /not a digest/],
    ['App:latest', /lowercase/],
  ])('rejects %s', (ref, message) => {
    expect(() => parseReference(ref)).toThrow(message);
  });
});

describe('registries', () => {
  it.each([
    ['someprefix/acc', 'docker.io', 'someprefix/acc', 'https://index.docker.io/v1/'],
    ['acc', 'docker.io', 'acc', 'https://index.docker.io/v1/'],
    ['127.0.0.1:5000/acc', '127.0.0.1:5000', 'acc', '127.0.0.1:5000'],
    ['localhost/team/acc', 'localhost', 'team/acc', 'localhost'],
    ['ghcr.io/team/acc', 'ghcr.io', 'team/acc', 'ghcr.io'],
  ])('%s → domain %s, path %s, auth server %s', (repo, domain, repoPath, server) => {
    expect(registryDomainOf(repo)).toBe(domain);
    expect(repositoryPathOf(repo)).toBe(repoPath);
    expect(authServerFor(domain)).toBe(server);
  });

  it.each([
    ['acc', undefined, 'acc'],
    ['someprefix/acc', '127.0.0.1:5000', '127.0.0.1:5000/someprefix/acc'],
    ['acc', 'http://127.0.0.1:5000/', '127.0.0.1:5000/acc'],
    ['127.0.0.1:5000/acc', '127.0.0.1:5000', '127.0.0.1:5000/acc'],
  ])('withRegistry(%s, %s) = %s', (repo, registry, expected) => {
    expect(withRegistry(repo, registry)).toBe(expected);
  });

  it.each([
    ['127.0.0.1:5000/acc', '127.0.0.1:6000', /Set only one/],
    ['acc', 'bad_host', /registry host/],
  ])('withRegistry(%s, %s) throws', (repo, registry, message) => {
    expect(() => withRegistry(repo, registry)).toThrow(message);
  });
});
