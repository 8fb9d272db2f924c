/**
 * go-cross-build against the real Go toolchain: the accountservice builds as static ELF binaries,
 * twice byte-identical, and the errors a user meets are the ones we promise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '@nx/devkit';
import runExecutor from '../src/executors/go-cross-build/executor';
import { WORKSPACE_ROOT } from './support/accountservice';

function contextFor(root: string, projectName: string, projectRoot: string): ExecutorContext {
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName,
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: projectRoot } } },
  } as unknown as ExecutorContext;
}

describe('go-cross-build (real Go toolchain)', () => {
  fs.mkdirSync(path.join(WORKSPACE_ROOT, 'tmp'), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(WORKSPACE_ROOT, 'tmp', 'gcb-'));
  let errors: string[] = [];
  beforeEach(() => {
    errors = [];
    jest.spyOn(logger, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds reproducible static binaries for linux/amd64 and linux/arm64', async () => {
    const ctx = contextFor(WORKSPACE_ROOT, 'accountservice', 'accountservice');
    const outA = path.relative(WORKSPACE_ROOT, path.join(tmp, 'a'));
    const outB = path.relative(WORKSPACE_ROOT, path.join(tmp, 'b'));
    const targets = ['linux/amd64', 'linux/arm64'];
    expect(await runExecutor({ outputPath: outA, targets }, ctx)).toEqual({ success: true });
    // The second build uses an empty Go build cache: a real recompile, not a cache copy.
    const freshCache = path.join(tmp, 'gocache');
    expect(await runExecutor({ outputPath: outB, targets, env: { GOCACHE: freshCache } }, ctx)).toEqual({ success: true });

    for (const file of ['accountservice-linux-amd64', 'accountservice-linux-arm64']) {
      const a = fs.readFileSync(path.join(WORKSPACE_ROOT, outA, file));
      const b = fs.readFileSync(path.join(WORKSPACE_ROOT, outB, file));
      expect(a.equals(b)).toBe(true);
      // ELF magic, and no dynamic interpreter: a static binary.
      expect(a.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(a.includes(Buffer.from('/lib64/ld-linux'))).toBe(false);
    }
    const { stdout } = await execa('file', [path.join(WORKSPACE_ROOT, outA, 'accountservice-linux-arm64')]);
    expect(stdout).toMatch(/ARM aarch64.*statically linked/);
    const manifest = JSON.parse(fs.readFileSync(path.join(WORKSPACE_ROOT, outA, 'build.json'), 'utf8'));
    expect(manifest.binaries.map((b: { os: string; arch: string }) => `${b.os}/${b.arch}`)).toEqual(targets);
    expect(fs.readFileSync(path.join(WORKSPACE_ROOT, outA, 'build.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(WORKSPACE_ROOT, outB, 'build.json'), 'utf8'),
    );
  });

  it('streams the compiler error with file:line and fails', async () => {
    // A module of its own inside the workspace, not in the root go.work: built with GOWORK=off.
    const dir = path.join(tmp, 'broken');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'go.mod'), 'module example.com/broken\n\ngo 1.22\n');
    fs.writeFileSync(path.join(dir, 'main.go'), 'package main\n\nfunc main() {\n\tundefinedThing()\n}\n');
    const result = await execa(
      process.execPath,
      [
        '-e',
        `require('@swc-node/register'); require(${JSON.stringify(path.join(__dirname, '../src/executors/go-cross-build/executor.ts'))}).default({ outputPath: ${JSON.stringify(path.relative(WORKSPACE_ROOT, path.join(tmp, 'broken-out')))}, env: { GOWORK: 'off' } }, ${JSON.stringify(contextFor(WORKSPACE_ROOT, 'broken', path.relative(WORKSPACE_ROOT, dir)))}).then(r => process.exit(r.success ? 0 : 1))`,
      ],
      { cwd: WORKSPACE_ROOT, reject: false, all: true, env: { GOTOOLCHAIN: 'local' } },
    );
    expect(result.exitCode).toBe(1);
    expect(result.all).toMatch(/main\.go:4:2: undefined: undefinedThing/);
    expect(result.all).toMatch(/linux\/amd64: go build exited with code 1/);
  });

  it('says Go is missing when it is not on PATH', async () => {
    const ctx = contextFor(WORKSPACE_ROOT, 'accountservice', 'accountservice');
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(await runExecutor({ outputPath: path.relative(WORKSPACE_ROOT, path.join(tmp, 'x')) }, ctx)).toEqual({ success: false });
    } finally {
      process.env.PATH = savedPath;
    }
    expect(errors.join('\n')).toMatch(/Go is not on PATH\. Install Go/);
  });

  it('refuses a target go tool dist list does not know', async () => {
    const ctx = contextFor(WORKSPACE_ROOT, 'accountservice', 'accountservice');
    expect(await runExecutor({ targets: ['linux/z80'], outputPath: path.relative(WORKSPACE_ROOT, path.join(tmp, 'y')) }, ctx)).toEqual({
      success: false,
    });
    expect(errors.join('\n')).toMatch(/cannot build "linux\/z80": not in `go tool dist list`/);
  });

  it('refuses a project without go.mod', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-nomod-'));
    fs.writeFileSync(path.join(dir, 'main.go'), 'package main\nfunc main() {}\n');
    const ctx = contextFor(dir, 'x', '.');
    expect(await runExecutor({}, ctx)).toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/No go.mod found.*go mod init/);
  });
});
