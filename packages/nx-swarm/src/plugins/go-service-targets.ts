/**
 * The targets nx-swarm infers for a Go service (a go.mod with a Dockerfile beside it): build → image
 * → deploy, plus test and undeploy. Pure: the caller supplies the facts (project root, whether
 * project.json exists, the workspace's named inputs); nothing here touches the file system.
 *
 * Options strings keep Nx's {projectRoot}/{projectName} tokens: Nx resolves them after merging, so
 * an explicit project.json (which always wins over inferred values) can rename the project or move
 * the output and the tokens follow.
 */
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { binaryFileName, parseTarget } from '../lib/go/targets';
import type { GoGraphDiagnostic } from './go-graph/resolver';

export const PLUGIN_NAME = 'nx-swarm';

type TargetNameKey =
  | 'buildTargetName'
  | 'testTargetName'
  | 'vetTargetName'
  | 'tidyTargetName'
  | 'serveTargetName'
  | 'imageTargetName'
  | 'deployTargetName'
  | 'undeployTargetName'
  | 'rollbackTargetName';

type TargetKind = 'build' | 'test' | 'vet' | 'tidy' | 'serve' | 'image' | 'deploy' | 'undeploy' | 'rollback';

export interface NxSwarmPluginOptions {
  /** Name of the go-cross-build target (default "build"). false: don't infer it. */
  buildTargetName?: string | false;
  /** Name of the `go test` target (default "test"). false: don't infer it. */
  testTargetName?: string | false;
  /** Name of the `go vet ./...` target of every Go module (default "vet"). false: don't infer it. */
  vetTargetName?: string | false;
  /** Name of the `go mod tidy` target of every Go module (default "tidy"; `--check` fails when go.mod/go.sum would change). false: don't infer it. */
  tidyTargetName?: string | false;
  /** Name of a service's continuous `serve` target (build, run, rebuild and restart on Go edits; default "serve"). false: don't infer it. */
  serveTargetName?: string | false;
  /**
   * "nx-go": @nx-go/nx-go is registered too and keeps build, serve, test, lint and tidy. nx-swarm then
   * infers its linux cross-build as "cross-build" (unless buildTargetName says otherwise), no test,
   * vet, tidy or serve targets, and the container targets image → deploy, undeploy.
   */
  leaveGoTargetsTo?: 'nx-go';
  /** Name of the docker-image target (default "image"). false: don't infer it (nor deploy). */
  imageTargetName?: string | false;
  /** Name of the swarm-deploy target (default "deploy"). false: don't infer it. */
  deployTargetName?: string | false;
  /** Name of the swarm-service-rm target (default "undeploy"). false: don't infer it. */
  undeployTargetName?: string | false;
  /** Name of the swarm-rollback target (default "rollback"; inferred with deploy). false: don't infer it. */
  rollbackTargetName?: string | false;
  /** GOOS/GOARCH targets the build produces (default ["linux/amd64"]). */
  platforms?: string[];
  /** The platform whose binary goes into the image (default "linux/amd64"; added to platforms when missing). */
  imagePlatform?: string;
  /** Extra go-cross-build options for every inferred build target. */
  buildOptions?: Record<string, unknown>;
  /** Command of the test target (default "go test -count=1 ./..."). */
  testCommand?: string;
  /** Extra docker-image options for every inferred image target. */
  imageOptions?: Record<string, unknown>;
  /** Extra swarm-deploy options for every inferred deploy target. */
  deployOptions?: Record<string, unknown>;
  /**
   * Named configurations of every inferred deploy target. Default: { host: { endpointMode: "dnsrr" } },
   * for engines without IPVS (use with ports published in host mode).
   */
  deployConfigurations?: Record<string, Record<string, unknown>>;
  /** Extra swarm-service-rm options for every inferred undeploy target. */
  undeployOptions?: Record<string, unknown>;
}

export interface NormalizedPluginOptions {
  targetNames: Record<TargetKind, string | undefined>;
  platforms: string[];
  imagePlatform: string;
  buildOptions: Record<string, unknown>;
  testCommand: string;
  imageOptions: Record<string, unknown>;
  deployOptions: Record<string, unknown>;
  deployConfigurations: Record<string, Record<string, unknown>>;
  undeployOptions: Record<string, unknown>;
  /**
   * Where nx-swarm's build output, image receipt and deploy report go: dist/{projectRoot}, or
   * dist/nx-swarm/{projectRoot} next to nx-go (whose build writes the file dist/{projectRoot}).
   */
  outputDir: string;
}

export const DEFAULT_TARGET_NAMES = {
  build: 'build',
  test: 'test',
  vet: 'vet',
  tidy: 'tidy',
  serve: 'serve',
  image: 'image',
  deploy: 'deploy',
  undeploy: 'undeploy',
  rollback: 'rollback',
} as const;

export const DEFAULT_OUTPUT_DIR = 'dist/{projectRoot}';

export const DEFAULT_DEPLOY_CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  host: { endpointMode: 'dnsrr' },
};

const TARGET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9:_-]*$/;

/** Thrown for plugin options that can't work; the message names the nx.json field and a fix. */
export class PluginOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`nx-swarm plugin options in nx.json:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PluginOptionsError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates and fills in the plugin options; throws PluginOptionsError listing every problem. */
export function normalizePluginOptions(options: NxSwarmPluginOptions | undefined): NormalizedPluginOptions {
  const o = options ?? {};
  const problems: string[] = [];

  if (o.leaveGoTargetsTo !== undefined && o.leaveGoTargetsTo !== 'nx-go') {
    problems.push(`leaveGoTargetsTo must be "nx-go" (or left out), got ${JSON.stringify(o.leaveGoTargetsTo)}.`);
  }
  const nxGo = o.leaveGoTargetsTo === 'nx-go';
  const name = (key: TargetNameKey, fallback: string | undefined): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    if (v === false) return undefined;
    if (typeof v !== 'string' || !TARGET_NAME_RE.test(v)) {
      problems.push(`${key} must be a target name (letters, digits, ":", "_", "-") or false, got ${JSON.stringify(v)}.`);
      return fallback;
    }
    return v;
  };
  const targetNames = {
    build: name('buildTargetName', nxGo ? 'cross-build' : DEFAULT_TARGET_NAMES.build),
    test: name('testTargetName', nxGo ? undefined : DEFAULT_TARGET_NAMES.test),
    vet: name('vetTargetName', nxGo ? undefined : DEFAULT_TARGET_NAMES.vet),
    tidy: name('tidyTargetName', nxGo ? undefined : DEFAULT_TARGET_NAMES.tidy),
    serve: name('serveTargetName', nxGo ? undefined : DEFAULT_TARGET_NAMES.serve),
    image: name('imageTargetName', DEFAULT_TARGET_NAMES.image),
    deploy: name('deployTargetName', DEFAULT_TARGET_NAMES.deploy),
    undeploy: name('undeployTargetName', DEFAULT_TARGET_NAMES.undeploy),
    rollback: name('rollbackTargetName', DEFAULT_TARGET_NAMES.rollback),
  };
  const chosen = Object.values(targetNames).filter((n): n is string => Boolean(n));
  const dupes = chosen.filter((n, i) => chosen.indexOf(n) !== i);
  if (dupes.length) problems.push(`Two targets can't share the name ${[...new Set(dupes)].map((d) => `"${d}"`).join(', ')}.`);
  if (targetNames.image && !targetNames.build) {
    problems.push('The image target needs the build target (its binary): set imageTargetName to false too, or name the build target.');
  }
  if (targetNames.deploy && !targetNames.image) {
    problems.push('The deploy target needs the image target: set deployTargetName to false too, or name the image target.');
  }

  const platforms = o.platforms === undefined ? ['linux/amd64'] : o.platforms;
  if (!Array.isArray(platforms) || platforms.length === 0 || platforms.some((p) => typeof p !== 'string')) {
    problems.push(`platforms must be a non-empty array of GOOS/GOARCH strings, got ${JSON.stringify(o.platforms)}.`);
  }
  const imagePlatform = o.imagePlatform ?? 'linux/amd64';
  for (const p of [...(Array.isArray(platforms) ? platforms : []), imagePlatform]) {
    try {
      parseTarget(String(p));
    } catch (e) {
      problems.push(`${(e as Error).message}`);
    }
  }
  if (typeof imagePlatform === 'string' && !imagePlatform.startsWith('linux/')) {
    problems.push(`imagePlatform must be a linux platform (swarm runs Linux containers), got "${imagePlatform}".`);
  }

  const record = (key: keyof NxSwarmPluginOptions): Record<string, unknown> => {
    const v = o[key];
    if (v === undefined) return {};
    if (!isRecord(v)) {
      problems.push(`${key} must be an object of executor options, got ${JSON.stringify(v)}.`);
      return {};
    }
    return v;
  };
  const buildOptions = record('buildOptions');
  const imageOptions = record('imageOptions');
  const deployOptions = record('deployOptions');
  const undeployOptions = record('undeployOptions');
  let deployConfigurations = DEFAULT_DEPLOY_CONFIGURATIONS;
  if (o.deployConfigurations !== undefined) {
    if (!isRecord(o.deployConfigurations) || !Object.values(o.deployConfigurations).every(isRecord)) {
      problems.push('deployConfigurations must map configuration names to objects of swarm-deploy options.');
    } else {
      deployConfigurations = o.deployConfigurations as Record<string, Record<string, unknown>>;
    }
  }
  const testCommand = o.testCommand ?? 'go test -count=1 ./...';
  if (typeof testCommand !== 'string' || !testCommand.trim()) problems.push('testCommand must be a non-empty command.');

  if (problems.length) throw new PluginOptionsError(problems);

  const allPlatforms = platforms.includes(imagePlatform) ? [...platforms] : [...platforms, imagePlatform];
  return {
    targetNames,
    platforms: allPlatforms,
    imagePlatform,
    buildOptions,
    testCommand,
    imageOptions,
    deployOptions,
    deployConfigurations,
    undeployOptions,
    outputDir: nxGo ? 'dist/nx-swarm/{projectRoot}' : 'dist/{projectRoot}',
  };
}

/** The goBuild/goTest named inputs; defined on the project when the workspace doesn't define them in nx.json (goNamedInputs). */
export const GO_BUILD_INPUTS = [
  '{projectRoot}/**/*.go',
  '!{projectRoot}/**/*_test.go',
  '{projectRoot}/go.mod',
  '{projectRoot}/go.sum',
  '{workspaceRoot}/go.work',
  '{workspaceRoot}/go.work.sum',
  { runtime: 'go env GOVERSION' },
  ...['GOFLAGS', 'GOEXPERIMENT', 'GOTOOLCHAIN', 'GOPROXY', 'GOPRIVATE', 'GOAMD64', 'GOARM64', 'CC', 'CGO_CFLAGS', 'CGO_LDFLAGS'].map((env) => ({
    env,
  })),
];

/**
 * What of a Go module goes into the binaries that import it: its non-test Go files, go.mod and go.sum.
 * Every Go project gets it as its own `production` named input, so a dependent's `^production` (the
 * inferred build's and test's inputs) hashes a library's code but not its `_test.go` files.
 */
export const GO_PRODUCTION_INPUTS = ['{projectRoot}/**/*.go', '!{projectRoot}/**/*_test.go', '{projectRoot}/go.mod', '{projectRoot}/go.sum'];

export const GO_TEST_INPUTS = [
  '{projectRoot}/**/*.go',
  '{projectRoot}/go.mod',
  '{projectRoot}/go.sum',
  '{workspaceRoot}/go.work',
  { runtime: 'go env GOVERSION' },
  { env: 'GOFLAGS' },
  { env: 'GOEXPERIMENT' },
];

export interface ServiceFacts {
  /** Project root relative to the workspace root, posix ("apps/quotes-service"). */
  projectRoot: string;
  /** Is there a project.json beside the go.mod? (Then it names the project, and its targets win.) */
  hasProjectJson: boolean;
  /** The project's name: project.json's "name", else the folder name (see projectNameFor). */
  projectName: string;
  /** Named inputs defined in nx.json. */
  namedInputs: Record<string, unknown>;
  /** Targets of the project.json, if any (they win over inferred ones; see inferGoServiceProject). */
  explicitTargets?: Record<string, TargetConfiguration>;
  /** project.json's implicitDependencies (their production files are build inputs too). */
  implicitDependencies?: string[];
  /** What the Go graph found in go.mod / go.work (module path, diagnostics); see go-graph/resolver.ts. */
  goModule?: GoModuleFacts;
}

export interface GoModuleFacts {
  /** The `module` path of go.mod. */
  path?: string;
  /** Findings that name a go.mod/go.work line: replaces Nx can't hash, requires taken from the proxy. */
  diagnostics: Pick<GoGraphDiagnostic, 'kind' | 'file' | 'line' | 'unhashable' | 'message'>[];
  /**
   * The workspace Go modules (project names) that the module's binaries compile in: imports of its
   * non-test files, transitively. undefined: not known (then the build hashes ^production).
   */
  buildDeps?: string[];
  /**
   * The workspace Go modules (project names) that `go test ./...` and `go vet ./...` of the module
   * compile in: imports of all its files, test files too, then those modules' buildDeps. undefined:
   * not known (then test and vet hash ^production, or ^default without nx.json's production).
   */
  testDeps?: string[];
}

/** Name of an inferred project without project.json: its folder name ("apps/quotes-service" → "quotes-service"). */
export function projectNameFor(projectRoot: string): string {
  const parts = projectRoot.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? projectRoot;
}

/** Should this go.mod be looked at at all? Go's testdata, vendored and node_modules trees are not services. */
export function isCandidateGoMod(goModPath: string): boolean {
  const segments = goModPath.split('/');
  return !segments.some((s) => s === 'testdata' || s === 'vendor' || s === 'node_modules');
}

function runCommandOf(t: TargetConfiguration): string | undefined {
  if (t.command !== undefined) return String(t.command);
  const o = t.options as { command?: unknown; commands?: unknown[] } | undefined;
  if (o?.command !== undefined) return String(o.command);
  if (Array.isArray(o?.commands)) return o.commands.map((c) => (typeof c === 'string' ? c : (c as { command?: string })?.command)).join(' && ');
  return undefined;
}

/**
 * Does a project.json target replace the inferred one instead of refining it? Mirrors Nx's rule:
 * another executor, or a run-commands target with another command.
 */
export function replacesInferredTarget(explicit: TargetConfiguration, inferred: TargetConfiguration): boolean {
  const executor = explicit.command !== undefined ? 'nx:run-commands' : explicit.executor;
  if (executor !== undefined && executor !== inferred.executor) return true;
  if (inferred.executor === 'nx:run-commands') {
    const a = runCommandOf(explicit);
    const b = runCommandOf(inferred);
    return a !== undefined && b !== undefined && a !== b;
  }
  return false;
}

function runHelp(project: string, target: string, example: Record<string, unknown>): TargetConfiguration['metadata'] {
  return {
    help: {
      // Nx doesn't resolve tokens in metadata, so the real name goes in.
      command: `npx nx run ${project}:${target} --help`,
      example: { options: example },
    },
  };
}

/**
 * The project's own named inputs: `production` always (what a dependent's build hashes of it), and
 * goBuild / goTest where nx.json has none, so that every target names its input instead of carrying
 * the list: 17 entries per target on 200 projects are about a sixth of the graph Nx merges, caches
 * and sends on every daemon recomputation. The same lists, so the same hashes.
 */
function goNamedInputs(facts: ServiceFacts, needs: ('goBuild' | 'goTest')[]): NonNullable<ProjectConfiguration['namedInputs']> {
  const own: NonNullable<ProjectConfiguration['namedInputs']> = { production: GO_PRODUCTION_INPUTS };
  if (needs.includes('goBuild') && !('goBuild' in facts.namedInputs)) own.goBuild = GO_BUILD_INPUTS;
  if (needs.includes('goTest') && !('goTest' in facts.namedInputs)) own.goTest = GO_TEST_INPUTS;
  return own;
}

function depsInput(namedInputs: Record<string, unknown>): string {
  return 'production' in namedInputs ? '^production' : '^default';
}

/**
 * What of other projects a target hashes, given the Go modules it compiles in (`deps`): the
 * build's buildDeps (the closure over non-test imports; a library imported only by `_test.go` files
 * is not among them), test's and vet's testDeps (test files' imports too, so a library's own tests,
 * README or project.json rerun no dependent's tests). Their production files, and those of
 * project.json's implicit dependencies. Without the Go graph's closure: ^production (every
 * dependency, conservative), or ^default when nx.json has no production input. The modules of the
 * closure are Go projects, each with its own `production` input (GO_PRODUCTION_INPUTS), whether
 * nx.json defines one or not; an implicit dependency may be any project, which has a `production`
 * input only when nx.json defines one (Nx fails a hash whose named input a project lacks), so it
 * gets `default` otherwise.
 */
function depsInputs(facts: ServiceFacts, deps: string[] | undefined): (string | { input: string; projects: string[] })[] {
  if (deps === undefined) return [depsInput(facts.namedInputs)];
  const goDeps = [...new Set(deps)].sort();
  const others = [...new Set(facts.implicitDependencies ?? [])].filter((p) => !goDeps.includes(p)).sort();
  const othersInput = 'production' in facts.namedInputs ? 'production' : 'default';
  if (othersInput === 'production') {
    const projects = [...goDeps, ...others].sort();
    return projects.length ? [{ input: 'production', projects }] : [];
  }
  return [
    ...(goDeps.length ? [{ input: 'production', projects: goDeps }] : []),
    ...(others.length ? [{ input: othersInput, projects: others }] : []),
  ];
}

/** Replaces in go.mod/go.work that Nx can't hash: the Go targets that read them are never cached. */
function uncacheableBecause(facts: ServiceFacts): string | undefined {
  const bad = facts.goModule?.diagnostics.filter((d) => d.unhashable) ?? [];
  return bad.length ? bad.map((d) => `${d.file}:${d.line}`).join(', ') : undefined;
}

function goModuleMetadata(facts: ServiceFacts): Record<string, unknown> {
  if (!facts.goModule) return {};
  const { path: modulePath, diagnostics } = facts.goModule;
  return {
    goModule: { ...(modulePath ? { path: modulePath } : {}), ...(diagnostics.length ? { warnings: diagnostics.map((d) => d.message) } : {}) },
  };
}

/** test, vet and tidy: the targets every Go module gets, library or service. */
function goModuleTargets(facts: ServiceFacts, opts: NormalizedPluginOptions): Record<string, TargetConfiguration> {
  const names = opts.targetNames;
  const targets: Record<string, TargetConfiguration> = {};
  const uncacheable = uncacheableBecause(facts);
  const testInputs = ['goTest', ...depsInputs(facts, facts.goModule?.testDeps)];
  const notCachedNote = uncacheable ? ` (not cached: a replace Nx can't hash, ${uncacheable})` : '';
  if (names.test) {
    targets[names.test] = {
      executor: 'nx:run-commands',
      cache: !uncacheable,
      inputs: testInputs,
      options: { command: opts.testCommand, cwd: '{projectRoot}', env: { GOTOOLCHAIN: 'local' } },
      metadata: {
        description: `Run the Go tests (${opts.testCommand})${notCachedNote}`,
        technologies: ['go'],
        help: { command: 'go help test', example: { options: { args: ['-run', 'TestHealth', '-v'] } } },
      },
    };
  }
  if (names.vet) {
    targets[names.vet] = {
      executor: 'nx:run-commands',
      cache: !uncacheable,
      inputs: testInputs,
      options: { command: 'go vet ./...', cwd: '{projectRoot}', env: { GOTOOLCHAIN: 'local' } },
      metadata: {
        description: `Report suspicious constructs (go vet ./...)${notCachedNote}`,
        technologies: ['go'],
        help: { command: 'go help vet', example: { options: { args: ['-json'] } } },
      },
    };
  }
  if (names.tidy) {
    targets[names.tidy] = {
      executor: `${PLUGIN_NAME}:go-tidy`,
      // It writes go.mod/go.sum; a cached "tidy" would skip the write.
      cache: false,
      options: {},
      configurations: { check: { check: true } },
      metadata: {
        description: 'go mod tidy; with --check (or -c check) fail when go.mod/go.sum would change, for CI',
        technologies: ['go'],
        ...runHelp(facts.projectName, names.tidy, { check: true }),
      },
    };
  }
  return targets;
}

/** Drops inferred metadata where project.json replaces a target (see inferGoServiceProject). */
function yieldToProjectJson(targets: Record<string, TargetConfiguration>, facts: ServiceFacts): void {
  // project.json wins, but Nx still merges metadata into a target it replaced, and concatenates
  // metadata arrays. So: no inferred metadata at all on a target project.json replaces (another
  // executor or command: our help would describe the wrong thing), and technologies left to
  // project.json where it sets them (no "go" twice in Nx Console).
  for (const [name, target] of Object.entries(targets)) {
    const explicit = facts.explicitTargets?.[name];
    if (!explicit) continue;
    if (replacesInferredTarget(explicit, target)) delete target.metadata;
    else if (explicit.metadata?.technologies && target.metadata) delete target.metadata.technologies;
  }
}

/** The inferred project fragment for a Go library module (a go.mod with no Dockerfile beside it). */
export function inferGoLibraryProject(facts: ServiceFacts, opts: NormalizedPluginOptions): Omit<ProjectConfiguration, 'root'> & { root: string } {
  const targets = goModuleTargets(facts, opts);
  yieldToProjectJson(targets, facts);
  const names = opts.targetNames;
  return {
    root: facts.projectRoot,
    ...(facts.hasProjectJson ? {} : { name: facts.projectName }),
    projectType: 'library',
    namedInputs: goNamedInputs(facts, names.test || names.vet ? ['goTest'] : []),
    targets,
    metadata: {
      technologies: ['go'],
      targetGroups: { 'Go module (nx-swarm)': [names.test, names.vet, names.tidy].filter((n): n is string => Boolean(n && targets[n])) },
      ...goModuleMetadata(facts),
    },
  };
}

/** The inferred project fragment for one Go service. */
export function inferGoServiceProject(facts: ServiceFacts, opts: NormalizedPluginOptions): Omit<ProjectConfiguration, 'root'> & { root: string } {
  const { projectRoot } = facts;
  const names = opts.targetNames;
  const targets: Record<string, TargetConfiguration> = {};
  const binary = binaryFileName('{projectName}', parseTarget(opts.imagePlatform));
  const buildInputs = ['goBuild', ...depsInputs(facts, facts.goModule?.buildDeps)];
  const uncacheable = uncacheableBecause(facts);

  if (names.build) {
    targets[names.build] = {
      executor: `${PLUGIN_NAME}:go-cross-build`,
      cache: !uncacheable,
      inputs: buildInputs,
      outputs: ['{options.outputPath}'],
      options: { outputPath: opts.outputDir, targets: opts.platforms, ...opts.buildOptions },
      metadata: {
        description:
          `Cross-compile the Go service (static, reproducible) for ${opts.platforms.join(', ')} into ${opts.outputDir}` +
          (uncacheable ? ` (not cached: a replace Nx can't hash, ${uncacheable})` : ''),
        technologies: ['go'],
        ...runHelp(facts.projectName, names.build, { targets: ['linux/amd64', 'linux/arm64'], ldflags: '-s -w -X main.version=1.2.3' }),
      },
    };
  }

  Object.assign(targets, goModuleTargets(facts, opts));

  if (names.serve) {
    targets[names.serve] = {
      executor: `${PLUGIN_NAME}:go-serve`,
      continuous: true,
      options: {},
      metadata: {
        description: 'Run the service on this machine (go build + run), rebuilt and restarted when its Go code or a library it imports changes',
        technologies: ['go'],
        ...runHelp(facts.projectName, names.serve, { args: ['-port', '8080'], env: { LOG_LEVEL: 'debug' } }),
      },
    };
  }

  if (names.image && names.build) {
    targets[names.image] = {
      executor: `${PLUGIN_NAME}:docker-image`,
      dependsOn: [names.build],
      // Cacheable: the executor's hasher adds what the engine holds for the project now, so a removed
      // or retagged image misses (lib/docker/engine-state-hasher.ts).
      cache: true,
      // Every linux binary: a multi-platform image index holds them all.
      inputs: ['default', { dependentTasksOutputFiles: '**/*-linux-*', transitive: false }],
      // The receipt swarm-deploy reads, and its run-independent part (the deploy's cache input).
      outputs: [`{workspaceRoot}/${opts.outputDir}/image.json`, `{workspaceRoot}/${opts.outputDir}/image-id.json`],
      options: {
        files: [{ from: `${opts.outputDir}/${binary}`, to: binary }],
        ...(opts.outputDir !== DEFAULT_OUTPUT_DIR ? { outputDir: opts.outputDir } : {}),
        ...opts.imageOptions,
      },
      metadata: {
        description: `Build the service's Docker image from {projectRoot}/Dockerfile with the ${opts.imagePlatform} binary (content-addressed; skipped when it exists)`,
        technologies: ['docker'],
        ...runHelp(facts.projectName, names.image, { push: true, registry: '127.0.0.1:5000', tags: ['latest', '1.2.3'] }),
      },
    };
  }

  if (names.deploy && names.image && names.build) {
    targets[names.deploy] = {
      executor: `${PLUGIN_NAME}:swarm-deploy`,
      dependsOn: [names.image],
      // Cacheable like the image: the options, the image receipt, and (the executor's hasher) the
      // service's state now (version, update state, running tasks) with the files and variables the
      // last deploy read.
      cache: true,
      inputs: [{ dependentTasksOutputFiles: '**/image-id.json', transitive: false }],
      outputs: [`{workspaceRoot}/${opts.outputDir}/deploy.json`],
      options: { ...(opts.outputDir !== DEFAULT_OUTPUT_DIR ? { outputDir: opts.outputDir } : {}), ...opts.deployOptions },
      ...(Object.keys(opts.deployConfigurations).length ? { configurations: structuredClone(opts.deployConfigurations) } : {}),
      metadata: {
        description: 'Create or update the swarm service from the image and wait until the new version serves',
        technologies: ['docker'],
        ...runHelp(facts.projectName, names.deploy, { replicas: 2, ports: [{ target: 8080, published: 8080 }], networks: ['my_network'] }),
      },
    };
  }

  if (names.rollback && targets[names.deploy || '']) {
    targets[names.rollback] = {
      executor: `${PLUGIN_NAME}:swarm-rollback`,
      cache: false,
      options: opts.outputDir !== DEFAULT_OUTPUT_DIR ? { outputDir: opts.outputDir } : {},
      metadata: {
        description: 'Return the swarm service to a recorded release (--to N; --list prints the history), verified like a deploy; builds nothing',
        technologies: ['docker'],
        ...runHelp(facts.projectName, names.rollback, { to: 2 }),
      },
    };
  }

  if (names.undeploy) {
    targets[names.undeploy] = {
      executor: `${PLUGIN_NAME}:swarm-service-rm`,
      cache: false,
      options: { ...opts.undeployOptions },
      metadata: {
        description: 'Remove the swarm service and wait until its tasks are gone',
        technologies: ['docker'],
        ...runHelp(facts.projectName, names.undeploy, {}),
      },
    };
  }

  yieldToProjectJson(targets, facts);

  const groupOrder = [names.build, names.test, names.vet, names.tidy, names.serve, names.image, names.deploy, names.rollback, names.undeploy];
  return {
    root: projectRoot,
    ...(facts.hasProjectJson ? {} : { name: facts.projectName }),
    projectType: 'application',
    namedInputs: goNamedInputs(facts, [...(names.build ? ['goBuild' as const] : []), ...(names.test || names.vet ? ['goTest' as const] : [])]),
    targets,
    metadata: {
      technologies: ['go', 'docker'],
      targetGroups: { 'Go service (nx-swarm)': groupOrder.filter((n): n is string => Boolean(n && targets[n])) },
      ...goModuleMetadata(facts),
    },
  };
}
