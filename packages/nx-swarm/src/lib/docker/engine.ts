/**
 * The thin apply side of `endpoint.ts`: a dockerode client for the resolved endpoint, with the API
 * version negotiated through an unversioned `GET /version` (like the docker CLI) instead of pinned.
 */
import * as fs from 'node:fs';
import Docker from 'dockerode';
import {
  DockerEndpoint,
  EndpointEnv,
  describeEndpoint,
  resolveDockerEndpoint,
} from './endpoint';

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
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Compares "1.41" style versions. */
export function compareApiVersions(a: string, b: string): number {
  const [aMaj, aMin] = a.split('.').map(Number);
  const [bMaj, bMin] = b.split('.').map(Number);
  return aMaj - bMaj || aMin - bMin;
}

/** The version both sides speak: min(server, ours); error when the server is too old. */
export function negotiateApiVersion(serverApiVersion: string, serverMinApiVersion?: string): string {
  if (compareApiVersions(serverApiVersion, MIN_API_VERSION) < 0) {
    throw new Error(
      `The Docker Engine speaks API ${serverApiVersion}, older than ${MIN_API_VERSION} (Docker 20.10). Upgrade the engine.`,
    );
  }
  const chosen = compareApiVersions(serverApiVersion, MAX_API_VERSION) < 0 ? serverApiVersion : MAX_API_VERSION;
  if (serverMinApiVersion && compareApiVersions(chosen, serverMinApiVersion) < 0) {
    return serverMinApiVersion;
  }
  return chosen;
}

/** dockerode constructor options for an endpoint (reads TLS files). */
export function dockerodeOptions(endpoint: DockerEndpoint): Docker.DockerOptions {
  switch (endpoint.kind) {
    case 'unix':
    case 'npipe':
      return { socketPath: endpoint.socketPath };
    case 'ssh':
      return {
        protocol: 'ssh',
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.username,
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      } as Docker.DockerOptions;
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
      } as Docker.DockerOptions;
    }
  }
}

/** Explains a connection failure: the endpoint tried, the system's words, and what to do. */
export function unreachableMessage(endpoint: DockerEndpoint, cause: string): string {
  const how =
    endpoint.kind === 'unix'
      ? 'Start an engine (`sudo dockerd &`, `sudo systemctl start docker`, or Docker Desktop), ' +
        'or point DOCKER_HOST / `docker context use` at one.'
      : 'Check that the engine is running and reachable, or point DOCKER_HOST / `docker context use` at another.';
  return `Cannot connect to the Docker Engine at ${describeEndpoint(endpoint)}: ${cause}. ${how}`;
}

export interface ConnectOptions {
  env?: EndpointEnv;
}

/** Resolves the endpoint, negotiates the API version and returns a ready client. */
export async function connectEngine(options: ConnectOptions = {}): Promise<Engine> {
  const env = options.env ?? (process.env as EndpointEnv);
  const endpoint = resolveDockerEndpoint(env, readText);
  const base = dockerodeOptions(endpoint);
  const probe = new Docker(base);
  let version: Docker.DockerVersion & { MinAPIVersion?: string };
  try {
    version = (await probe.version()) as Docker.DockerVersion & { MinAPIVersion?: string };
  } catch (error) {
    throw new Error(unreachableMessage(endpoint, (error as Error).message));
  }
  const apiVersion = negotiateApiVersion(version.ApiVersion, version.MinAPIVersion);
  return {
    docker: new Docker({ ...base, version: `v${apiVersion}` }),
    endpoint,
    apiVersion,
    serverVersion: version.Version,
    describe: describeEndpoint(endpoint),
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
