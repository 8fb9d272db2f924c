import * as path from 'node:path';
import { DEFAULT_TAGS, OptionsError, normalizeOptions, NormalizeEnv } from './image-options';
import type { DockerImageExecutorSchema } from '../../executors/docker-image/schema';

const ROOT = '/ws';
const existing = new Set(['/ws/accountservice/Dockerfile', '/ws/dist/accountservice/accountservice-linux-amd64', '/ws/other/Dockerfile.prod']);
const env: NormalizeEnv = {
  workspaceRoot: ROOT,
  projectName: 'accountservice',
  projectRoot: 'accountservice',
  isFile: (f) => existing.has(f),
  isDirectory: (d) => ['/ws/accountservice', '/ws/other', '/ws'].includes(d),
};
const BIN = { from: 'dist/accountservice/accountservice-linux-amd64', to: 'accountservice-linux-amd64' };

function problemsOf(options: DockerImageExecutorSchema): string[] {
  try {
    normalizeOptions(options, env);
    return [];
  } catch (error) {
    if (error instanceof OptionsError) return error.problems;
    throw error;
  }
}

describe('normalizeOptions: defaults and resolution', () => {
  it('defaults: project root as context, its Dockerfile, someprefix/{project}, latest, no push', () => {
    expect(normalizeOptions({}, env)).toEqual({
      contextDir: '/ws/accountservice',
      dockerfile: '/ws/accountservice/Dockerfile',
      files: [],
      repository: 'someprefix/accountservice',
      tags: DEFAULT_TAGS,
      buildArgs: {},
      labels: {},
      target: undefined,
      platform: undefined,
      push: false,
      builder: 'auto',
    });
  });

  it.each<[string, DockerImageExecutorSchema, object]>([
    [
      'files resolved from the workspace root',
      { files: [BIN] },
      { files: [{ from: '/ws/dist/accountservice/accountservice-linux-amd64', to: 'accountservice-linux-amd64' }] },
    ],
    [
      'files "to" defaults to the basename',
      { files: [{ from: BIN.from }] },
      { files: [{ from: path.join(ROOT, BIN.from), to: 'accountservice-linux-amd64' }] },
    ],
    ['files "to" normalised', { files: [{ from: BIN.from, to: './bin//app' }] }, { files: [{ from: path.join(ROOT, BIN.from), to: 'bin/app' }] }],
    ['registry prefixes the repository', { registry: '127.0.0.1:5000' }, { repository: '127.0.0.1:5000/someprefix/accountservice' }],
    ['explicit repository and registry', { repository: 'acc', registry: '127.0.0.1:5000' }, { repository: '127.0.0.1:5000/acc' }],
    ['repository with a registry host', { repository: 'localhost:5000/acc' }, { repository: 'localhost:5000/acc' }],
    [
      'dockerfile relative to the context',
      { context: 'other', dockerfile: 'Dockerfile.prod' },
      { contextDir: '/ws/other', dockerfile: '/ws/other/Dockerfile.prod' },
    ],
    ['dockerfile outside the context', { dockerfile: '../other/Dockerfile.prod' }, { dockerfile: '/ws/other/Dockerfile.prod' }],
    ['duplicate tags removed', { tags: ['latest', '1.0', 'latest'] }, { tags: ['latest', '1.0'] }],
    ['no convenience tags', { tags: [] }, { tags: [] }],
    ['build args and labels as strings', { buildArgs: { V: '1' }, labels: { a: 'b' } }, { buildArgs: { V: '1' }, labels: { a: 'b' } }],
    ['numbers in build args become strings', { buildArgs: { N: 3 as unknown as string } }, { buildArgs: { N: '3' } }],
    ['target and platform', { target: 'runtime', platform: 'linux/arm/v7' }, { target: 'runtime', platform: 'linux/arm/v7' }],
    ['push', { push: true }, { push: true }],
  ])('%s', (_name, options, expected) => {
    expect(normalizeOptions(options, env)).toMatchObject(expected);
  });

  it('lowercases the project name for the default repository', () => {
    expect(normalizeOptions({}, { ...env, projectName: 'AccountService' }).repository).toBe('someprefix/accountservice');
  });
});

describe('normalizeOptions: problems found before the daemon', () => {
  it.each<[string, DockerImageExecutorSchema, RegExp]>([
    ['an unknown builder', { builder: 'kaniko' as 'oci' }, /builder "kaniko" must be auto, oci or engine/],
    ['an empty platforms list', { platforms: [] }, /platforms must be a non-empty list/],
    ['a bad platform in platforms', { platforms: ['linux/amd64', 'arm64'] }, /platforms: "arm64" is not os\/arch/],
    [
      'missing build output',
      { files: [{ from: 'dist/accountservice/nope' }] },
      /files\[0\]\.from dist\/accountservice\/nope does not exist\. Run the build target first \(nx run accountservice:build\)/,
    ],
    ['missing Dockerfile', { dockerfile: 'Dockerfile.missing' }, /The Dockerfile accountservice\/Dockerfile\.missing does not exist/],
    ['missing context', { context: 'nowhere' }, /build context nowhere is not a directory/],
    ['uppercase repository', { repository: 'someprefix/AccountService' }, /Invalid repository: .*must be lowercase/],
    ['repository with a tag', { repository: 'acc:1.0' }, /must not contain a tag/],
    ['bad tag', { tags: ['-bad'] }, /Invalid tag: tag "-bad" must start/],
    ['tag with a slash', { tags: ['a/b'] }, /Invalid tag/],
    ['registry twice', { repository: '127.0.0.1:5000/acc', registry: '127.0.0.1:6000' }, /Set only one/],
    ['bad registry', { registry: 'not a host' }, /registry/],
    ['bad platform', { platform: 'amd64' }, /platform "amd64" is not os\/arch/],
    ['files "to" escaping the context', { files: [{ from: BIN.from, to: '../x' }] }, /files\[0\]\.to .* inside the context/],
    ['build arg not a string', { buildArgs: { A: { x: 1 } as unknown as string } }, /buildArgs\.A must be a string/],
  ])('%s', (_name, options, message) => {
    expect(problemsOf(options).join('\n')).toMatch(message);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ dockerfile: 'nope', tags: ['.x'], repository: 'A' })).toHaveLength(3);
  });
});
