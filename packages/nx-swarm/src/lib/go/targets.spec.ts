import { binaryFileName, parseTarget, targetEnv, unknownTargets } from './targets';

describe('parseTarget / targetEnv / binaryFileName', () => {
  it.each([
    ['linux/amd64', { GOOS: 'linux', GOARCH: 'amd64' }, 'svc-linux-amd64'],
    ['linux/arm64', { GOOS: 'linux', GOARCH: 'arm64' }, 'svc-linux-arm64'],
    ['linux/arm/v7', { GOOS: 'linux', GOARCH: 'arm', GOARM: '7' }, 'svc-linux-armv7'],
    ['linux/arm/v6', { GOOS: 'linux', GOARCH: 'arm', GOARM: '6' }, 'svc-linux-armv6'],
    ['linux/amd64/v3', { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v3' }, 'svc-linux-amd64v3'],
    ['darwin/arm64', { GOOS: 'darwin', GOARCH: 'arm64' }, 'svc-darwin-arm64'],
    ['windows/amd64', { GOOS: 'windows', GOARCH: 'amd64' }, 'svc-windows-amd64.exe'],
  ])('%s', (id, env, file) => {
    const t = parseTarget(id);
    expect(targetEnv(t)).toEqual(env);
    expect(binaryFileName('svc', t)).toBe(file);
  });

  it.each([
    ['linux', /is not a Go target/],
    ['Linux/AMD64', /is not a Go target/],
    ['linux/arm/v8', /GOARM must be v5, v6 or v7/],
    ['linux/amd64/v9', /GOAMD64 must be/],
    ['linux/arm64/v8', /only meaningful for arm/],
  ])('rejects %s', (id, message) => {
    expect(() => parseTarget(id)).toThrow(message);
  });

  it('finds targets the toolchain does not know', () => {
    const dist = ['linux/amd64', 'linux/arm', 'linux/arm64', 'windows/amd64'];
    expect(unknownTargets(['linux/arm/v7', 'plan10/amd64', 'linux/riscv64'].map(parseTarget), dist).map((t) => t.id)).toEqual([
      'plan10/amd64',
      'linux/riscv64',
    ]);
  });
});
