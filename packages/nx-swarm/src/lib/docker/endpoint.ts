/**
 * Where is the Docker Engine? Resolved exactly the way the docker CLI does it:
 *
 *   1. DOCKER_HOST (unix://, tcp://, ssh://, npipe://), with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH;
 *   2. otherwise the docker context named by DOCKER_CONTEXT, or `currentContext` in
 *      $DOCKER_CONFIG/config.json (default ~/.docker), read from contexts/meta/<sha256(name)>/meta.json;
 *   3. otherwise the default local socket.
 *
 * This module is pure: it takes the environment and a file reader, and returns a plan. The client
 * factory in `engine.ts` applies it.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TlsMaterial {
  /** Paths to PEM files; read by the client factory. */
  caPath?: string;
  certPath?: string;
  keyPath?: string;
  /** DOCKER_TLS_VERIFY / !SkipTLSVerify: verify the server certificate. */
  verify: boolean;
  /** Where the files came from, for messages: `DOCKER_CERT_PATH=/ci/certs`, `docker context "prod" (…)`. */
  origin?: string;
}

export type DockerEndpoint =
  | { kind: 'unix'; socketPath: string; source: string }
  | { kind: 'npipe'; socketPath: string; source: string }
  | {
      kind: 'tcp';
      host: string;
      port: number;
      protocol: 'http' | 'https';
      tls?: TlsMaterial;
      source: string;
    }
  | {
      kind: 'ssh';
      host: string;
      /** Only when the URL names one: otherwise ~/.ssh/config's Port (or 22) applies, as with the docker CLI. */
      port?: number;
      username?: string;
      /** ssh://host/run/docker.sock: the socket the remote `docker` dials (`--host=unix://PATH`). */
      socketPath?: string;
      source: string;
    };

export interface EndpointEnv {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
  DOCKER_CONTEXT?: string;
  DOCKER_CONFIG?: string;
  HOME?: string;
}

/** Reads a file as UTF-8, or returns undefined when it does not exist. */
export type ReadText = (file: string) => string | undefined;

export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';

/** The docker CLI's config directory: $DOCKER_CONFIG or ~/.docker. */
export function dockerConfigDir(env: EndpointEnv): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
}

/** A docker context's folder name is the hex sha256 of its name. */
export function contextDirName(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** Turns one DOCKER_HOST-style address into an endpoint. */
export function parseDockerHost(value: string, source: string, tls?: { verify: boolean; certDir?: string; origin?: string }): DockerEndpoint {
  const trimmed = value.trim();
  if (trimmed.startsWith('unix://')) {
    return { kind: 'unix', socketPath: trimmed.slice('unix://'.length) || DEFAULT_UNIX_SOCKET, source };
  }
  if (trimmed.startsWith('npipe://')) {
    return { kind: 'npipe', socketPath: trimmed.slice('npipe://'.length) || '//./pipe/docker_engine', source };
  }
  const withScheme = trimmed.includes('://') ? trimmed : `tcp://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(
      `${source} is "${value}", which is not a Docker address. Use unix:///var/run/docker.sock, ` + `tcp://HOST:2376 or ssh://USER@HOST.`,
    );
  }
  if (url.protocol === 'ssh:') {
    if (!url.hostname || url.hostname.startsWith('-')) {
      throw new Error(`${source} is "${value}": an ssh:// address needs a host (ssh://USER@HOST, or a Host alias of ~/.ssh/config).`);
    }
    if (url.password) {
      throw new Error(`${source} has a password in its ssh:// address; passwords are not supported: use a key (ssh-agent or IdentityFile).`);
    }
    const socketPath = decodeURIComponent(url.pathname).replace(/\/+$/, '');
    return {
      kind: 'ssh',
      host: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      socketPath: socketPath || undefined,
      source,
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${source} uses the unsupported scheme "${url.protocol}" (${value}).`);
  }
  const port = url.port ? Number(url.port) : tls?.verify ? 2376 : 2375;
  const useTls = Boolean(tls?.verify || tls?.certDir || url.protocol === 'https:' || port === 2376);
  return {
    kind: 'tcp',
    host: url.hostname,
    port,
    protocol: useTls ? 'https' : 'http',
    tls: useTls
      ? {
          verify: tls?.verify ?? true,
          caPath: tls?.certDir ? path.join(tls.certDir, 'ca.pem') : undefined,
          certPath: tls?.certDir ? path.join(tls.certDir, 'cert.pem') : undefined,
          keyPath: tls?.certDir ? path.join(tls.certDir, 'key.pem') : undefined,
          origin: tls?.origin,
        }
      : undefined,
    source,
  };
}

interface ContextMeta {
  Name?: string;
  Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
}

/** Resolves the engine endpoint from the environment, like the docker CLI. */
export function resolveDockerEndpoint(env: EndpointEnv, readText: ReadText): DockerEndpoint {
  if (env.DOCKER_HOST) {
    const verify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0';
    const certDir = env.DOCKER_CERT_PATH || (verify ? dockerConfigDir(env) : undefined);
    const origin = env.DOCKER_CERT_PATH
      ? `DOCKER_CERT_PATH=${env.DOCKER_CERT_PATH}`
      : certDir
        ? `${certDir} (DOCKER_TLS_VERIFY is set and DOCKER_CERT_PATH is not)`
        : undefined;
    return parseDockerHost(env.DOCKER_HOST, 'DOCKER_HOST', { verify, certDir, origin });
  }

  const configDir = dockerConfigDir(env);
  let contextName = env.DOCKER_CONTEXT;
  let contextSource = 'DOCKER_CONTEXT';
  if (!contextName) {
    const configText = readText(path.join(configDir, 'config.json'));
    if (configText) {
      try {
        contextName = (JSON.parse(configText) as { currentContext?: string }).currentContext;
        contextSource = `currentContext in ${path.join(configDir, 'config.json')}`;
      } catch {
        throw new Error(`${path.join(configDir, 'config.json')} is not valid JSON.`);
      }
    }
  }

  if (contextName && contextName !== 'default') {
    const dir = contextDirName(contextName);
    const metaFile = path.join(configDir, 'contexts', 'meta', dir, 'meta.json');
    const metaText = readText(metaFile);
    if (!metaText) {
      throw new Error(
        `Docker context "${contextName}" (from ${contextSource}) does not exist: ${metaFile} is missing. ` +
          `List contexts with \`docker context ls\`, or unset it with \`docker context use default\`.`,
      );
    }
    let meta: ContextMeta;
    try {
      meta = JSON.parse(metaText) as ContextMeta;
    } catch {
      throw new Error(`Docker context "${contextName}" (from ${contextSource}): ${metaFile} is not valid JSON.`);
    }
    const host = meta.Endpoints?.docker?.Host;
    if (!host) {
      throw new Error(`Docker context "${contextName}" has no docker endpoint (${metaFile}).`);
    }
    const tlsDir = path.join(configDir, 'contexts', 'tls', dir, 'docker');
    const hasTls = readText(path.join(tlsDir, 'ca.pem')) !== undefined || readText(path.join(tlsDir, 'cert.pem')) !== undefined;
    return parseDockerHost(host, `docker context "${contextName}"`, {
      verify: hasTls && !meta.Endpoints?.docker?.SkipTLSVerify,
      certDir: hasTls ? tlsDir : undefined,
      origin: `docker context "${contextName}" (${tlsDir})`,
    });
  }

  return { kind: 'unix', socketPath: DEFAULT_UNIX_SOCKET, source: 'the default socket' };
}

/** A human-readable address for messages: never includes credentials. */
export function describeEndpoint(endpoint: DockerEndpoint): string {
  switch (endpoint.kind) {
    case 'unix':
      return `unix://${endpoint.socketPath} (${endpoint.source})`;
    case 'npipe':
      return `npipe://${endpoint.socketPath} (${endpoint.source})`;
    case 'tcp':
      return `${endpoint.protocol === 'https' ? 'tcp+tls' : 'tcp'}://${endpoint.host}:${endpoint.port} (${endpoint.source})`;
    case 'ssh':
      return `${sshAddress(endpoint)} (${endpoint.source})`;
  }
}

/** ssh://[USER@]HOST[:PORT][/PATH], as given (a Host alias stays an alias). */
export function sshAddress(endpoint: Extract<DockerEndpoint, { kind: 'ssh' }>): string {
  const user = endpoint.username ? `${endpoint.username}@` : '';
  const port = endpoint.port ? `:${endpoint.port}` : '';
  return `ssh://${user}${endpoint.host}${port}${endpoint.socketPath ?? ''}`;
}

/** Is the engine on this machine? (IPVS detection only makes sense for a local engine.) */
export function isLocalEndpoint(endpoint: DockerEndpoint): boolean {
  if (endpoint.kind === 'unix' || endpoint.kind === 'npipe') return true;
  if (endpoint.kind === 'tcp') return ['localhost', '127.0.0.1', '::1', '[::1]'].includes(endpoint.host);
  return false;
}
