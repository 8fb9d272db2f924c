import * as path from 'node:path';
import { CrossBuildOptions, planCrossBuild } from './cross-build-plan';

const root = '/ws';
const existing = new Set(['/ws/svc', '/ws/svc/go.mod', '/ws/svc/cmd/tool', '/ws/mono/go.mod', '/ws/mono/apps/a', '/ws/orphan']);
const ctx = (projectRoot = 'svc') => ({ workspaceRoot: root, projectRoot, projectName: 'svc', exists: (p: string) => existing.has(p) });

describe('planCrossBuild', () => {
  it.each<[string, CrossBuildOptions, string[], Record<string, string>]>([
    [
      'defaults: linux/amd64, static, reproducible',
      {},
      ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w -buildid=', '-o', '/ws/dist/svc/svc-linux-amd64', '.'],
      { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64' },
    ],
    [
      'arm v7 with tags, flags, ldflags, cgo and env',
      { targets: ['linux/arm/v7'], tags: ['netgo', 'osusergo'], flags: ['-a'], ldflags: '-X main.v=1', cgo: true, env: { GOFLAGS: '-mod=mod' } },
      [
        'build',
        '-trimpath',
        '-buildvcs=false',
        '-ldflags=-X main.v=1 -buildid=',
        '-tags=netgo,osusergo',
        '-a',
        '-o',
        '/ws/dist/svc/svc-linux-armv7',
        '.',
      ],
      { GOFLAGS: '-mod=mod', CGO_ENABLED: '1', GOOS: 'linux', GOARCH: 'arm', GOARM: '7' },
    ],
    [
      'windows, custom name and output, no trimpath, empty ldflags, verbose, sub-package',
      { targets: ['windows/amd64'], binaryName: 'tool', outputPath: 'out/bin', trimpath: false, ldflags: '', verbose: true, main: './cmd/tool' },
      ['build', '-buildvcs=false', '-ldflags=-buildid=', '-v', '-x', '-o', '/ws/out/bin/tool-windows-amd64.exe', './cmd/tool'],
      { CGO_ENABLED: '0', GOOS: 'windows', GOARCH: 'amd64' },
    ],
    [
      'target options cannot be overridden by env',
      { env: { GOOS: 'plan9', CGO_ENABLED: '1' } },
      ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w -buildid=', '-o', '/ws/dist/svc/svc-linux-amd64', '.'],
      { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64' },
    ],
  ])('%s', (_name, options, args, env) => {
    const plan = planCrossBuild(options, ctx());
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0].args).toEqual(args);
    expect(plan.steps[0].env).toEqual(env);
    expect(plan.steps[0].cwd).toBe('/ws/svc');
  });

  it('plans one step per target, in order', () => {
    const plan = planCrossBuild({ targets: ['linux/amd64', 'linux/arm64', 'darwin/arm64'] }, ctx());
    expect(plan.steps.map((s) => path.basename(s.output))).toEqual(['svc-linux-amd64', 'svc-linux-arm64', 'svc-darwin-arm64']);
    expect(plan.outputDir).toBe('/ws/dist/svc');
    expect(plan.moduleDir).toBe('/ws/svc');
  });

  it('finds go.mod above main', () => {
    expect(planCrossBuild({}, ctx('mono/apps/a')).moduleDir).toBe('/ws/mono');
  });

  it.each<[string, CrossBuildOptions, string, RegExp]>([
    ['no go.mod', {}, 'orphan', /No go.mod found in orphan or above it.*go mod init/],
    ['main missing', { main: './cmd/nope' }, 'svc', /main "\.\/cmd\/nope" does not exist/],
    ['main outside the project', { main: '../other' }, 'svc', /outside the project folder/],
    ['output outside the workspace', { outputPath: '../elsewhere' }, 'svc', /not a folder inside the workspace/],
    ['output is the workspace root', { outputPath: '.' }, 'svc', /not a folder inside the workspace/],
    ['duplicate target', { targets: ['linux/amd64', 'linux/amd64'] }, 'svc', /listed twice/],
    ['bad target', { targets: ['linux'] }, 'svc', /is not a Go target/],
    ['bad binary name', { binaryName: 'a b' }, 'svc', /binaryName "a b"/],
  ])('rejects: %s', (_name, options, projectRoot, message) => {
    expect(() => planCrossBuild(options, ctx(projectRoot))).toThrow(message);
  });
});
