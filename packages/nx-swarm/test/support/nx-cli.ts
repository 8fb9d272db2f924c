import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';

/**
 * The environment for running the real `nx` CLI from a test, in a scratch workspace.
 *
 * The integration suite itself runs under `nx run nx-swarm:integration`, whose NX_* variables
 * (NX_SKIP_NX_CACHE after --skip-nx-cache, NX_TASK_TARGET_*, NX_WORKSPACE_ROOT, …) would leak into
 * the inner nx and change what it does. The inner nx gets this process's environment without them.
 */
export function nxCliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('NX_') && value !== undefined) env[key] = value;
  }
  return { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', GOTOOLCHAIN: 'local', FORCE_COLOR: '0', NX_TUI: 'false' };
}

/** Runs the scratch workspace's own `nx` with a clean environment; never rejects. */
export function runNx(ws: string, ...args: string[]) {
  return execa(path.join(ws, 'node_modules/.bin/nx'), [...args, '--outputStyle=stream'], {
    cwd: ws,
    reject: false,
    all: true,
    env: nxCliEnv(),
    extendEnv: false,
  });
}

/** git in a scratch workspace, with a throwaway identity. */
export function gitIn(ws: string, ...args: string[]) {
  return execa('git', args, {
    cwd: ws,
    env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const ROOT_FILES = ['nx.json', '.env', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.gitignore', 'go.work'];

/** Copies a folder of this workspace without local build outputs (dist, binaries, BoltDB files, …). */
export function copyWithoutOutputs(from: string, to: string): void {
  fs.cpSync(from, to, {
    recursive: true,
    filter: (src) =>
      !/(^|\/)(node_modules|dist|tmp|coverage|\.nx)(\/|$)/.test(path.relative(WORKSPACE_ROOT, src)) &&
      !/-linux-(amd64|arm64)$/.test(src) &&
      !src.endsWith('.db'),
  });
}

/**
 * A scratch copy of this workspace in the OS temp folder, for the real nx CLI: the root files, the
 * given folders without build outputs, and node_modules linked. The real dist/ and receipts stay alone.
 */
export function scratchWorkspace(prefix: string, folders: string[]): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const f of ROOT_FILES) {
    if (fs.existsSync(path.join(WORKSPACE_ROOT, f))) fs.copyFileSync(path.join(WORKSPACE_ROOT, f), path.join(ws, f));
  }
  // The services import libs/go/common (go.work at the root, a relative replace in go.mod).
  for (const dir of [...new Set([...folders, 'libs'])]) copyWithoutOutputs(path.join(WORKSPACE_ROOT, dir), path.join(ws, dir));
  // The root go.work lists every module of this workspace; a scratch copy holds only some of them.
  if (fs.existsSync(path.join(ws, 'go.work'))) {
    const kept = fs
      .readFileSync(path.join(ws, 'go.work'), 'utf8')
      .split('\n')
      .filter((line) => !/^\s*\.\//.test(line) || fs.existsSync(path.join(ws, line.trim())))
      .join('\n');
    fs.writeFileSync(path.join(ws, 'go.work'), kept);
  }
  fs.symlinkSync(path.join(WORKSPACE_ROOT, 'node_modules'), path.join(ws, 'node_modules'));
  return ws;
}

/** Rewrites a JSON file of a scratch workspace in place. */
export function editJson(ws: string, file: string, edit: (json: Record<string, any>) => void): void {
  const full = path.join(ws, file);
  const json = JSON.parse(fs.readFileSync(full, 'utf8'));
  edit(json);
  fs.writeFileSync(full, JSON.stringify(json, null, 2));
}

/**
 * accountservice in a scratch workspace under a service name, port and repository of the test's own,
 * built for linux/amd64 only, with a host-mode port and dnsrr (no IPVS needed) and no configurations.
 */
export function ownAccountservice(ws: string, own: { service: string; port: number; repository: string }): void {
  editJson(ws, 'accountservice/project.json', (p) => {
    p.targets.build.options.targets = ['linux/amd64'];
    p.targets.image.options.repository = own.repository;
    Object.assign(p.targets.deploy.options, {
      service: own.service,
      ports: [{ target: 6767, published: own.port, mode: 'host' }],
      endpointMode: 'dnsrr',
    });
    delete p.targets.deploy.configurations;
    p.targets.undeploy.options.service = own.service;
  });
}

/**
 * Removes a test's swarm service and every tag of its repositories; never throws. By tag, not by
 * image id: reproducible builds give other repositories (a running accountservice) the same id.
 */
export async function removeServiceAndImages(docker: import('dockerode'), service: string, repositories: string[]): Promise<void> {
  await docker
    .getService(service)
    .remove()
    .catch(() => undefined);
  const images = await docker.listImages({ filters: JSON.stringify({ reference: repositories }) }).catch(() => []);
  const ours = (tag: string) => repositories.some((r) => tag.startsWith(`${r}:`));
  for (const img of images) {
    for (const tag of (img.RepoTags ?? []).filter(ours))
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
  }
}
