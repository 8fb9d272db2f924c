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
import { findGoWorks, goModulesFromProjects, moduleImports, readGoModAt, scanModuleFiles } from './go-graph/workspace-files';
import { moduleWalkerFor } from './go-graph/module-walker';

export type { NxSwarmPluginOptions } from './go-service-targets';

export const GO_MOD_GLOB = '**/go.mod';

interface ProjectJsonFacts {
  hasProjectJson: boolean;
  projectName: string;
  explicitTargets?: Record<string, TargetConfiguration>;
  implicitDependencies?: string[];
}

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

const rootOf = (goModPath: string) => path.posix.dirname(goModPath.split(path.sep).join('/'));

/**
 * What the Go graph says about each module of these go.mod files: module path, diagnostics, the
 * workspace modules its binaries compile in (imports of non-test files, transitively), which become
 * the build's inputs, and those its tests compile in (test files' imports too), the test's and vet's.
 * Without a file list (no Nx workspace context) buildDeps and testDeps stay undefined and the
 * targets fall back to ^production (^default without a production input in nx.json).
 */
export async function goModuleFactsFor(
  workspaceRoot: string,
  goModPaths: string[],
  nameOf: (root: string) => string,
): Promise<Map<string, GoModuleFacts>> {
  const modules: GoModule[] = goModPaths.map((p) => {
    const root = rootOf(p);
    return { root, project: nameOf(root), goMod: readGoModAt(workspaceRoot, root) };
  });
  const resolver = resolverFor(workspaceRoot, modules);
  let closure: { build: Map<string, string[]>; test: Map<string, string[]> } | undefined;
  try {
    closure = await closuresFor(workspaceRoot, modules, resolver);
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
 * The build- and test-dependency closures of every module. The daemon recomputes the graph after every edit, in
 * a fresh plugin worker each time unless plugins are not isolated, so this stays cheap: the module
 * folders are walked (readdir + stat; in the daemon's own process only the modules with file-system
 * events since the last computation, see go-graph/module-walker.ts); a module whose files' stats are
 * unchanged takes its import list from its summary, and in the others only files whose stat changed
 * since the scan memo (both kept in Nx's workspace-data folder, see go-graph/workspace-files.ts and
 * scan-memo.ts) are read again. (Nx's workspace-context API would give hashes, but inside an
 * isolated plugin worker it builds a file index of its own: seconds per computation, and not updated
 * with the edits; and it leaves out gitignored files, whose imports are real build dependencies.)
 */
async function closuresFor(
  workspaceRoot: string,
  modules: GoModule[],
  resolver: GoResolver,
): Promise<{ build: Map<string, string[]>; test: Map<string, string[]> }> {
  const walker = moduleWalkerFor(workspaceRoot);
  const filesByRoot = await walker.walk(modules.map((m) => m.root));
  if (process.env.NX_VERBOSE_LOGGING === 'true') {
    const walked = walker.lastWalked.length;
    const what =
      walked < modules.length
        ? `walked ${walked} of ${modules.length} modules, the others unchanged since the last computation (watched)`
        : `walked all ${modules.length} modules${walker.isWatching ? ', watching their folders from now on' : ' (not watched)'}`;
    console.error(`nx-swarm: Go files: ${what}`);
  }
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
 * Reads what the pure part needs about one go.mod; {} when it is no Go module project. `projectJson`:
 * what createNodes already read of the module's project.json in this computation (read here if not).
 */
export function createNodesForGoMod(
  goModPath: string,
  options: NormalizedPluginOptions,
  context: CreateNodesContext,
  goModule?: GoModuleFacts,
  projectJson?: ProjectJsonFacts,
): CreateNodesResult {
  if (!isCandidateGoMod(goModPath)) return {};
  const projectRoot = rootOf(goModPath);
  const isService = fs.existsSync(path.join(context.workspaceRoot, projectRoot, 'Dockerfile'));
  const facts = {
    projectRoot,
    namedInputs: context.nxJsonConfiguration?.namedInputs ?? {},
    goModule,
    ...(projectJson ?? readProjectJson(context.workspaceRoot, projectRoot)),
  };
  const project = isService ? inferGoServiceProject(facts, options) : inferGoLibraryProject(facts, options);
  return { projects: { [projectRoot]: project } };
}

export const createNodes: CreateNodes<NxSwarmPluginOptions> = [
  GO_MOD_GLOB,
  async (configFiles, options, context) => {
    const normalized = normalizePluginOptions(options);
    const candidates = configFiles.filter(isCandidateGoMod);
    // Each project.json once per computation: its name is the project's in the Go graph, and its targets go into the inference.
    const projectJsons = new Map(candidates.map((f) => [rootOf(f), readProjectJson(context.workspaceRoot, rootOf(f))]));
    const goFacts = await goModuleFactsFor(context.workspaceRoot, candidates, (root) => projectJsons.get(root)?.projectName ?? root);
    for (const f of candidates) await warnOnce(goFacts.get(rootOf(f)));
    const create = (file: string, ctx: CreateNodesContext) =>
      createNodesForGoMod(file, normalized, ctx, goFacts.get(rootOf(file)), projectJsons.get(rootOf(file)));
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
