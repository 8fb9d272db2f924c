/**
 * The nx-swarm project-graph plugin. Every go.mod in the workspace is a project: a Go service (a
 * Dockerfile beside the go.mod) gets build → image → deploy (+ test, vet, tidy, serve, undeploy), a
 * library module gets test, vet and tidy. `createDependencies` links each Go file's imports to the
 * workspace module that provides them (go.work, local replaces, module paths; see go-graph/), so the
 * cache and `nx affected` follow shared Go code. Register it in nx.json (`nx g nx-swarm:init` does it):
 *
 *   "plugins": [{ "plugin": "nx-swarm", "options": { "deployTargetName": "deploy" } }]
 *
 * Explicit targets in a project.json win over the inferred ones (Nx applies project.json after
 * plugins; same-executor targets merge option by option).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
// Types only: loading @nx/devkit costs a fresh plugin worker ~130 ms, and Nx starts one for every graph
// computation; it is imported on the rare paths that need it (a warning, a failed file).
import type {
  CreateDependencies,
  CreateNodes,
  CreateNodesContext,
  CreateNodesResult,
  DependencyType,
  RawProjectGraphDependency,
  TargetConfiguration,
} from '@nx/devkit';
import {
  inferGoLibraryProject,
  inferGoServiceProject,
  isCandidateGoMod,
  normalizePluginOptions,
  projectNameFor,
  type GoModuleFacts,
  type NormalizedPluginOptions,
  type NxSwarmPluginOptions,
} from './go-service-targets';
import { GoResolver, type GoModule } from './go-graph/resolver';
import { closureOfModuleImports, goImportEdges, testDependencyClosure } from './go-graph/dependencies';
import {
  findGoWorks,
  goModulesFromProjects,
  moduleImports,
  readGoModAt,
  scanModuleFiles,
  statKey,
  seedGoMod,
  workspaceDataDir,
  type GoFileStat,
} from './go-graph/workspace-files';
import { moduleWalkerFor } from './go-graph/module-walker';
import { askFactsServer, FACTS_PROTOCOL, factsSocketPath, spawnedByDaemon, startFactsServer, type ModuleFolderFacts } from './go-graph/facts-server';

export type { NxSwarmPluginOptions } from './go-service-targets';

export const GO_MOD_GLOB = '**/go.mod';

/** A module folder's project.json, as the inference needs it (the Go facts server sends the same shape). */
type ProjectJsonFacts = ModuleFolderFacts['projectJson'];

function readProjectJson(workspaceRoot: string, projectRoot: string): ProjectJsonFacts {
  const abs = path.join(workspaceRoot, projectRoot, 'project.json');
  let projectName = projectNameFor(projectRoot === '.' ? path.basename(workspaceRoot) : projectRoot);
  if (!fs.existsSync(abs)) return { hasProjectJson: false, projectName };
  let explicitTargets: Record<string, TargetConfiguration> | undefined;
  try {
    const json = JSON.parse(fs.readFileSync(abs, 'utf8')) as { name?: unknown; targets?: unknown; implicitDependencies?: unknown };
    if (typeof json.name === 'string' && json.name) projectName = json.name;
    if (json.targets && typeof json.targets === 'object') explicitTargets = json.targets as Record<string, TargetConfiguration>;
    if (Array.isArray(json.implicitDependencies)) {
      const implicitDependencies = json.implicitDependencies.filter((d): d is string => typeof d === 'string' && !d.startsWith('!'));
      return { hasProjectJson: true, projectName, explicitTargets, implicitDependencies };
    }
  } catch {
    /* Nx reports a broken project.json itself */
  }
  return { hasProjectJson: true, projectName, explicitTargets };
}

const roots = new Map<string, string>();
/** A go.mod path's module root, posix (memoised: createNodes asks for 200 of them on every computation). */
function rootOf(goModPath: string): string {
  let root = roots.get(goModPath);
  if (root === undefined) roots.set(goModPath, (root = path.posix.dirname(goModPath.split(path.sep).join('/'))));
  return root;
}

/** What createNodes reads in a module's root folder. */
interface RootFiles {
  goMod: GoModule['goMod'];
  /** The go.mod's stat key when it was read. */
  goModKey: string;
  projectJson: ProjectJsonFacts;
  /** A Dockerfile beside the go.mod. */
  isService: boolean;
}

function readRootFiles(workspaceRoot: string, root: string): RootFiles {
  const goModKey = statKey(path.join(workspaceRoot, root, 'go.mod')) ?? 'missing';
  return {
    goMod: readGoModAt(workspaceRoot, root, goModKey),
    goModKey,
    projectJson: readProjectJson(workspaceRoot, root),
    isService: fs.existsSync(path.join(workspaceRoot, root, 'Dockerfile')),
  };
}

/** Per workspace, each module's root files as the last computation read them. */
const lastRootFiles = new Map<string, Map<string, RootFiles>>();

/**
 * Each module's root files, read again unless `kept(root)`: the watching walker saw no change in any
 * of the module's folders since the last computation (in the daemon's process, go-graph/module-walker.ts),
 * so its go.mod, project.json and Dockerfile are as that computation read them: 600 file-system
 * calls fewer per computation on the benchmark's tree. What was kept is forgotten before reading, so
 * a computation that fails half-way leaves nothing stale behind.
 */
function rootFilesFor(workspaceRoot: string, moduleRoots: string[], kept: (root: string) => boolean): Map<string, RootFiles> {
  const before = lastRootFiles.get(workspaceRoot);
  lastRootFiles.delete(workspaceRoot);
  const now = new Map<string, RootFiles>();
  for (const root of moduleRoots) now.set(root, (kept(root) ? before?.get(root) : undefined) ?? readRootFiles(workspaceRoot, root));
  lastRootFiles.set(workspaceRoot, now);
  return now;
}

/**
 * What the Go graph says about each module: module path, diagnostics, the workspace modules its
 * binaries compile in (imports of non-test files, transitively), which become the build's inputs,
 * and those its tests compile in (test files' imports too), the test's and vet's. `filesByRoot`: the
 * modules' .go files (the walk); without it, or when the import lists can't be read, buildDeps and
 * testDeps stay undefined and the targets fall back to ^production (^default without a production
 * input in nx.json).
 */
export function goModuleFactsFor(
  workspaceRoot: string,
  modules: GoModule[],
  filesByRoot: Map<string, GoFileStat[]> | undefined,
): Map<string, GoModuleFacts> {
  const resolver = resolverFor(workspaceRoot, modules);
  let closure: { build: Map<string, string[]>; test: Map<string, string[]> } | undefined;
  try {
    closure = filesByRoot ? closuresFor(workspaceRoot, filesByRoot, resolver) : undefined;
  } catch {
    closure = undefined;
  }
  const facts = new Map<string, GoModuleFacts>();
  for (const m of modules) {
    facts.set(m.root, {
      path: m.goMod.module?.path,
      diagnostics: resolver.diagnosticsFor(m.root),
      ...(closure ? { buildDeps: closure.build.get(m.project) ?? [], testDeps: closure.test.get(m.project) ?? [] } : {}),
    });
  }
  return facts;
}

/**
 * The module folders' .go files: walked (readdir + stat; in the daemon's own process only the
 * modules with file-system events since the last computation, see go-graph/module-walker.ts).
 * The daemon recomputes the graph after every edit, in a fresh plugin worker each time unless
 * plugins are not isolated, so this and what follows stay cheap. (Nx's workspace-context API would
 * give hashes, but inside an isolated plugin worker it builds a file index of its own: seconds per
 * computation, and not updated with the edits; and it leaves out gitignored files, whose imports
 * are real build dependencies.)
 */
async function walkModules(workspaceRoot: string, moduleRoots: string[]): Promise<{ filesByRoot?: Map<string, GoFileStat[]>; kept: Set<string> }> {
  const walker = moduleWalkerFor(workspaceRoot);
  try {
    const filesByRoot = await walker.walk(moduleRoots);
    if (process.env.NX_VERBOSE_LOGGING === 'true') {
      const walked = walker.lastWalked.length;
      const what =
        walked < moduleRoots.length
          ? `walked ${walked} of ${moduleRoots.length} modules, the others unchanged since the last computation (watched)`
          : `walked all ${moduleRoots.length} modules${walker.isWatching ? ', watching their folders from now on' : ' (not watched)'}`;
      console.error(`nx-swarm: Go files: ${what}`);
    }
    return { filesByRoot, kept: walker.lastKept };
  } catch {
    return { kept: new Set() };
  }
}

/**
 * The build- and test-dependency closures of every module, from the walk: a module whose files'
 * stats are unchanged takes its import list from its summary, and in the others only files whose
 * stat changed since the scan memo (both kept in Nx's workspace-data folder, see
 * go-graph/workspace-files.ts and scan-memo.ts) are read again.
 */
function closuresFor(
  workspaceRoot: string,
  filesByRoot: Map<string, GoFileStat[]>,
  resolver: GoResolver,
): { build: Map<string, string[]>; test: Map<string, string[]> } {
  const imports = moduleImports(workspaceRoot, filesByRoot);
  const build = closureOfModuleImports(new Map([...imports].map(([root, m]) => [root, m.build])), resolver);
  return { build, test: testDependencyClosure(imports, build, resolver) };
}

let lastResolver: { key: unknown[]; resolver: GoResolver } | undefined;

/**
 * The resolver for these modules, built again only when a go.mod or go.work (their parsed objects
 * are memoised by stat/hash, so identity means unchanged) or a project name changed.
 */
function resolverFor(workspaceRoot: string, modules: GoModule[]): GoResolver {
  const works = findGoWorks(
    workspaceRoot,
    modules.map((m) => m.root),
  );
  const key: unknown[] = [workspaceRoot, ...modules.flatMap((m) => [m.root, m.project, m.goMod]), ...works.flatMap((w) => [w.dir, w.work])];
  if (lastResolver && lastResolver.key.length === key.length && lastResolver.key.every((k, i) => k === key[i])) return lastResolver.resolver;
  const resolver = new GoResolver(modules, works);
  lastResolver = { key, resolver };
  return resolver;
}

const warned = new Set<string>();
/** Each finding once per process (the daemon recomputes the graph after every edit). */
async function warnOnce(facts: GoModuleFacts | undefined): Promise<void> {
  for (const d of facts?.diagnostics ?? []) {
    if (warned.has(d.message)) continue;
    warned.add(d.message);
    const { logger } = await import('@nx/devkit');
    logger.warn(`nx-swarm: ${d.message}`);
  }
}

/**
 * Reads what the pure part needs about one go.mod; {} when it is no Go module project. `rootFiles`:
 * what createNodes already read in the module's folder in this computation (read here if not).
 */
export function createNodesForGoMod(
  goModPath: string,
  options: NormalizedPluginOptions,
  context: CreateNodesContext,
  goModule?: GoModuleFacts,
  rootFiles?: Pick<RootFiles, 'projectJson' | 'isService'>,
): CreateNodesResult {
  if (!isCandidateGoMod(goModPath)) return {};
  const projectRoot = rootOf(goModPath);
  const { projectJson, isService } = rootFiles ?? readRootFiles(context.workspaceRoot, projectRoot);
  const facts = {
    projectRoot,
    namedInputs: context.nxJsonConfiguration?.namedInputs ?? {},
    goModule,
    ...projectJson,
  };
  const project = isService ? inferGoServiceProject(facts, options) : inferGoLibraryProject(facts, options);
  return { projects: { [projectRoot]: project } };
}

/**
 * Each module folder's facts for createNodes, computed in this process: the walk (watched in a
 * process that computes again and again), the root files, the Go facts. The Go facts server runs
 * this same function (go-graph/facts-server-main.ts).
 */
export async function computeModuleFolders(workspaceRoot: string, moduleRoots: string[]): Promise<Map<string, ModuleFolderFacts>> {
  const { filesByRoot, kept } = await walkModules(workspaceRoot, moduleRoots);
  // Each module folder's files once per computation (or not at all, see rootFilesFor): the
  // project.json's name is the project's in the Go graph, and its targets go into the inference.
  const rootFiles = rootFilesFor(workspaceRoot, moduleRoots, (root) => kept.has(root));
  const modules: GoModule[] = moduleRoots.map((root) => {
    const { goMod, projectJson } = rootFiles.get(root)!;
    return { root, project: projectJson.projectName, goMod };
  });
  const goFacts = goModuleFactsFor(workspaceRoot, modules, filesByRoot);
  return new Map(
    moduleRoots.map((root) => {
      const { projectJson, isService, goMod, goModKey } = rootFiles.get(root)!;
      return [root, { projectJson, isService, facts: goFacts.get(root)!, goMod: { key: goModKey, value: goMod } }];
    }),
  );
}

/** This build of the plugin: a Go facts server of another one stops when asked. */
function pluginBuild(): string {
  return `${FACTS_PROTOCOL}:${statKey(__filename) ?? '-'}:${statKey(FACTS_SERVER_MAIN) ?? '-'}`;
}

/** The Go facts server's entry point in this build. */
const FACTS_SERVER_MAIN = path.join(__dirname, 'go-graph', 'facts-server-main.js');

/**
 * In a plugin worker the Nx daemon spawned (Nx isolates plugins by default, and starts the worker
 * afresh for every computation), the module folders' facts from the Go facts server, which keeps
 * the watched walk between computations (go-graph/facts-server.ts). Undefined, and the worker
 * computes by itself, anywhere else, when there is no server yet (one is started for the next
 * computation), or when it does not answer in time. Only from the compiled plugin: the server is
 * a node process of its own.
 */
async function moduleFoldersFromServer(workspaceRoot: string, moduleRoots: string[]): Promise<Map<string, ModuleFolderFacts> | undefined> {
  if (process.env.NX_SWARM_GO_WATCH === 'false' || (globalThis as { NX_DAEMON?: unknown }).NX_DAEMON || !__filename.endsWith('.js')) return undefined;
  const dataDir = workspaceDataDir(workspaceRoot);
  const daemonPid = spawnedByDaemon(dataDir);
  if (!daemonPid) return undefined;
  const socketPath = factsSocketPath(dataDir, workspaceRoot);
  const version = pluginBuild();
  const asked = await askFactsServer(socketPath, { protocol: FACTS_PROTOCOL, version, roots: moduleRoots }, FACTS_TIMEOUT_MS);
  const verbose = process.env.NX_VERBOSE_LOGGING === 'true';
  if (asked.modules) {
    if (verbose) console.error(`nx-swarm: Go files: ${moduleRoots.length} modules from the Go facts server (${socketPath})`);
    // Its go.mod reads serve createDependencies in this worker (while their stats are the same).
    for (const root of moduleRoots) {
      const goMod = asked.modules[root].goMod;
      if (goMod) seedGoMod(workspaceRoot, root, goMod.key, goMod.value);
    }
    return new Map(moduleRoots.map((root) => [root, asked.modules![root]]));
  }
  if (asked.absent) {
    const pid = startFactsServer({
      dataDir,
      workspaceRoot,
      daemonPid,
      version,
      roots: moduleRoots,
      mainPath: FACTS_SERVER_MAIN,
    });
    if (verbose && pid !== undefined) console.error(`nx-swarm: Go files: started the Go facts server for the next computations (pid ${pid})`);
  }
  return undefined;
}

/** How long a worker waits for the Go facts server before it computes by itself. */
const FACTS_TIMEOUT_MS = 3000;

export const createNodes: CreateNodes<NxSwarmPluginOptions> = [
  GO_MOD_GLOB,
  async (configFiles, options, context) => {
    const normalized = normalizePluginOptions(options);
    const moduleRoots = configFiles.filter(isCandidateGoMod).map(rootOf);
    const folders =
      (await moduleFoldersFromServer(context.workspaceRoot, moduleRoots)) ?? (await computeModuleFolders(context.workspaceRoot, moduleRoots));
    for (const root of moduleRoots) await warnOnce(folders.get(root)?.facts);
    const create = (file: string, ctx: CreateNodesContext) => {
      const folder = folders.get(rootOf(file));
      return createNodesForGoMod(file, normalized, ctx, folder?.facts, folder);
    };
    // What createNodesFromFiles returns, without loading @nx/devkit unless a file fails (then it
    // runs them again and reports every failure, per file, as Nx expects).
    try {
      const results: [string, CreateNodesResult][] = [];
      for (const file of configFiles) {
        const result = create(file, context);
        if (result) results.push([file, result]);
      }
      return results;
    } catch {
      const { createNodesFromFiles } = await import('@nx/devkit');
      return createNodesFromFiles((file, _opts, ctx) => create(file, ctx), configFiles, options ?? {}, context);
    }
  },
];

/** Alias kept for Nx's compatibility guidance (Nx 22–23 read either name). */
export const createNodesV2 = createNodes;

/**
 * Go import edges (static, with the importing file) between the workspace's Go module projects, for
 * the files Nx asks about: `filesToProcess` (every file on a cold start; after that the changed ones,
 * Nx keeps the edges of the others from its cache).
 */
export const createDependencies: CreateDependencies<NxSwarmPluginOptions> = (_options, context) => {
  const { modules, filesByRoot } = goModulesFromProjects(
    context.workspaceRoot,
    context.projects,
    context.fileMap.projectFileMap,
    context.filesToProcess.projectFileMap,
  );
  if (modules.length === 0) return [];
  const resolver = resolverFor(context.workspaceRoot, modules);
  const files = scanModuleFiles(context.workspaceRoot, filesByRoot);
  return goImportEdges(files, resolver).map((e): RawProjectGraphDependency => ({
    source: e.source,
    target: e.target,
    sourceFile: e.sourceFile,
    type: 'static' as DependencyType.static,
  }));
};
