/**
 * The Go-aware project graph through the real nx CLI, in scratch workspaces of their own (OS temp
 * folder, own git repository, node_modules linked): two services and a shared library module, in
 * the tutorial's later `replace` layout and in the `go.work` layout.
 *
 * What a user sees: an edit of the library makes it and its importers affected and rebuilds them
 * (the new binary really prints the change); a library `_test.go` edit reruns its tests but serves
 * the build from the cache; an edit of one service affects only it; `nx affected -t deploy` on the
 * real swarm redeploys exactly the importer (the other keeps its task ids); and with the Nx daemon
 * on, an added import shows up as an edge in `nx graph` without `nx daemon --stop`, and the daemon's
 * watched walk (plugins not isolated) puts a newly imported library into the build's inputs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import Docker from 'dockerode';
import { copyWithoutOutputs, gitIn, nxCliEnv, runNx } from './support/nx-cli';
import { RACY_WINDOW_MS } from '../src/plugins/go-graph/scan-memo';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');
const ROOT_FILES = ['nx.json', '.env', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.gitignore'];
const docker = new Docker();

type Layout = 'replace' | 'go.work';

const LIB_MODULE = 'example.com/goblog/common';

function write(ws: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(ws, file)), { recursive: true });
  fs.writeFileSync(path.join(ws, file), text);
}

const SERVICE_MAIN = (greeting: boolean) => `package main

import (
	"fmt"
	"net/http"
	"os"
${greeting ? `\n\t"${LIB_MODULE}/greet"\n` : ''})

func message() string { return ${greeting ? 'greet.Hello()' : '"standalone v1"'} }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "print" {
		fmt.Println(message())
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, message()) })
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`;

/** A scratch workspace: libs/common (greet.Hello), svc-a importing it, svc-b not. */
function makeWorkspace(layout: Layout, tag: string): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `nxswarm-gograph-${layout === 'go.work' ? 'work' : 'replace'}-`));
  for (const f of ROOT_FILES) fs.copyFileSync(path.join(WORKSPACE_ROOT, f), path.join(ws, f));
  fs.symlinkSync(path.join(WORKSPACE_ROOT, 'node_modules'), path.join(ws, 'node_modules'));
  // The plugin, as this workspace resolves it (an npm workspace package).
  copyWithoutOutputs(path.join(WORKSPACE_ROOT, 'packages'), path.join(ws, 'packages'));
  write(ws, 'libs/common/go.mod', `module ${LIB_MODULE}\n\ngo 1.22\n`);
  write(ws, 'libs/common/greet/greet.go', 'package greet\n\n// Hello is what every service says.\nfunc Hello() string { return "hello v1" }\n');
  write(
    ws,
    'libs/common/greet/greet_test.go',
    'package greet\n\nimport "testing"\n\nfunc TestHello(t *testing.T) {\n\tif Hello() == "" {\n\t\tt.Fatal("empty")\n\t}\n}\n',
  );
  // A test helper module that only svc-b's tests import: in svc-b's test inputs, not its build's.
  write(ws, 'libs/testkit/go.mod', 'module example.com/goblog/testkit\n\ngo 1.22\n');
  write(ws, 'libs/testkit/kit.go', 'package testkit\n\n// Want is what the tests expect.\nfunc Want() string { return "standalone v1" }\n');
  write(
    ws,
    'svc-b/main_test.go',
    'package main\n\nimport (\n\t"testing"\n\n\t"example.com/goblog/testkit"\n)\n\nfunc TestMessage(t *testing.T) {\n\tif message() != testkit.Want() {\n\t\tt.Fatal(message())\n\t}\n}\n',
  );
  for (const [svc, imports] of [
    ['svc-a', true],
    ['svc-b', false],
  ] as const) {
    const [mod, dir] = imports ? [LIB_MODULE, 'common'] : ['example.com/goblog/testkit', 'testkit'];
    const requireLib = layout === 'replace' ? `\nrequire ${mod} v0.0.0-00010101000000-000000000000\n\nreplace ${mod} => ../libs/${dir}\n` : '';
    write(ws, `${svc}/go.mod`, `module example.com/goblog/${svc}\n\ngo 1.22\n${requireLib}`);
    write(ws, `${svc}/main.go`, SERVICE_MAIN(imports));
    write(ws, `${svc}/Dockerfile`, `FROM scratch\nCOPY ${svc}-linux-amd64 /app\nENTRYPOINT ["/app"]\n`);
    write(
      ws,
      `${svc}/project.json`,
      JSON.stringify({
        name: svc,
        targets: {
          image: { options: { repository: `nxit/gograph-${tag}-${svc}` } },
          deploy: {
            options: {
              service: `nxit-gograph-${tag}-${svc}`,
              env: { PORT: '8080' },
              ports: [{ target: 8080, published: svc === 'svc-a' ? PORTS.a : PORTS.b, mode: 'host' }],
              endpointMode: 'dnsrr',
              timeout: '60s',
            },
          },
          undeploy: { options: { service: `nxit-gograph-${tag}-${svc}` } },
          serve: { options: { env: { PORT: String(PORTS.serve) }, pollMs: 200 } },
        },
      }),
    );
  }
  if (layout === 'go.work') write(ws, 'go.work', 'go 1.22\n\nuse (\n\t./libs/common\n\t./libs/testkit\n\t./svc-a\n\t./svc-b\n)\n');
  return ws;
}

const PORTS = { a: 18100 + (process.pid % 400), b: 18600 + (process.pid % 400), serve: 19100 + (process.pid % 400) };

async function affected(ws: string): Promise<string[]> {
  const r = await runNx(ws, 'show', 'projects', '--affected', '--base=HEAD');
  expect(r.exitCode).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('>') && !l.includes(' '))
    .sort();
}

async function printed(ws: string, svc: string): Promise<string> {
  const { stdout } = await execa(path.join(ws, 'dist', svc, `${svc}-linux-amd64`), ['print']);
  return stdout.trim();
}

function edit(ws: string, file: string, from: string, to: string): void {
  const full = path.join(ws, file);
  const text = fs.readFileSync(full, 'utf8');
  expect(text).toContain(from);
  fs.writeFileSync(full, text.replace(from, to));
}

describe.each<Layout>(['replace', 'go.work'])('Go graph, %s layout (real nx CLI)', (layout) => {
  let ws: string;
  const nx = (...args: string[]) => runNx(ws, ...args);
  const git = (...args: string[]) => gitIn(ws, ...args);

  beforeAll(async () => {
    ws = makeWorkspace(layout, layout === 'go.work' ? 'w' : 'r');
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-qm', 'scratch workspace');
  });
  afterAll(() => {
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('the library is a project, with an edge from the importing file', async () => {
    const r = await nx('graph', '--file=graph.json');
    expect(r.exitCode).toBe(0);
    const graph = JSON.parse(fs.readFileSync(path.join(ws, 'graph.json'), 'utf8')).graph;
    expect(
      Object.keys(graph.nodes)
        .filter((n) => n !== 'nx-swarm')
        .sort(),
    ).toEqual(['common', 'svc-a', 'svc-b', 'testkit']);
    expect(graph.dependencies['svc-a']).toEqual([{ source: 'svc-a', target: 'common', type: 'static' }]);
    expect(graph.dependencies['svc-b']).toEqual([{ source: 'svc-b', target: 'testkit', type: 'static' }]);
    const lib = JSON.parse((await nx('show', 'project', 'common', '--json')).stdout);
    expect(Object.keys(lib.targets).sort()).toEqual(['test', 'tidy', 'vet']);
  });

  it('a library edit: lib and importer affected, the build reruns and the binary has the change', async () => {
    const first = await nx('run', 'svc-a:build');
    expect(first.exitCode).toBe(0);
    expect(await printed(ws, 'svc-a')).toBe('hello v1');
    expect((await nx('run', 'svc-a:build')).all).toMatch(/\[local cache\]/);

    edit(ws, 'libs/common/greet/greet.go', 'hello v1', 'hello v2');
    expect(await affected(ws)).toEqual(['common', 'svc-a']);
    const rebuilt = await nx('run', 'svc-a:build');
    expect(rebuilt.exitCode).toBe(0);
    expect(rebuilt.all).not.toMatch(/\[local cache\]/);
    expect(await printed(ws, 'svc-a')).toBe('hello v2');
    await git('commit', '-qam', 'hello v2');
  });

  it("a library _test.go edit reruns the library's tests; the service's build and tests come from the cache", async () => {
    expect((await nx('run', 'common:test')).exitCode).toBe(0);
    expect((await nx('run', 'svc-a:test')).exitCode).toBe(0);
    edit(ws, 'libs/common/greet/greet_test.go', 't.Fatal("empty")', 't.Fatal("Hello is empty")');
    const test = await nx('run', 'common:test');
    expect(test.exitCode).toBe(0);
    expect(test.all).not.toMatch(/\[local cache\]/);
    expect((await nx('run', 'svc-a:build')).all).toMatch(/\[local cache\]/);
    // svc-a's tests compile common's code, not common's tests: they hash common's production files.
    // (A cache hit of a target without outputs says so in the summary, not with `[local cache]`.)
    expect((await nx('run', 'svc-a:test')).all).toMatch(/from the cache instead of running the command for 1 out of 1 tasks/);
    await git('commit', '-qam', 'lib test edit');
  });

  it('a library that only tests import: its edit reruns those tests, the build stays cached', async () => {
    expect((await nx('run', 'svc-b:build')).exitCode).toBe(0);
    expect((await nx('run', 'svc-b:test')).exitCode).toBe(0);
    edit(ws, 'libs/testkit/kit.go', '// Want is', '// Want is, for every test,');
    expect(await affected(ws)).toEqual(['svc-b', 'testkit']);
    expect((await nx('run', 'svc-b:build')).all).toMatch(/\[local cache\]/);
    const test = await nx('run', 'svc-b:test');
    expect(test.exitCode).toBe(0);
    expect(test.all).not.toMatch(/\[local cache\]/);
    await git('commit', '-qam', 'testkit edit');
  });

  it('an edit of one service affects only it', async () => {
    edit(ws, 'svc-b/main.go', 'standalone v1', 'standalone v2');
    expect(await affected(ws)).toEqual(['svc-b']);
    await git('checkout', '--', 'svc-b/main.go');
  });
});

describe('nx affected -t deploy on the real swarm (go.work layout)', () => {
  let ws: string;
  const nx = (...args: string[]) => runNx(ws, ...args);
  const git = (...args: string[]) => gitIn(ws, ...args);
  const services = ['nxit-gograph-d-svc-a', 'nxit-gograph-d-svc-b'];

  async function taskIds(service: string): Promise<string[]> {
    const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [service], 'desired-state': ['running'] }) });
    return tasks.map((t) => t.ID as string).sort();
  }
  async function answer(port: number): Promise<string> {
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
        last = (await res.text()).trim();
        if (res.status === 200) return last;
      } catch (e) {
        last = String(e);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`nothing answered on ${port}: ${last}`);
  }

  beforeAll(async () => {
    ws = makeWorkspace('go.work', 'd');
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-qm', 'scratch workspace');
  });
  afterAll(async () => {
    for (const s of services)
      await docker
        .getService(s)
        .remove()
        .catch(() => undefined);
    for (const svc of ['svc-a', 'svc-b']) {
      const images = await docker.listImages({ filters: JSON.stringify({ reference: [`nxit/gograph-d-${svc}`] }) });
      for (const img of images)
        await docker
          .getImage(img.Id)
          .remove({ force: true })
          .catch(() => undefined);
    }
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('deploys both, then redeploys exactly the service that imports the changed library', async () => {
    const first = await nx('run-many', '-t', 'deploy');
    if (first.exitCode !== 0) throw new Error(`run-many -t deploy failed:\n${first.all}`);
    expect(await answer(PORTS.a)).toBe('hello v1');
    expect(await answer(PORTS.b)).toBe('standalone v1');
    const before = { a: await taskIds(services[0]), b: await taskIds(services[1]) };
    expect(before.a).toHaveLength(1);
    expect(before.b).toHaveLength(1);

    edit(ws, 'libs/common/greet/greet.go', 'hello v1', 'hello v2');
    const r = await nx('affected', '-t', 'deploy', '--base=HEAD');
    if (r.exitCode !== 0) throw new Error(`affected -t deploy failed:\n${r.all}`);
    expect(r.all).toContain('nx run svc-a:deploy');
    expect(r.all).not.toContain('nx run svc-b:deploy');
    expect(await answer(PORTS.a)).toBe('hello v2');
    expect(await taskIds(services[0])).not.toEqual(before.a);
    expect(await taskIds(services[1])).toEqual(before.b);
  });
});

describe('nx run svc-a:serve (continuous)', () => {
  let ws: string;
  beforeAll(() => {
    ws = makeWorkspace('go.work', 'serve');
  });
  afterAll(() => {
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('runs the service and restarts it when the library it imports changes', async () => {
    const serve = execa(path.join(ws, 'node_modules/.bin/nx'), ['run', 'svc-a:serve', '--outputStyle=stream'], {
      cwd: ws,
      reject: false,
      all: true,
      env: nxCliEnv(),
      extendEnv: false,
      detached: true,
    });
    const text = async (want: string) => {
      const deadline = Date.now() + 60_000;
      let last = '';
      while (Date.now() < deadline) {
        try {
          last = (await (await fetch(`http://127.0.0.1:${PORTS.serve}/`, { signal: AbortSignal.timeout(1000) })).text()).trim();
          if (last === want) return last;
        } catch (e) {
          last = String(e);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      return last;
    };
    let output = '';
    try {
      expect(await text('hello v1')).toBe('hello v1');
      edit(ws, 'libs/common/greet/greet.go', 'hello v1', 'hello v2');
      expect(await text('hello v2')).toBe('hello v2');
    } finally {
      if (serve.pid) process.kill(-serve.pid, 'SIGINT');
      output = (await serve).all ?? '';
    }
    expect(output).toMatch(/Go inputs changed: rebuilding/);
    // Stopped with the task: nothing answers any more.
    await expect(fetch(`http://127.0.0.1:${PORTS.serve}/`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
  });
});

describe('with the Nx daemon on', () => {
  let ws: string;
  const env = { ...nxCliEnv(), NX_DAEMON: 'true', NX_VERBOSE_LOGGING: 'true' };
  const nx = (...args: string[]) => execa(path.join(ws, 'node_modules/.bin/nx'), args, { cwd: ws, reject: false, all: true, env, extendEnv: false });

  beforeAll(async () => {
    ws = makeWorkspace('go.work', 'daemon');
    await gitIn(ws, 'init', '-q', '-b', 'main');
    await gitIn(ws, 'add', '-A');
    await gitIn(ws, 'commit', '-qm', 'scratch workspace');
  });
  afterAll(async () => {
    await nx('daemon', '--stop');
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  it('an added import shows up as an edge in nx graph without restarting the daemon', async () => {
    const deps = async () => {
      const r = await nx('graph', '--file=graph.json');
      expect(r.exitCode).toBe(0);
      return JSON.parse(fs.readFileSync(path.join(ws, 'graph.json'), 'utf8')).graph.dependencies['svc-b'].map((d: { target: string }) => d.target);
    };
    expect(await deps()).toEqual(['testkit']);
    fs.writeFileSync(path.join(ws, 'svc-b/main.go'), SERVICE_MAIN(true));
    // The daemon watches the files; give it the moment a user takes to switch windows.
    const deadline = Date.now() + 20_000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = await deps();
      if (seen.includes('common')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(seen.sort()).toEqual(['common', 'testkit']);
  });

  it("the daemon's own walk (plugins not isolated, files watched) puts a new import's library into the build inputs", async () => {
    // svc-b imports common since the test above; its build now must follow common's edits.
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).toMatch(/^NX_ISOLATE_PLUGINS=false$/m);
    const built = await nx('run', 'svc-b:build', '--outputStyle=stream');
    expect(built.exitCode).toBe(0);
    expect(await printed(ws, 'svc-b')).toBe('hello v1');
    // (Verbose output names a cache hit in the summary, not with `[local cache]`.)
    const fromCache = /\[local cache\]|from the cache instead of running the command for 1 out of 1 tasks/;
    expect((await nx('run', 'svc-b:build', '--outputStyle=stream')).all).toMatch(fromCache);
    // A module whose files were modified within RACY_WINDOW_MS of its last walk is walked again at
    // the next computation (svc-b/main.go was written by the test above, moments ago on a fast
    // machine). So that the count below is about the edit only: let that window pass, and have the
    // daemon compute once more (a file outside the modules changes, a client asks for the graph).
    const aged = fs.statSync(path.join(ws, 'svc-b/main.go')).mtimeMs + RACY_WINDOW_MS + 500;
    if (Date.now() < aged) await new Promise((r) => setTimeout(r, aged - Date.now()));
    const logFile = path.join(ws, '.nx/workspace-data/d/daemon.log');
    const logSize = () => fs.readFileSync(logFile, 'utf8').length;
    const goLines = (from: number) =>
      fs
        .readFileSync(logFile, 'utf8')
        .slice(from)
        .match(/nx-swarm: Go files: .*/g) ?? [];
    const settle = logSize();
    fs.writeFileSync(path.join(ws, 'NOTES.md'), 'a file outside every Go module\n');
    for (const deadline = Date.now() + 20_000; goLines(settle).length === 0 && Date.now() < deadline;) {
      expect((await nx('show', 'projects')).exitCode).toBe(0);
      if (goLines(settle).length === 0) await new Promise((r) => setTimeout(r, 300));
    }
    expect(goLines(settle).length).toBeGreaterThan(0);
    const before = logSize();
    edit(ws, 'libs/common/greet/greet.go', 'hello v1', 'hello daemon');
    const rebuilt = await nx('run', 'svc-b:build', '--outputStyle=stream');
    expect(rebuilt.exitCode).toBe(0);
    expect(rebuilt.all).not.toMatch(fromCache);
    expect(await printed(ws, 'svc-b')).toBe('hello daemon');
    // And it was the watched walk that answered: the daemon walked only the changed module.
    const lines = goLines(before);
    expect(lines).toContain('nx-swarm: Go files: walked 1 of 4 modules, the others unchanged since the last computation (watched)');
    expect(lines.filter((l) => !/walked [01] of 4 modules, the others unchanged/.test(l))).toEqual([]);
  });

  it("isolated plugins (Nx's default): the daemon's fresh workers ask the Go facts server, which follows the edits; stopping the daemon stops it", async () => {
    const isolated = { ...env, NX_ISOLATE_PLUGINS: 'true' };
    const nxIsolated = (...args: string[]) =>
      execa(path.join(ws, 'node_modules/.bin/nx'), args, { cwd: ws, reject: false, all: true, env: isolated, extendEnv: false });
    // The server's processes for this workspace (its command line names the workspace root).
    const servers = () =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
            return argv.some((a) => a.endsWith('facts-server-main.js')) && argv.includes(ws);
          } catch {
            return false;
          }
        });
    const until = async (what: string, ok: () => Promise<boolean> | boolean) => {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 300))) if (await ok()) return;
      throw new Error(`timed out waiting until ${what}`);
    };
    const buildDeps = async () => {
      const r = await nxIsolated('show', 'project', 'svc-b', '--json');
      expect(r.exitCode).toBe(0);
      const inputs = JSON.parse(r.stdout).targets.build.inputs as (string | { input: string; projects: string[] })[];
      return inputs.flatMap((i) => (typeof i === 'object' && 'projects' in i ? i.projects : []));
    };
    const logFile = path.join(ws, '.nx/workspace-data/d/daemon.log');
    const fromServer = () => (fs.readFileSync(logFile, 'utf8').match(/nx-swarm: Go files: \d+ modules from the Go facts server/g) ?? []).length;

    await nx('daemon', '--stop');
    expect(servers()).toEqual([]);
    expect(await buildDeps()).toEqual(['common']); // svc-b imports common since the tests above
    await until('the first worker started the server', () => servers().length === 1);
    // An edit the server must see: svc-b no longer imports common, then again.
    const answered = fromServer();
    fs.writeFileSync(path.join(ws, 'svc-b/main.go'), SERVICE_MAIN(false));
    await until('the build inputs lost common', async () => (await buildDeps()).length === 0);
    fs.writeFileSync(path.join(ws, 'svc-b/main.go'), SERVICE_MAIN(true));
    await until('the build inputs have common again', async () => (await buildDeps()).includes('common'));
    expect(fromServer()).toBeGreaterThan(answered);
    expect(servers()).toHaveLength(1);
    // With the daemon gone, the server goes too.
    await nxIsolated('daemon', '--stop');
    await until('the server stopped', () => servers().length === 0);
  });
});
