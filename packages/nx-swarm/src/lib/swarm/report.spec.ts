import { buildReport, formatSummary, portsOf, tryPathFor } from './report';
import type { ServiceSpec } from './service-spec';

describe('tryPathFor', () => {
  it.each<[string, string | undefined, string[] | undefined, string]>([
    ['the option wins', '/accounts/1', ['CMD', '/app', 'healthcheck'], '/accounts/1'],
    ['a URL in the health check', undefined, ['CMD-SHELL', 'curl -f http://localhost:8080/healthz || exit 1'], '/healthz'],
    ['a URL without a path', undefined, ['CMD', 'wget', '-q', 'http://127.0.0.1:80'], '/'],
    ["the go-service template's `<binary> healthcheck`", undefined, ['CMD', '/accountservice', 'healthcheck'], '/health'],
    ['no health check', undefined, undefined, '/'],
    ['a check that names no path', undefined, ['CMD', '/bin/check'], '/'],
  ])('%s', (_n, option, test, expected) => expect(tryPathFor(option, test && { Test: test })).toBe(expected));
});

describe('report', () => {
  const spec = {
    EndpointSpec: {
      Ports: [
        { TargetPort: 6767, PublishedPort: 6767, PublishMode: 'host', Protocol: 'tcp' },
        { TargetPort: 53, Protocol: 'udp' },
      ],
    },
  } as unknown as ServiceSpec;
  it('ports: URL with the try path for tcp only; the engine picks auto-published ones', () => {
    const current = { Endpoint: { Ports: [{ TargetPort: 53, Protocol: 'udp', PublishedPort: 30001 }] } } as never;
    expect(portsOf(spec, current, '10.0.0.1', '/health')).toEqual([
      { published: 6767, target: 6767, protocol: 'tcp', mode: 'host', url: 'http://10.0.0.1:6767/health' },
      { published: 30001, target: 53, protocol: 'udp', mode: 'ingress', url: undefined },
    ]);
  });
  it('one function builds every report', () => {
    const r = buildReport(
      { action: 'follow', service: 's', image: 'i', changes: [], replicas: { running: 1, desired: 1 }, ports: [], startedAt: 1000 },
      3500,
    );
    expect(r).toMatchObject({ action: 'follow', elapsedMs: 2500, deployedAt: new Date(3500).toISOString() });
    expect(formatSummary(r)[0]).toBe('Converged s');
  });
});
