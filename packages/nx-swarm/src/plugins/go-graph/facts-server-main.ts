/**
 * The Go facts server's process (see facts-server.ts), started detached by a plugin worker:
 *   node facts-server-main.js <workspaceRoot> <daemonPid> <pluginBuild> [<roots as JSON>]
 * It watches (NX_SWARM_GO_WATCH=true in its environment) and answers with plugin.ts's own computation.
 */
import { closeModuleWalkers } from './module-walker';
import { factsSocketPath, processAlive, runFactsServer, spawnedByDaemon } from './facts-server';
import { workspaceDataDir } from './workspace-files';
import { computeModuleFolders } from '../plugin';

const [workspaceRoot, pidText, version, rootsJson] = process.argv.slice(2);
const daemonPid = Number(pidText);
const dataDir = workspaceDataDir(workspaceRoot);
let warmUp: string[] | undefined;
try {
  warmUp = rootsJson ? (JSON.parse(rootsJson) as string[]) : undefined;
} catch {
  warmUp = undefined;
}

void runFactsServer({
  socketPath: factsSocketPath(dataDir, workspaceRoot),
  version,
  warmUp,
  compute: async (roots) => Object.fromEntries(await computeModuleFolders(workspaceRoot, roots)),
  // Gone, or another daemon now (its server-process.json names another pid).
  daemonAlive: () => processAlive(daemonPid) && spawnedByDaemon(dataDir, daemonPid) === daemonPid,
  checkEveryMs: 1000,
  idleMs: 60 * 60 * 1000,
})
  .catch(() => 'failed')
  .finally(() => {
    closeModuleWalkers();
    process.exit(0);
  });
