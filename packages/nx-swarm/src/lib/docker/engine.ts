/**
 * The thin apply side of `endpoint.ts`: a dockerode client for the resolved endpoint, with the API
 * version negotiated through an unversioned `GET /version` (like the docker CLI) instead of pinned.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type Docker from 'dockerode';
import { readTextOrUndefined } from '../common/fs';
import { loadDockerode } from './dockerode-lean';
import { DockerEndpoint, EndpointEnv, describeEndpoint, resolveDockerEndpoint } from './endpoint';
import { SshTransport, SshTransportError } from './ssh-transport';
import { TlsFilesSeen, classifyTlsError } from './tls-errors';

/** The newest Engine API version this plugin was written against. */
export const MAX_API_VERSION = '1.47';
/** The oldest Engine API version it supports (Docker 20.10). */
export const MIN_API_VERSION = '1.41';

export interface Engine {
  docker: Docker;
  endpoint: DockerEndpoint;
  /** The negotiated API version, e.g. "1.41". */
  apiVersion: string;
  serverVersion: string;
  /** For messages: where we connected. */
  describe: string;
  /** Ends the connection (ssh: the one multiplexed login). Also happens on process exit. */
  close(): void;
  /** ssh:// only: the transport (its argv, how many streams it opened). */
  ssh?: SshTransport;
}

const readText = readTextOrUndefined;

/** Compares "1.41" style versions. */
export function compareApiVersions(a: string, b: string): number {
  const [aMaj, aMin] = a.split('.').map(Number);
  const [bMaj, bMin] = b.split('.').map(Number);
  return aMaj - bMaj || aMin - bMin;
}

/** The version both sides speak: min(server, ours); error when the server is too old. */
export function negotiateApiVersion(serverApiVersion: string, serverMinApiVersion?: string): string {
  if (compareApiVersions(serverApiVersion, MIN_API_VERSION) < 0) {
    throw new Error(`The Docker Engine speaks API ${serverApiVersion}, older than ${MIN_API_VERSION} (Docker 20.10). Upgrade the engine.`);
  }
  const chosen = compareApiVersions(serverApiVersion, MAX_API_VERSION) < 0 ? serverApiVersion : MAX_API_VERSION;
  if (serverMinApiVersion && compareApiVersions(chosen, serverMinApiVersion) < 0) {
    return serverMinApiVersion;
  }
  return chosen;
}

/**
 * dockerode constructor options for an endpoint (reads TLS files). ssh:// needs the transport: the
 * requests go to a placeholder host through its agent, whose sockets are dial-stdio streams.
 */
export function dockerodeOptions(endpoint: DockerEndpoint, ssh?: SshTransport): Docker.DockerOptions {
  switch (endpoint.kind) {
    case 'unix':
    case 'npipe':
      return { socketPath: endpoint.socketPath };
    case 'ssh':
      if (!ssh) throw new Error('an ssh:// endpoint needs its SshTransport');
      return { protocol: 'http', host: 'docker.ssh', port: 80, agent: ssh.agent } as Docker.DockerOptions;
    case 'tcp': {
      const tls = endpoint.tls;
      const read = (p?: string) => (p && fs.existsSync(p) ? fs.readFileSync(p) : undefined);
      return {
        protocol: endpoint.protocol,
        host: endpoint.host,
        port: endpoint.port,
        ca: read(tls?.caPath),
        cert: read(tls?.certPath),
        key: read(tls?.keyPath),
        ...(tls && !tls.verify ? { rejectUnauthorized: false } : {}),
        // Keep-alive, and no TLS session resumption: TLS front doors (socat, stunnel) that verify
        // client certificates often have no session id context and fail a resumed handshake.
        agent: endpoint.protocol === 'https' ? new https.Agent({ keepAlive: true, maxCachedSessions: 0 }) : new http.Agent({ keepAlive: true }),
      } as Docker.DockerOptions;
    }
  }
}

/** Which TLS files exist (for messages). */
export function tlsFilesSeen(endpoint: DockerEndpoint, exists: (f: string) => boolean = fs.existsSync): TlsFilesSeen {
  const tls = endpoint.kind === 'tcp' ? endpoint.tls : undefined;
  const has = (p?: string) => Boolean(p && exists(p));
  return { ca: has(tls?.caPath), cert: has(tls?.certPath), key: has(tls?.keyPath) };
}

/**
 * Explains a connection failure: the endpoint tried, the system's (ssh's, TLS's) words, and the next
 * step that fits the cause: certificates for a TLS failure, known_hosts for a host key, and so on.
 */
export function unreachableMessage(endpoint: DockerEndpoint, cause: string | Error, seen?: TlsFilesSeen): string {
  const where = describeEndpoint(endpoint);
  if (cause instanceof SshTransportError) {
    return `Cannot connect to the Docker Engine at ${where} through ssh:\n${indent(cause.failure.words)}\n${cause.failure.next}`;
  }
  const error = typeof cause === 'string' ? { message: cause } : (cause as Error & { code?: string });
  if (endpoint.kind === 'tcp' && endpoint.protocol === 'https') {
    const tls = classifyTlsError(error, endpoint.tls, seen ?? tlsFilesSeen(endpoint));
    if (tls) return `Cannot connect to the Docker Engine at ${where}: ${tls.cause}. ${tls.next}`;
  }
  const how =
    endpoint.kind === 'unix'
      ? 'Start an engine (`sudo dockerd &`, `sudo systemctl start docker`, or Docker Desktop), ' +
        'or point DOCKER_HOST / `docker context use` at one.'
      : 'Check that the engine is running and reachable, or point DOCKER_HOST / `docker context use` at another.';
  return `Cannot connect to the Docker Engine at ${where}: ${error.message}. ${how}`;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

// Lost connections live in engine-lost.ts, which loads no dockerode (swarm-api.ts imports it).
export { connectionLostWords, isConnectionLost } from './engine-lost';

export interface ConnectOptions {
  env?: EndpointEnv;
}

/** Resolves the endpoint, negotiates the API version and returns a ready client. */
export async function connectEngine(options: ConnectOptions = {}): Promise<Engine> {
  const env = options.env ?? (process.env as EndpointEnv);
  const endpoint = resolveDockerEndpoint(env, readText);
  const ssh =
    endpoint.kind === 'ssh'
      ? new SshTransport(
          { host: endpoint.host, port: endpoint.port, username: endpoint.username, socketPath: endpoint.socketPath },
          { env: env as NodeJS.ProcessEnv },
        )
      : undefined;
  const base = dockerodeOptions(endpoint, ssh);
  const close = () => {
    ssh?.close();
    (base as { agent?: http.Agent }).agent?.destroy();
  };
  const Dockerode = loadDockerode();
  const probe = new Dockerode(base);
  let version: Docker.DockerVersion & { MinAPIVersion?: string };
  try {
    version = (await probe.version()) as Docker.DockerVersion & { MinAPIVersion?: string };
  } catch (error) {
    close();
    throw new Error(unreachableMessage(endpoint, error as Error));
  }
  let apiVersion: string;
  try {
    apiVersion = negotiateApiVersion(version.ApiVersion, version.MinAPIVersion);
  } catch (error) {
    close();
    throw error;
  }
  return {
    docker: new Dockerode({ ...base, version: `v${apiVersion}` }),
    endpoint,
    apiVersion,
    serverVersion: version.Version,
    describe: describeEndpoint(endpoint),
    close,
    ssh,
  };
}

/**
 * The daemon's own words from a dockerode error: the JSON body's `message` when there is one.
 */
export function daemonMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string; statusCode?: number };
  const fromJson = e?.json && typeof e.json === 'object' ? e.json.message : undefined;
  const msg = fromJson || e?.message || String(error);
  return msg.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}
