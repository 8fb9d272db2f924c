/**
 * Registry credentials the way the docker CLI finds them, turned into an `X-Registry-Auth` header.
 *
 *   $DOCKER_CONFIG/config.json (default ~/.docker/config.json):
 *     credHelpers[server] → `docker-credential-<helper> get`, server on stdin
 *     credsStore          → the same, for every server (falls back to `auths` when not found)
 *     auths[server]       → { auth: base64("user:pass") } | { username, password } | { identitytoken }
 *
 * `planRegistryAuth` is pure (config text in, plan out). `resolveRegistryAuth` applies it, running a
 * helper through execa with an argv (no shell) and an explicit env. Secrets never go into messages.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { authServerFor } from './reference';

export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; email?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The credentials sent to the daemon. */
export type RegistryCredentials = { username: string; password: string; serveraddress: string } | { identitytoken: string };

/** Where the credentials for one registry come from. */
export type AuthPlan =
  | { kind: 'none'; server: string; configFile: string }
  | { kind: 'inline'; server: string; configFile: string; credentials: RegistryCredentials }
  | { kind: 'helper'; server: string; configFile: string; helper: string; fallback?: RegistryCredentials };

export interface AuthEnv {
  DOCKER_CONFIG?: string;
  HOME?: string;
  PATH?: string;
  [key: string]: string | undefined;
}

/** "https://host:5000/v1/" → "host:5000" (docker CLI's ConvertToHostname). */
export function convertToHostname(server: string): string {
  return server.replace(/^[a-z]+:\/\//i, '').split('/')[0];
}

/** Looks up a key in a record by exact server, then by hostname ("https://h/v1/" ≡ "h"). */
function lookup<T>(record: Record<string, T> | undefined, server: string): T | undefined {
  if (!record) return undefined;
  if (record[server] !== undefined) return record[server];
  const host = convertToHostname(server);
  for (const [key, value] of Object.entries(record)) {
    if (convertToHostname(key) === host) return value;
  }
  return undefined;
}

/** Decodes an `auths` entry into credentials (or undefined when it carries none). */
export function credentialsFromAuthEntry(
  entry: NonNullable<DockerConfigFile['auths']>[string] | undefined,
  server: string,
): RegistryCredentials | undefined {
  if (!entry) return undefined;
  if (entry.identitytoken) return { identitytoken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Error(`The "auth" entry for ${server} in config.json is not base64 of "user:password".`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: server };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password, serveraddress: server };
  return undefined;
}

/**
 * Decides where credentials for `registryDomain` come from. `configText` is the content of
 * config.json or undefined when there is none.
 */
export function planRegistryAuth(registryDomain: string, configText: string | undefined, configFile: string): AuthPlan {
  const server = authServerFor(registryDomain);
  if (configText === undefined) return { kind: 'none', server, configFile };
  let config: DockerConfigFile;
  try {
    config = JSON.parse(configText) as DockerConfigFile;
  } catch {
    throw new Error(`${configFile} is not valid JSON; fix or remove it (docker login rewrites it).`);
  }
  const fromAuths = credentialsFromAuthEntry(lookup(config.auths, server), server);
  const helper = lookup(config.credHelpers, server) ?? config.credsStore;
  if (helper) return { kind: 'helper', server, configFile, helper, fallback: fromAuths };
  if (fromAuths) return { kind: 'inline', server, configFile, credentials: fromAuths };
  return { kind: 'none', server, configFile };
}

/**
 * `X-Registry-Auth`: base64url, with padding, of the JSON credentials (what the docker CLI sends:
 * Go's base64.URLEncoding).
 */
export function encodeRegistryAuth(credentials: RegistryCredentials): string {
  return Buffer.from(JSON.stringify(credentials), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The reverse of `encodeRegistryAuth` (for tests and diagnostics). */
export function decodeRegistryAuth(header: string): RegistryCredentials {
  return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as RegistryCredentials;
}

/** The secret strings in credentials, for redaction. */
export function secretsOf(credentials: RegistryCredentials | undefined): string[] {
  if (!credentials) return [];
  const secrets = 'identitytoken' in credentials ? [credentials.identitytoken] : [credentials.password];
  return secrets.filter((s) => s.length >= 3);
}

/** Replaces every occurrence of each secret (and its base64 forms) with "***". */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of [secret, Buffer.from(secret).toString('base64')]) {
      out = out.split(form).join('***');
    }
  }
  return out;
}

/** What `docker-credential-<name> get` prints on success. */
interface HelperOutput {
  ServerURL?: string;
  Username?: string;
  Secret?: string;
}

/** Parses a helper's stdout into credentials ("<token>" as Username means an identity token). */
export function parseHelperOutput(stdout: string, server: string, helper: string): RegistryCredentials {
  let parsed: HelperOutput;
  try {
    parsed = JSON.parse(stdout) as HelperOutput;
  } catch {
    throw new Error(`docker-credential-${helper} printed something that is not JSON for ${server}.`);
  }
  if (!parsed.Secret) throw new Error(`docker-credential-${helper} returned no secret for ${server}.`);
  if (parsed.Username === '<token>') return { identitytoken: parsed.Secret };
  return { username: parsed.Username ?? '', password: parsed.Secret, serveraddress: server };
}

export interface HelperRunOptions {
  /** The environment for the helper (PATH decides which binary runs). Defaults to process.env. */
  env?: AuthEnv;
  timeoutMs?: number;
}

/**
 * Runs `docker-credential-<helper> get` with the server on stdin. Returns undefined when the
 * helper says it has no credentials for this server.
 */
export async function runCredentialHelper(helper: string, server: string, options: HelperRunOptions = {}): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) throw new Error(`"${helper}" is not a credential helper name.`);
  const { execa } = await import('execa');
  const program = `docker-credential-${helper}`;
  const result = await execa(program, ['get'], {
    input: server,
    env: options.env ?? process.env,
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 30_000,
    stripFinalNewline: true,
  });
  if (result.exitCode === 0) return parseHelperOutput(String(result.stdout), server, helper);
  const said = `${String(result.stdout)} ${String(result.stderr)}`.trim();
  if (/credentials not found/i.test(said)) return undefined;
  if ((result as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(result.message))) {
    throw new Error(`${program} is not on PATH (config.json names "${helper}" as credential helper). Install it or edit config.json.`);
  }
  throw new Error(`${program} get failed for ${server} (exit ${result.exitCode ?? 'none'}): ${said.slice(0, 300) || 'no output'}`);
}

/** The resolved credentials, with where they came from (for logs: never the secret). */
export interface ResolvedAuth {
  server: string;
  credentials?: RegistryCredentials;
  /** e.g. "auths in /home/u/.docker/config.json", "docker-credential-pass", "none". */
  source: string;
}

/** Reads the config (through the given reader) and resolves credentials for a registry domain. */
export async function resolveRegistryAuth(
  registryDomain: string,
  env: AuthEnv,
  readText: (file: string) => string | undefined,
  runHelper: typeof runCredentialHelper = runCredentialHelper,
): Promise<ResolvedAuth> {
  const configDir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  const configFile = path.join(configDir, 'config.json');
  const plan = planRegistryAuth(registryDomain, readText(configFile), configFile);
  switch (plan.kind) {
    case 'none':
      return { server: plan.server, source: 'none' };
    case 'inline':
      return { server: plan.server, credentials: plan.credentials, source: `auths in ${configFile}` };
    case 'helper': {
      const found = await runHelper(plan.helper, plan.server, { env });
      if (found) return { server: plan.server, credentials: found, source: `docker-credential-${plan.helper}` };
      if (plan.fallback) return { server: plan.server, credentials: plan.fallback, source: `auths in ${configFile}` };
      return { server: plan.server, source: 'none' };
    }
  }
}
