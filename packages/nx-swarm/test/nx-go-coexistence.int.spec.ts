/**
 * nx-swarm next to @nx-go/nx-go 4.1.1 (from npm), through the real nx CLI: a scratch workspace
 * registers both plugins, nx-swarm with `leaveGoTargetsTo: "nx-go"`. A Go service with a Dockerfile
 * imports a library module through go.work. nx-go keeps build/serve/test/lint/tidy, nx-swarm adds
 * cross-build → image → deploy and undeploy; neither clobbers the other's targets, and both run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { editJson, gitIn, removeServiceAndImages, runNx, scratchWorkspace } from './support/nx-cli';

const SERVICE = `nxit-nxgo-${process.pid}`;
const PORT = 18000 + (process.pid % 900);
const REPOSITORY = `nxit/nxgo-${process.pid}`;
const docker = new Docker();

const FILES: Record<string, string> = {
  'go.work': 'go 1.22\n\nuse (\n\t./apps/svc\n\t./libs/lib\n)\n',
  'libs/lib/go.mod': 'module example.com/lib\n\ngo 1.22\n',
  'libs/lib/greet/greet.go': 'package greet\n\n// Hello is what svc answers.\nfunc Hello() string { return "hello from lib" }\n',
  'apps/svc/go.mod': 'module example.com/svc\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n',
  'apps/svc/main.go': [
    'package main',
    '',
    'import (',
    '\t"fmt"',
    '\t"net/http"',
    '\t"os"',
    '',
    '\t"example.com/lib/greet"',
    ')',
    '',
    'func main() {',
    '\thttp.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, greet.Hello()) })',
    '\tif err := http.ListenAndServe(":8080", nil); err != nil {',
    '\t\tfmt.Fprintln(os.Stderr, err)',
    '\t\tos.Exit(1)',
    '\t}',
    '}',
    '',
  ].join('\n'),
  'apps/svc/Dockerfile': 'FROM scratch\nCOPY svc-linux-amd64 /svc\nEXPOSE 8080\nENTRYPOINT ["/svc"]\n',
};

let ws: string;
const nx = (...args: string[]) => runNx(ws, ...args);
/** The exit code, and the whole output when it is not 0 (so that a failure says why). */
const outcome = (r: { exitCode?: number; all?: string }) => ({ exitCode: r.exitCode, output: r.exitCode === 0 ? '' : r.all });
const OK = { exitCode: 0, output: '' };

async function get(url: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return last;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`svc did not answer on ${url}: ${last}`);
}

describe('nx-swarm next to @nx-go/nx-go 4.1.1 (real nx CLI, engine, swarm)', () => {
  beforeAll(async () => {
    ws = scratchWorkspace('nxswarm-nxgo-', ['packages']);
    // Only this test's two modules (and its own go.work): not the workspace's shared libs.
    fs.rmSync(path.join(ws, 'libs'), { recursive: true, force: true });
    for (const [file, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(ws, file)), { recursive: true });
      fs.writeFileSync(path.join(ws, file), text);
    }
    editJson(ws, 'nx.json', (nxJson) => {
      nxJson.plugins = [
        // nx-go would also make projects of nx-swarm's own Go test fixtures.
        { plugin: '@nx-go/nx-go', exclude: ['packages/**'] },
        {
          plugin: 'nx-swarm',
          exclude: ['**/test/fixtures/**'],
          options: {
            leaveGoTargetsTo: 'nx-go',
            imageOptions: { repository: REPOSITORY },
            deployOptions: { service: SERVICE, ports: [{ target: 8080, published: PORT, mode: 'host' }], endpointMode: 'dnsrr' },
            undeployOptions: { service: SERVICE },
          },
        },
      ];
    });
    await gitIn(ws, 'init', '-q', '-b', 'main');
    await gitIn(ws, 'add', '-A');
    await gitIn(ws, 'commit', '-qm', 'scratch workspace');
  });

  afterAll(async () => {
    await removeServiceAndImages(docker, SERVICE, [REPOSITORY]);
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('each target comes from one plugin: build/serve/test/lint/tidy from nx-go, cross-build/image/deploy/rollback/undeploy from nx-swarm', async () => {
    const r = await nx('show', 'project', 'svc', '--json');
    expect(outcome(r)).toEqual(OK);
    const svc = JSON.parse(r.stdout);
    const executors = Object.fromEntries(Object.entries(svc.targets as Record<string, { executor: string }>).map(([n, t]) => [n, t.executor]));
    expect(executors).toEqual({
      build: '@nx-go/nx-go:build',
      serve: '@nx-go/nx-go:serve',
      test: '@nx-go/nx-go:test',
      lint: '@nx-go/nx-go:lint',
      tidy: '@nx-go/nx-go:tidy',
      generate: '@nx-go/nx-go:generate',
      'cross-build': 'nx-swarm:go-cross-build',
      image: 'nx-swarm:docker-image',
      deploy: 'nx-swarm:swarm-deploy',
      rollback: 'nx-swarm:swarm-rollback',
      undeploy: 'nx-swarm:swarm-service-rm',
    });
    // Not merged into each other: nx-go's build keeps its own inputs, the image depends on the cross-build.
    expect(svc.targets.build.options ?? {}).toEqual({});
    expect(svc.targets.image.dependsOn).toEqual(['cross-build']);
    expect(svc.targets['cross-build'].options.targets).toEqual(['linux/amd64']);

    const lib = JSON.parse((await nx('show', 'project', 'lib', '--json')).stdout);
    expect(Object.keys(lib.targets).sort()).toEqual(['generate', 'lint', 'test', 'tidy']);
  });

  it('the graph has the svc → lib edge from main.go', async () => {
    const r = await nx('graph', '--file=graph.json');
    expect(outcome(r)).toEqual(OK);
    const { graph } = JSON.parse(fs.readFileSync(path.join(ws, 'graph.json'), 'utf8'));
    expect(graph.dependencies.svc).toEqual([{ source: 'svc', target: 'lib', type: 'static' }]);
  });

  it('cross-build → image → deploy ships the service, which answers with the library code', async () => {
    const r = await nx('run', 'svc:deploy');
    expect(outcome(r)).toEqual(OK);
    expect(r.all).toContain('nx run svc:cross-build');
    expect(r.all).toContain('nx run svc:image');
    // nx-swarm's outputs have their own folder next to nx-go (whose build writes the file dist/apps/svc).
    const bin = fs.readFileSync(path.join(ws, 'dist/nx-swarm/apps/svc/svc-linux-amd64'));
    expect(fs.existsSync(path.join(ws, 'dist/nx-swarm/apps/svc/image.json'))).toBe(true);
    expect(bin.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(await get(`http://127.0.0.1:${PORT}/`)).toBe('200 hello from lib');
  });

  it("nx-go's build writes its file dist/apps/svc; then nx-swarm's chain runs again, uncached, next to it", async () => {
    const r = await nx('run', 'svc:build');
    expect(outcome(r)).toEqual(OK);
    expect(r.all).toContain('nx run svc:build');
    expect(fs.statSync(path.join(ws, 'dist/apps/svc')).isFile()).toBe(true);
    const again = await nx('run', 'svc:deploy', '--skip-nx-cache');
    expect(outcome(again)).toEqual(OK);
    expect(again.all).not.toMatch(/EEXIST/);
    expect(again.all).toContain('nx run svc:cross-build');
    expect(fs.statSync(path.join(ws, 'dist/apps/svc')).isFile()).toBe(true);
    expect(await get(`http://127.0.0.1:${PORT}/`)).toBe('200 hello from lib');
  });

  it('undeploy removes the service', async () => {
    const r = await nx('run', 'svc:undeploy');
    expect(outcome(r)).toEqual(OK);
    await expect(docker.getService(SERVICE).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
