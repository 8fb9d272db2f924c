/**
 * A small client for the OCI distribution API (what `docker push` and ko speak), over Node's fetch:
 *
 *   HEAD /v2/<name>/blobs/<digest>                      → 200: the registry has it (skip)
 *   POST /v2/<name>/blobs/uploads/?mount=<d>&from=<n>   → 201: mounted from another repository
 *   POST /v2/<name>/blobs/uploads/ + PUT <location>?digest=<d>  (monolithic upload)
 *   HEAD/GET/PUT /v2/<name>/manifests/<ref>
 *
 * Auth: credentials from config.json (lib/docker/registry-auth.ts) sent as Basic when the registry
 * asks for Basic, or traded for a token when it answers `WWW-Authenticate: Bearer realm=…,service=…,
 * scope=…` (username/password as Basic to the realm, an identity token as an OAuth2 refresh token).
 * Loopback registries are spoken to over http (like the engine, which treats 127.0.0.0/8 as
 * insecure); others over https, falling back to http only when TLS itself fails. Credentials are
 * never sent in clear over that fallback (nor to a plain-http token realm) unless the registry is
 * declared insecure: NX_SWARM_INSECURE_REGISTRIES (host:port, comma-separated), the counterpart of
 * the engine's `insecure-registries`.
 */
import type { RegistryCredentials } from '../docker/registry-auth';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235): `Bearer realm="https://auth/token",service="reg",
 * scope="repository:a/b:pull,push"`, `Basic realm="x"`; several challenges separated by commas.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && /[\s,]/.test(s[i])) i++;
  };
  const token = () => {
    const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  skipWs();
  while (i < s.length) {
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      while (i < s.length && /\s/.test(s[i])) i++;
      const save = i;
      const key = token();
      while (i < s.length && /\s/.test(s[i])) i++;
      if (!key || s[i] !== '=') {
        i = save;
        break;
      }
      i++;
      while (i < s.length && /\s/.test(s[i])) i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        // lenient: an unquoted value runs to the next comma or space (URLs are not RFC tokens)
        while (i < s.length && !/[\s,]/.test(s[i])) value += s[i++];
      }
      challenge.params[key.toLowerCase()] = value;
      while (i < s.length && /\s/.test(s[i])) i++;
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    skipWs();
  }
  return out;
}

/** The token request for a Bearer challenge (pure): URL and how to authenticate it. */
export function tokenRequest(
  challenge: Challenge,
  scopes: string[],
  credentials: RegistryCredentials | undefined,
): { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; body?: string } {
  const realm = challenge.params.realm;
  if (!realm) throw new Error('the registry asked for a Bearer token without naming a realm');
  const url = new URL(realm);
  const service = challenge.params.service;
  if (credentials && 'identitytoken' in credentials) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identitytoken, client_id: 'nx-swarm' });
    if (service) form.set('service', service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    return { method: 'POST', url: url.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() };
  }
  if (service) url.searchParams.set('service', service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = {};
  if (credentials) headers.Authorization = basicHeader(credentials);
  return { method: 'GET', url: url.toString(), headers };
}

function basicHeader(credentials: Extract<RegistryCredentials, { username: string }>): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Is this host (without port) a loopback address? */
export function isLoopbackHost(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || /^127\./.test(host) || host === '::1';
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface RegistryClientOptions {
  /** host[:port] as in the repository name. */
  domain: string;
  credentials?: RegistryCredentials;
  /** Where the credentials came from (for messages). */
  credentialSource?: string;
  /** Declared insecure (NX_SWARM_INSECURE_REGISTRIES): credentials may go over plain http. */
  insecure?: boolean;
  fetch?: typeof fetch;
}

/** The registries NX_SWARM_INSECURE_REGISTRIES declares insecure (host[:port], comma- or space-separated). */
export function declaredInsecure(domain: string, env: Record<string, string | undefined>): boolean {
  return (env.NX_SWARM_INSECURE_REGISTRIES ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((d) => d.toLowerCase() === domain.toLowerCase());
}

/** Would sending credentials to this URL expose them (plain http to a host that is neither loopback nor declared insecure)? */
export function clearTextExposure(url: string, declared: boolean): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && !isLoopbackHost(u.host) && !declared;
}

type Scope = 'pull' | 'pull,push';

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

export class RegistryClient {
  private readonly fetchFn: typeof fetch;
  private base: string;
  private triedHttp = false;
  private basic = false;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<string>>();
  /** Requests made, by kind (for the summary and tests). */
  readonly counts: Record<string, number> = {};

  constructor(private readonly opts: RegistryClientOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.base = `${isLoopbackHost(opts.domain) ? 'http' : 'https'}://${opts.domain}`;
  }

  private count(kind: string) {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  private refuseClearText(url: string): void {
    if (this.opts.credentials && clearTextExposure(url, Boolean(this.opts.insecure))) {
      throw new RegistryError(
        `refusing to send the credentials for ${this.opts.domain} (from ${this.opts.credentialSource ?? 'the docker config'}) in clear text to ${new URL(url).origin}: ` +
          `the registry does not speak TLS. Serve it over https, or, on a network you trust, declare it insecure with ` +
          `NX_SWARM_INSECURE_REGISTRIES=${this.opts.domain} (as the engine's insecure-registries).`,
      );
    }
  }

  private async authHeader(scopes: string[]): Promise<string | undefined> {
    if (this.basic && this.opts.credentials && 'username' in this.opts.credentials) {
      this.refuseClearText(this.base);
      return basicHeader(this.opts.credentials);
    }
    if (this.challenge?.scheme === 'bearer') {
      const key = scopes.join(' ');
      let token = this.tokens.get(key);
      if (!token) {
        token = this.fetchToken(this.challenge, scopes);
        this.tokens.set(key, token);
        token.catch(() => this.tokens.delete(key));
      }
      return `Bearer ${await token}`;
    }
    return undefined;
  }

  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<string> {
    const req = tokenRequest(challenge, scopes, this.opts.credentials);
    this.refuseClearText(req.url);
    this.count('token');
    let res: Response;
    try {
      res = await this.fetchFn(req.url, { method: req.method, headers: req.headers, body: req.body });
    } catch (error) {
      throw new RegistryError(`could not reach the token service ${new URL(req.url).origin}: ${causeOf(error)}`);
    }
    const text = await res.text();
    if (res.status !== 200) {
      throw new RegistryError(
        `the token service ${new URL(req.url).origin} answered ${res.status}: ${registryWords(text)}${this.loginHint(res.status)}`,
        res.status,
      );
    }
    const parsed = JSON.parse(text) as { token?: string; access_token?: string };
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new RegistryError(`the token service ${new URL(req.url).origin} returned no token`);
    return token;
  }

  private loginHint(status: number): string {
    if (status !== 401 && status !== 403) return '';
    return this.opts.credentials
      ? ` (credentials from ${this.opts.credentialSource ?? 'the docker config'}; check them with \`docker login ${this.opts.domain}\`)`
      : ` (no credentials for ${this.opts.domain} in the docker config; run \`docker login ${this.opts.domain}\`)`;
  }

  private async raw(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body, redirect: 'follow' });
    } catch (error) {
      const cause = causeOf(error);
      // Parallel requests (the blob HEADs) may all fail over TLS before the first one falls back:
      // every one of them retries over http once the base has switched.
      const fellBack = this.base.startsWith('http://') && !isLoopbackHost(this.opts.domain);
      if (url.startsWith('https://') && /EPROTO|wrong version number|SSL|TLS|certificate/i.test(cause) && (!this.triedHttp || fellBack)) {
        this.triedHttp = true;
        this.base = this.base.replace(/^https:/, 'http:');
        return this.raw(method, url.replace(/^https:/, 'http:'), headers, body);
      }
      throw new RegistryError(`the registry at ${this.opts.domain} is unreachable (${method} ${new URL(url).pathname}): ${cause}`);
    }
    const buf = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body: buf };
  }

  /** One request with the auth dance: on 401, learn the challenge, authenticate, retry once. */
  async request(
    method: string,
    pathOrUrl: string,
    opts: { repo: string; scope: Scope; extraScopes?: string[]; headers?: Record<string, string>; body?: Buffer },
  ): Promise<Reply> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const scopes = [`repository:${opts.repo}:${opts.scope}`, ...(opts.extraScopes ?? [])];
    const send = async () => {
      const auth = await this.authHeader(scopes);
      return this.raw(method, url, { ...(opts.headers ?? {}), ...(auth ? { Authorization: auth } : {}) }, opts.body);
    };
    this.count(method);
    let reply = await send();
    if (reply.status === 401) {
      // Learn the challenge once (parallel requests may all get here; the first one learns it).
      if (!this.basic && !this.challenge) this.learn(reply.headers.get('www-authenticate') ?? '');
      this.count(method);
      reply = await send();
    }
    if (reply.status === 401 || reply.status === 403) {
      const words = reply.body.length ? registryWords(reply.body.toString('utf8')) : reply.status === 401 ? 'unauthorized' : 'denied';
      throw new RegistryError(
        `${method} ${new URL(url).pathname} on ${this.opts.domain}: ${reply.status} ${words}${this.loginHint(reply.status)}`,
        reply.status,
      );
    }
    return reply;
  }

  private learn(header: string): void {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) this.challenge = bearer;
    else if (basic) {
      if (!this.opts.credentials || !('username' in this.opts.credentials)) {
        throw new RegistryError(`${this.opts.domain} requires authentication (Basic)${this.loginHint(401)}`, 401);
      }
      this.basic = true;
    } else throw new RegistryError(`${this.opts.domain} answered 401 with an unsupported challenge "${header}"`, 401);
  }

  private fail(what: string, reply: Reply): never {
    throw new RegistryError(`${what} on ${this.opts.domain} failed: ${reply.status} ${registryWords(reply.body.toString('utf8'))}`, reply.status);
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { repo, scope: 'pull' });
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    return this.fail(`HEAD blob ${digest.slice(0, 19)}`, r);
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = await this.request('GET', `/v2/${repo}/blobs/${digest}`, { repo, scope: 'pull' });
    if (r.status !== 200) this.fail(`GET blob ${digest.slice(0, 19)} of ${repo}`, r);
    return r.body;
  }

  /** Mounts a blob from another repository of this registry; false when the registry did not (it then expects an upload). */
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    const r = await this.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`, {
      repo,
      scope: 'pull,push',
      extraScopes: [`repository:${fromRepo}:pull`],
      headers: { 'Content-Length': '0' },
    });
    if (r.status === 201) return true;
    if (r.status === 202) {
      // An upload session was opened instead; cancel it (best effort).
      const location = r.headers.get('location');
      if (location) await this.request('DELETE', new URL(location, this.base).toString(), { repo, scope: 'pull,push' }).catch(() => undefined);
      return false;
    }
    return this.fail(`mount of ${digest.slice(0, 19)} from ${fromRepo}`, r);
  }

  async uploadBlob(repo: string, digest: string, bytes: Buffer): Promise<void> {
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { repo, scope: 'pull,push', headers: { 'Content-Length': '0' } });
    if (start.status !== 202) this.fail(`starting the upload of ${digest.slice(0, 19)} to ${repo}`, start);
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`${this.opts.domain} opened an upload without a Location header`);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url.toString(), {
      repo,
      scope: 'pull,push',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
      body: bytes,
    });
    if (put.status !== 201) this.fail(`upload of ${digest.slice(0, 19)} to ${repo}`, put);
  }

  /** The digest and media type a manifest reference resolves to, or undefined (404). */
  async headManifest(repo: string, ref: string, accept: string[]): Promise<{ digest?: string; mediaType?: string } | undefined> {
    const r = await this.request('HEAD', `/v2/${repo}/manifests/${ref}`, { repo, scope: 'pull', headers: { Accept: accept.join(', ') } });
    if (r.status === 404) return undefined;
    if (r.status !== 200) this.fail(`HEAD manifest ${repo}:${ref}`, r);
    return { digest: r.headers.get('docker-content-digest') ?? undefined, mediaType: r.headers.get('content-type') ?? undefined };
  }

  async getManifest(repo: string, ref: string, accept: string[]): Promise<{ bytes: Buffer; mediaType: string; digest?: string }> {
    const r = await this.request('GET', `/v2/${repo}/manifests/${ref}`, { repo, scope: 'pull', headers: { Accept: accept.join(', ') } });
    if (r.status !== 200) this.fail(`GET manifest ${repo}:${ref}`, r);
    return {
      bytes: r.body,
      mediaType: (r.headers.get('content-type') ?? '').split(';')[0],
      digest: r.headers.get('docker-content-digest') ?? undefined,
    };
  }

  async putManifest(repo: string, ref: string, mediaType: string, bytes: Buffer): Promise<string | undefined> {
    const r = await this.request('PUT', `/v2/${repo}/manifests/${ref}`, {
      repo,
      scope: 'pull,push',
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    if (r.status !== 201) this.fail(`PUT manifest ${repo}:${ref}`, r);
    return r.headers.get('docker-content-digest') ?? undefined;
  }
}

function causeOf(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${cause}${e.cause?.message && e.cause.code ? ` (${e.cause.message})` : ''}` : (e.message ?? String(error));
}

/** The registry's own words from an error body: {"errors":[{"code":"…","message":"…"}]}. */
export function registryWords(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    if (parsed.errors?.length) return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    /* not JSON */
  }
  return body.trim().slice(0, 300) || '(no body)';
}
