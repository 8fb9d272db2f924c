/**
 * Test support: a real registry (Debian's docker-registry, distribution 2.8) on a free loopback
 * port, with htpasswd (bcrypt) auth. The engine treats 127.0.0.0/8 as insecure, so plain HTTP works.
 * Also: a throwaway DOCKER_CONFIG holding credentials for it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';

export interface TestRegistry {
  /** "127.0.0.1:PORT" — use as the registry option / repository prefix. */
  host: string;
  port: number;
  /** "http://127.0.0.1:PORT" */
  url: string;
  user: string;
  password: string;
  dir: string;
  /** Authorization header value for direct HTTP requests to the registry. */
  basicAuth: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForRegistry(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with ${child.exitCode}: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 401 || res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer on ${url} within ${timeoutMs} ms: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
}

/** Starts docker-registry with htpasswd auth on a free loopback port. Call stop() in afterAll. */
export async function startRegistry(opts: { user?: string; password?: string } = {}): Promise<TestRegistry> {
  const user = opts.user ?? 'nxswarm';
  const password = opts.password ?? `pw-${Math.random().toString(36).slice(2, 12)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-registry-'));
  const { stdout } = await execa('htpasswd', ['-Bbn', user, password]);
  fs.writeFileSync(path.join(dir, 'htpasswd'), `${stdout.trim()}\n`);
  const logFile = path.join(dir, 'registry.log');

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${path.join(dir, 'data')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        `  secret: ${Math.random().toString(36).slice(2)}`,
        'auth:',
        '  htpasswd:',
        '    realm: nxswarm-test',
        `    path: ${path.join(dir, 'htpasswd')}`,
        '',
      ].join('\n'),
    );
    const log = fs.openSync(logFile, 'a');
    const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForRegistry(url, child, logFile, 15_000);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      continue;
    }
    return {
      host: `127.0.0.1:${port}`,
      port,
      url,
      user,
      password,
      dir,
      basicAuth: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** Writes DIR/config.json with an `auths` entry for host (base64 user:password); returns DIR. */
export function writeDockerConfig(host: string, user: string, password: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-dockerconfig-'));
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }, null, 2));
  return dir;
}

/** The manifest digest the registry serves for name:tag (Docker-Content-Digest of a v2 manifest GET). */
export async function registryManifestDigest(registry: TestRegistry, name: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${registry.url}/v2/${name}/manifests/${tag}`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json', Authorization: registry.basicAuth },
  });
  if (res.status !== 200) return undefined;
  await res.arrayBuffer();
  return res.headers.get('docker-content-digest') ?? undefined;
}
