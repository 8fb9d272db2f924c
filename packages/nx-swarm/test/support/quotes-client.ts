/**
 * Test support: the "client container" for services that publish no port. A FROM scratch image of
 * test/fixtures/quotes-client (static Go; nothing is pulled) run on the overlay network, calling a
 * service by its name.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';

const FIXTURE = path.join(__dirname, '../fixtures/quotes-client');

export interface ClientLine<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** docker build of the client image as `tag`. */
export async function buildClientImage(tag: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-q-client-'));
  try {
    await execa('go', ['build', '-trimpath', '-buildvcs=false', '-o', path.join(dir, 'quotes-client'), '.'], {
      cwd: FIXTURE,
      env: { GOTOOLCHAIN: 'local', GOWORK: 'off', CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64' },
    });
    fs.copyFileSync(path.join(FIXTURE, 'Dockerfile'), path.join(dir, 'Dockerfile'));
    await execa('docker', ['build', '-q', '-t', tag, dir], { env: { DOCKER_BUILDKIT: '0' } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the client image on `network`: waits for url to answer 200, then n GETs, one line each. */
export async function callFromOverlay<T = Record<string, unknown>>(image: string, network: string, url: string, n = 10): Promise<ClientLine<T>[]> {
  const r = await execa('docker', ['run', '--rm', '--network', network, image, '-n', String(n), '-wait', '60s', url], { reject: false });
  if (r.exitCode !== 0) throw new Error(`client container failed (exit ${r.exitCode}): ${r.stderr}\n${r.stdout}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ClientLine<T>);
}
