/**
 * Nx runtime input of the cacheable `image` and `deploy` targets:
 *
 *   node node_modules/nx-swarm/src/bin/engine-state.js PROJECT
 *
 * Prints what the engine holds for PROJECT (see lib/docker/engine-state.ts); Nx hashes the output.
 * Always exits 0. Runs with the workspace root as its working directory, as Nx runs runtime inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOwner, engineStateText } from '../lib/docker/engine-state';

function pluginIdentity(): string {
  const root = path.join(__dirname, '..', '..');
  let id = 'nx-swarm';
  try {
    id += ` ${(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version}`;
  } catch {
    /* unknown version */
  }
  try {
    // The workspace's own install (tools/plugin/install.mjs) records the sources' fingerprint.
    id += ` ${(JSON.parse(fs.readFileSync(path.join(root, '.nx-swarm-install.json'), 'utf8')) as { fingerprint?: string }).fingerprint}`;
  } catch {
    /* installed from npm */
  }
  return id;
}

async function main(): Promise<void> {
  const project = process.argv[2];
  if (!project) {
    process.stdout.write(`usage: engine-state.js PROJECT (${Math.random()})\n`);
    return;
  }
  const readStat = (pid: number) => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
  };
  const readCmdline = (pid: number) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return undefined;
    }
  };
  const owner = checkOwner(process.ppid, readStat, readCmdline);
  process.stdout.write(`${await engineStateText({ workspaceRoot: process.cwd(), project, env: process.env, plugin: pluginIdentity(), owner })}\n`);
}

void main();
