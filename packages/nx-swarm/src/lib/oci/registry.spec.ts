import { RegistryClient, clearTextExposure, declaredInsecure, isLoopbackHost, parseChallenges, registryWords, tokenRequest } from './registry';

describe('WWW-Authenticate challenges', () => {
  it.each([
    ['Basic realm="nxswarm-test"', [{ scheme: 'basic', params: { realm: 'nxswarm-test' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
        },
      ],
    ],
    [
      'Bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:a/b:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:a/b:pull,push' } }],
    ],
    ['Bearer realm=https://r/t,service=r', [{ scheme: 'bearer', params: { realm: 'https://r/t', service: 'r' } }]],
    [
      'Basic realm="a", Bearer realm="https://b/t"',
      [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'https://b/t' } },
      ],
    ],
    ['Bearer realm="quoted \\"inner\\""', [{ scheme: 'bearer', params: { realm: 'quoted "inner"' } }]],
    ['', []],
  ])('%s', (header, parsed) => expect(parseChallenges(header)).toEqual(parsed));
});

describe('token requests', () => {
  const challenge = { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'reg.example.com' } };
  it('username/password: GET with Basic, service and every scope', () => {
    const req = tokenRequest(challenge, ['repository:a:pull,push', 'repository:base:pull'], { username: 'u', password: 'p', serveraddress: 'reg' });
    expect(req.method).toBe('GET');
    expect(req.url).toBe('https://auth.example.com/token?service=reg.example.com&scope=repository%3Aa%3Apull%2Cpush&scope=repository%3Abase%3Apull');
    expect(req.headers.Authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });
  it('identity token: POST as an OAuth2 refresh token', () => {
    const req = tokenRequest(challenge, ['repository:a:pull'], { identitytoken: 'tok123' });
    expect(req.method).toBe('POST');
    expect(new URLSearchParams(req.body)).toEqual(
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'tok123',
        client_id: 'nx-swarm',
        service: 'reg.example.com',
        scope: 'repository:a:pull',
      }),
    );
  });
  it('anonymous: no Authorization', () => expect(tokenRequest(challenge, [], undefined).headers).toEqual({}));
  it('no realm is an error', () => expect(() => tokenRequest({ scheme: 'bearer', params: {} }, [], undefined)).toThrow(/without naming a realm/));
});

describe('RegistryClient auth flow (fake fetch)', () => {
  function fakeRegistry() {
    const calls: string[] = [];
    const fetchFn = (async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).Authorization ?? '';
      calls.push(`${init.method} ${url} ${auth.split(' ')[0]}`);
      if (url.startsWith('https://auth.example.com/token')) {
        return new Response(JSON.stringify({ token: 'T1' }), { status: auth === `Basic ${Buffer.from('u:p').toString('base64')}` ? 200 : 401 });
      }
      if (auth !== 'Bearer T1') {
        return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer realm="https://auth.example.com/token",service="reg.example.com"' },
        });
      }
      return new Response(null, { status: url.includes('sha256:aaaa') ? 200 : 404 });
    }) as unknown as typeof fetch;
    return { calls, fetchFn };
  }

  it('learns the Bearer challenge once, trades credentials for a token, reuses it per scope', async () => {
    const { calls, fetchFn } = fakeRegistry();
    const client = new RegistryClient({
      domain: 'reg.example.com',
      credentials: { username: 'u', password: 'p', serveraddress: 'reg.example.com' },
      fetch: fetchFn,
    });
    expect(await client.hasBlob('a/b', 'sha256:aaaa')).toBe(true);
    expect(await client.hasBlob('a/b', 'sha256:bbbb')).toBe(false);
    expect(calls).toEqual([
      'HEAD https://reg.example.com/v2/a/b/blobs/sha256:aaaa ',
      'GET https://auth.example.com/token?service=reg.example.com&scope=repository%3Aa%2Fb%3Apull Basic',
      'HEAD https://reg.example.com/v2/a/b/blobs/sha256:aaaa Bearer',
      'HEAD https://reg.example.com/v2/a/b/blobs/sha256:bbbb Bearer',
    ]);
  });

  it('a refused token names the registry and the next step, never the password', async () => {
    const { fetchFn } = fakeRegistry();
    const client = new RegistryClient({
      domain: 'reg.example.com',
      credentials: { username: 'u', password: 'wrong-secret', serveraddress: 'reg.example.com' },
      credentialSource: 'auths in /x/config.json',
      fetch: fetchFn,
    });
    const error = await client.hasBlob('a/b', 'sha256:aaaa').catch((e: Error) => e);
    expect(String(error)).toMatch(
      /token service https:\/\/auth.example.com answered 401.*credentials from auths in \/x\/config.json; check them with `docker login reg.example.com`/,
    );
    expect(String(error)).not.toContain('wrong-secret');
  });

  it('a plain-HTTP registry (an insecure registry of the engines): parallel requests all fall back to http', async () => {
    const urls: string[] = [];
    const fetchFn = (async (url: string) => {
      urls.push(url);
      // Let every https attempt fail before any http one answers, as parallel blob HEADs do.
      await new Promise((r) => setTimeout(r, url.startsWith('https:') ? 5 : 20));
      if (url.startsWith('https:'))
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' } });
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch;
    const client = new RegistryClient({ domain: '192.168.213.1:5213', fetch: fetchFn });
    const digests = ['a', 'b', 'c'].map((c) => `sha256:${c.repeat(64)}`);
    expect(await Promise.all(digests.map((d) => client.hasBlob('nxlab/x', d)))).toEqual([true, true, true]);
    expect(urls.filter((u) => u.startsWith('http:'))).toHaveLength(3);
    // Later requests go straight to http.
    await client.hasBlob('nxlab/x', digests[0]);
    expect(urls[urls.length - 1]).toMatch(/^http:\/\/192\.168\.213\.1:5213\//);
  });

  describe('credentials never go in clear text over the http fallback', () => {
    const plainHttpBasic = (seen: { auth: (string | null)[] }) =>
      (async (url: string, init?: RequestInit) => {
        if (url.startsWith('https:'))
          throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'EPROTO', message: 'wrong version number' } });
        const auth = new Headers(init?.headers).get('authorization');
        seen.auth.push(auth);
        return auth ? new Response(null, { status: 200 }) : new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } });
      }) as unknown as typeof fetch;
    const credentials = { username: 'ci', password: 'hunter2-secret', serveraddress: '192.168.213.1:5213' };

    it.each<[string, string, boolean, boolean]>([
      ['a LAN registry, not declared: refused before any credential is sent', '192.168.213.1:5213', false, false],
      ['a LAN registry declared insecure: sent', '192.168.213.1:5213', true, true],
    ])('%s', async (_n, domain, insecure, sent) => {
      const seen = { auth: [] as (string | null)[] };
      const client = new RegistryClient({ domain, credentials, credentialSource: 'config.json auths', insecure, fetch: plainHttpBasic(seen) });
      const result = client.hasBlob('nxlab/x', `sha256:${'a'.repeat(64)}`);
      if (sent) await expect(result).resolves.toBe(true);
      else {
        await expect(result).rejects.toThrow(
          /refusing to send the credentials for 192.168.213.1:5213 .* in clear text .*NX_SWARM_INSECURE_REGISTRIES=192.168.213.1:5213/,
        );
        await result.catch((e: Error) => expect(e.message).not.toContain('hunter2'));
      }
      expect(seen.auth.filter(Boolean).length > 0).toBe(sent);
    });

    it.each<[string, string, string, boolean]>([
      ['listed', '192.168.213.1:5213', '10.0.0.1:5000, 192.168.213.1:5213', true],
      ['not listed', '192.168.213.1:5213', '10.0.0.1:5000', false],
      ['unset', 'r.example.com', '', false],
    ])('declaredInsecure: %s', (_n, domain, list, yes) => expect(declaredInsecure(domain, { NX_SWARM_INSECURE_REGISTRIES: list })).toBe(yes));

    it.each<[string, boolean, boolean]>([
      ['http://192.168.1.5:5000/v2/', false, true],
      ['http://127.0.0.1:5000/v2/', false, false],
      ['https://r.example.com/token', false, false],
      ['http://192.168.1.5:5000/v2/', true, false],
    ])('clearTextExposure(%s, declared %s) = %s', (url, declared, exposed) => expect(clearTextExposure(url, declared)).toBe(exposed));
  });

  it('an unreachable registry says so', async () => {
    const client = new RegistryClient({
      domain: '127.0.0.1:1',
      fetch: (async () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      }) as unknown as typeof fetch,
    });
    await expect(client.hasBlob('a', 'sha256:aaaa')).rejects.toThrow(/registry at 127.0.0.1:1 is unreachable .*ECONNREFUSED/);
  });

  it.each([
    ['127.0.0.1:5000', true],
    ['localhost:5000', true],
    ['[::1]:5000', true],
    ['registry.example.com', false],
  ])('isLoopbackHost(%s)', (h, yes) => expect(isLoopbackHost(h)).toBe(yes));

  it('registryWords: the registry error codes and messages', () => {
    expect(registryWords('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}')).toBe('BLOB_UNKNOWN: blob unknown to registry');
    expect(registryWords('plain text')).toBe('plain text');
  });
});
