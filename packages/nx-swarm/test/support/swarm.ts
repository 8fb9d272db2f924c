/**
 * Test support for the swarm-deploy / swarm-service-rm integration tests: images built with the
 * docker CLI (test setup only), executor contexts, log capture, HTTP probes, cleanup.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { ImageReceipt, imageReceiptPath, writeImageReceipt } from '../../src/lib/docker/image-receipt';

export const FIXTURES = path.join(__dirname, '../fixtures');

/** `docker build -t tag dir` (classic builder, FROM scratch: nothing pulled). Returns the image id. */
export async function dockerBuild(dir: string, tag: string): Promise<string> {
  await execa('docker', ['build', '-q', '-t', tag, dir], { env: { DOCKER_BUILDKIT: '0' } });
  const { stdout } = await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', tag]);
  return stdout.trim();
}

/** Builds a Go fixture (test/fixtures/NAME: main.go + Dockerfile) into an image. */
export async function buildFixtureImage(name: string, tag: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nxswarm-fx-${name}-`));
  try {
    await execa('go', ['build', '-trimpath', '-buildvcs=false', '-o', path.join(dir, 'app'), '.'], {
      cwd: path.join(FIXTURES, name),
      env: { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64', GOTOOLCHAIN: 'local', GOWORK: 'off' },
    });
    fs.copyFileSync(path.join(FIXTURES, name, 'Dockerfile'), path.join(dir, 'Dockerfile'));
    return await dockerBuild(dir, tag);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A scratch workspace root with an image receipt for project `projectRoot` naming `repository:tag`. */
export function writeReceipt(workspaceRoot: string, projectRoot: string, repository: string, tag: string, imageId: string): ImageReceipt {
  const receipt: ImageReceipt = {
    repository,
    tags: ['latest'],
    contentTag: tag,
    contentRef: `${repository}:${tag}`,
    contentDigest: 'test',
    imageId,
    size: 0,
    pushed: false,
    built: true,
    createdAt: new Date().toISOString(),
  };
  writeImageReceipt(imageReceiptPath(workspaceRoot, projectRoot), receipt);
  return receipt;
}

export { captureLogger, executorContext } from './executor-context';

/** A random port in 17900–17989 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 17900 + Math.floor(Math.random() * 90);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port in 17900–17989');
}

export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/** GET a URL (fetch), retrying until it answers 200 or the deadline passes. */
export async function getJson(url: string, deadlineMs = 30_000): Promise<unknown> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (res.ok) return await res.json();
      last = new Error(`HTTP ${res.status}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`GET ${url} did not answer 200: ${(last as Error).message}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execa('docker', args);
  return stdout.trim();
}

/** Service IDs of running tasks (docker CLI, for assertions). */
export async function runningTaskIds(service: string): Promise<string[]> {
  const out = await docker('service', 'ps', service, '-q', '--no-trunc', '--filter', 'desired-state=running');
  return out.split('\n').filter(Boolean).sort();
}

export async function serviceVersion(service: string): Promise<number> {
  return Number(await docker('service', 'inspect', '-f', '{{.Version.Index}}', service));
}

export async function serviceImage(service: string): Promise<string> {
  return docker('service', 'inspect', '-f', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', service);
}

/** Removes services and images, ignoring errors (afterAll). */
export async function cleanup(services: string[], images: string[]): Promise<void> {
  for (const s of services) await execa('docker', ['service', 'rm', s], { reject: false });
  // wait for the containers to go so the images can be removed
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const { stdout } = await execa('docker', ['ps', '-aq', ...services.flatMap((s) => ['--filter', `label=com.docker.swarm.service.name=${s}`])], {
      reject: false,
    });
    if (!stdout.trim()) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (images.length) await execa('docker', ['image', 'rm', '-f', ...images], { reject: false });
}

export interface SecondEngine {
  host: string;
  pid: number;
  dir: string;
}

/** Starts a second dockerd (not in a swarm) on its own socket and network namespace; resolves when it answers. */
export async function startSecondDockerd(): Promise<SecondEngine> {
  const dir = fs.mkdtempSync('/tmp/nxswarm-dockerd-');
  const sock = path.join(dir, 'd.sock');
  const logFd = fs.openSync(path.join(dir, 'log'), 'a');
  // In a network namespace of its own (unshare -n): a dockerd with `--bridge none` in the host's
  // namespace deletes the host engine's docker0 bridge on start (moby removeDefaultBridgeInterface).
  // The unix socket lives in the file system, so it is reachable from here all the same.
  const child = spawn(
    'unshare',
    [
      '--net',
      'dockerd',
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '-H',
      `unix://${sock}`,
      '--pidfile',
      path.join(dir, 'd.pid'),
      '--bridge',
      'none',
      '--iptables=false',
    ],
    { detached: true, stdio: ['ignore', logFd, logFd] },
  );
  child.unref();
  const host = `unix://${sock}`;
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const r = await execa('docker', ['-H', host, 'version', '-f', '{{.Server.Version}}'], { reject: false });
    if (r.exitCode === 0) return { host, pid: child.pid!, dir };
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error(`second dockerd did not start: ${fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000)}`);
}

export async function stopSecondDockerd(engine: SecondEngine | undefined): Promise<void> {
  if (!engine) return;
  try {
    process.kill(engine.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    try {
      process.kill(engine.pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  fs.rmSync(engine.dir, { recursive: true, force: true });
}
