/**
 * nx g nx-swarm:go-service NAME — a Go HTTP service that builds, images and deploys with no further
 * edits. Options are checked up front by a pure function (every problem at once, in words for
 * people); files are generated only where missing, so a second run changes nothing and never
 * overwrites an edited file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  addProjectConfiguration,
  formatFiles,
  generateFiles,
  getProjects,
  logger,
  OverwriteStrategy,
  readNxJson,
  type NxJsonConfiguration,
  type ProjectConfiguration,
  type TargetConfiguration,
  type Tree,
} from '@nx/devkit';
import { inferGoServiceProject, normalizePluginOptions, PLUGIN_NAME, type NxSwarmPluginOptions } from '../../plugins/go-service-targets';
import { initGenerator, shouldAddPlugin } from '../init/generator';
import { parseGoMod, parseGoWork } from '../../plugins/go-graph/go-mod';
import type { GoServiceGeneratorSchema } from './schema';

export const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MODULE_RE = /^[A-Za-z0-9][A-Za-z0-9._~-]*(\/[A-Za-z0-9._~-]+)*$/;
const GO_VERSION_RE = /^1\.(2[2-9]|[3-9][0-9])(\.[0-9]+)?$/;
const TAG_RE = /^[^\s,]+$/;

export interface NormalizedGoService {
  name: string;
  projectRoot: string;
  port: number;
  publishedPort?: number;
  module: string;
  goVersion: string;
  tags: string[];
  /** The project already exists at projectRoot (a re-run): keep its project.json as it is. */
  exists: boolean;
  /** No shared module: the service carries its own health check and drain. */
  standalone: boolean;
  /** The shared Go module the service imports (unless standalone). */
  commonDirectory: string;
  commonModule: string;
  /** commonDirectory relative to projectRoot, for go.mod's replace. */
  commonRelative: string;
}

export interface WorkspaceFacts {
  /** Existing projects with a project.json: name → root. */
  projects: Record<string, string>;
  /** A file's text, or undefined when there is none (go.mod of the shared module). */
  read?: (file: string) => string | undefined;
  /** Files directly in a folder ([] when empty, undefined when there is no such folder). */
  children: (dir: string) => string[] | undefined;
}

/** Thrown with every problem in the options, each with what to do about it. */
export class GoServiceOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Can't generate the Go service:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'GoServiceOptionsError';
  }
}

function portProblem(what: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535
    ? undefined
    : `${what} must be a whole number from 1 to 65535, got ${JSON.stringify(v)}.`;
}

/** Options + what the workspace holds → the service to generate. Pure; throws GoServiceOptionsError. */
export function normalizeGoServiceOptions(options: GoServiceGeneratorSchema, facts: WorkspaceFacts): NormalizedGoService {
  const problems: string[] = [];
  const name = typeof options.name === 'string' ? options.name.trim() : '';
  if (!NAME_RE.test(name) || name.length > 63) {
    problems.push(
      `The name ${JSON.stringify(options.name ?? '')} can't be used: it names the swarm service (a DNS name on the overlay network), ` +
        `the image repository and the binary, so use lowercase letters, digits and single hyphens, starting with a letter, ` +
        `at most 63 characters (e.g. quotes-service).`,
    );
  }

  const rawDir = (options.directory ?? `apps/${name}`).trim().replace(/\\/g, '/');
  const projectRoot = path.posix.normalize(rawDir).replace(/\/+$/, '');
  if (path.posix.isAbsolute(rawDir) || projectRoot === '.' || projectRoot === '' || projectRoot.split('/').includes('..')) {
    problems.push(
      `directory ${JSON.stringify(options.directory)} must be a folder inside the workspace, relative to its root (e.g. apps/${name || 'my-service'}).`,
    );
  }

  let exists = false;
  if (name && facts.projects[name] !== undefined) {
    if (facts.projects[name] === projectRoot) exists = true;
    else problems.push(`A project named "${name}" already exists in ${facts.projects[name]}. Choose another name, or remove that project first.`);
  }
  const owner = Object.entries(facts.projects).find(([n, root]) => root === projectRoot && n !== name);
  if (owner) problems.push(`${projectRoot} is already the project "${owner[0]}". Choose another --directory.`);
  const entries = facts.children(projectRoot);
  if (!exists && !owner && entries && entries.length > 0) {
    problems.push(
      `${projectRoot} already exists and holds files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) but is not the project "${name}". ` +
        `Choose another --directory, or move those files away.`,
    );
  }

  const port = options.port ?? 8080;
  for (const p of [portProblem('port', port), portProblem('publishedPort', options.publishedPort)]) if (p) problems.push(p);

  const module = (options.module ?? `example.com/${name}`).trim();
  if (!MODULE_RE.test(module) || module.split('/').some((e) => e === '.' || e === '..')) {
    problems.push(
      `module ${JSON.stringify(module)} is not a Go module path: use slash-separated elements of letters, digits, ".", "_", "~", "-" (e.g. github.com/acme/${name || 'svc'}).`,
    );
  }
  const goVersion = (options.goVersion ?? '1.22').trim();
  if (!GO_VERSION_RE.test(goVersion)) {
    problems.push(
      `goVersion ${JSON.stringify(goVersion)} must be a Go release of 1.22 or later, like 1.22 or 1.25.0 (the code uses ServeMux method patterns).`,
    );
  }
  const extraTags = (options.tags ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const badTag = extraTags.find((t) => !TAG_RE.test(t));
  if (badTag) problems.push(`tag ${JSON.stringify(badTag)} can't contain spaces.`);

  const standalone = options.standalone ?? false;
  const commonDirectory = path.posix.normalize((options.commonDirectory ?? 'libs/go/common').trim().replace(/\\/g, '/')).replace(/\/+$/, '');
  if (!standalone && (path.posix.isAbsolute(commonDirectory) || commonDirectory.split('/').includes('..') || commonDirectory === '.')) {
    problems.push(`commonDirectory ${JSON.stringify(options.commonDirectory)} must be a folder inside the workspace (e.g. libs/go/common).`);
  }
  const existingCommon = facts.read?.(`${commonDirectory}/go.mod`);
  const existingModule = existingCommon === undefined ? undefined : parseGoMod(existingCommon).module?.path;
  if (!standalone && existingCommon !== undefined && !existingModule) {
    problems.push(`${commonDirectory}/go.mod has no module line; fix it, or pass --standalone.`);
  }
  const commonModule = existingModule ?? (options.commonModule ?? (module.includes('/') ? `${path.posix.dirname(module)}/common` : 'common')).trim();
  if (!standalone && !MODULE_RE.test(commonModule)) problems.push(`commonModule ${JSON.stringify(commonModule)} is not a Go module path.`);

  if (problems.length) throw new GoServiceOptionsError(problems);
  return {
    name,
    projectRoot,
    port,
    ...(options.publishedPort !== undefined ? { publishedPort: options.publishedPort } : {}),
    module,
    goVersion,
    tags: [...new Set(['lang:go', 'type:service', ...extraTags])],
    exists,
    standalone,
    commonDirectory,
    commonModule,
    commonRelative: path.posix.relative(projectRoot, commonDirectory),
  };
}

function goVersionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  return true;
}

/**
 * go.work with `use` lines for the given folders: added to an existing go.work (inside its use block
 * when it has one), or a new go.work that uses every Go module project of the workspace (a go.work
 * that leaves one out breaks go commands there). Pure: text in, text out; undefined when nothing changes.
 */
export function goWorkWith(existing: string | undefined, uses: string[], allModules: { root: string; go?: string }[]): string | undefined {
  const line = (dir: string) => `./${dir}`;
  if (existing === undefined) {
    const roots = [...new Set([...allModules.map((m) => m.root), ...uses])].sort();
    const go = allModules
      .map((m) => m.go)
      .filter((v): v is string => Boolean(v))
      .reduce((max, v) => (goVersionAtLeast(v, max) ? v : max), '1.22');
    return `go ${go}\n\nuse (\n${roots.map((r) => `\t${line(r)}\n`).join('')})\n`;
  }
  const work = parseGoWork(existing);
  const have = new Set(work.uses.map((u) => path.posix.normalize(u.dir)));
  const missing = uses.filter((u) => !have.has(path.posix.normalize(u)) && !have.has(line(u)) && !have.has(path.posix.normalize(line(u))));
  if (missing.length === 0) return undefined;
  const lines = existing.split('\n');
  const open = lines.findIndex((l) => /^use\s*\(\s*(\/\/.*)?$/.test(l.trim()));
  if (open >= 0) {
    const close = lines.findIndex((l, i) => i > open && l.trim().startsWith(')'));
    lines.splice(close, 0, ...missing.map((m) => `\t${line(m)}`));
    return lines.join('\n');
  }
  return `${existing.replace(/\n*$/, '\n')}\n${missing.map((m) => `use ${line(m)}`).join('\n')}\n`;
}

/** The nx-swarm entry of nx.json's plugins, if registered. */
export function pluginEntry(nxJson: NxJsonConfiguration | null): { options: NxSwarmPluginOptions } | undefined {
  for (const entry of nxJson?.plugins ?? []) {
    if (entry === PLUGIN_NAME) return { options: {} };
    if (typeof entry === 'object' && entry?.plugin === PLUGIN_NAME) return { options: (entry.options ?? {}) as NxSwarmPluginOptions };
  }
  return undefined;
}

/**
 * The project.json for a new service. With the plugin registered it holds only what inference can't
 * know (a published port); without it, every target explicitly.
 */
export function projectConfigurationFor(
  s: NormalizedGoService,
  ctx: { plugin?: { options: NxSwarmPluginOptions }; namedInputs: Record<string, unknown>; localPluginProject: boolean },
): ProjectConfiguration {
  const pluginOptions = normalizePluginOptions(ctx.plugin?.options);
  const deployName = pluginOptions.targetNames.deploy;
  let targets: Record<string, TargetConfiguration> = {};
  let namedInputs: ProjectConfiguration['namedInputs'];
  if (!ctx.plugin) {
    const inferred = inferGoServiceProject(
      { projectRoot: s.projectRoot, projectName: s.name, hasProjectJson: true, namedInputs: ctx.namedInputs },
      pluginOptions,
    );
    targets = inferred.targets!;
    namedInputs = inferred.namedInputs;
  }
  if (s.publishedPort !== undefined && deployName) {
    const port = { target: s.port, published: s.publishedPort };
    const base = targets[deployName] ?? {};
    targets[deployName] = {
      ...base,
      options: { ...(base.options ?? {}), ports: [port] },
      configurations: {
        ...(base.configurations ?? {}),
        host: { ...(base.configurations?.host ?? {}), endpointMode: 'dnsrr', ports: [{ ...port, mode: 'host' }] },
      },
    };
  }
  return {
    name: s.name,
    root: s.projectRoot,
    sourceRoot: s.projectRoot,
    projectType: 'application',
    tags: s.tags,
    ...(namedInputs ? { namedInputs } : {}),
    targets,
    ...(ctx.localPluginProject ? { implicitDependencies: [PLUGIN_NAME] } : {}),
  };
}

export async function goServiceGenerator(tree: Tree, options: GoServiceGeneratorSchema) {
  const projects = getProjects(tree);
  const facts: WorkspaceFacts = {
    projects: Object.fromEntries([...projects].map(([name, p]) => [name, p.root])),
    children: (dir) => (tree.exists(dir) && !tree.isFile(dir) ? tree.children(dir) : undefined),
    read: (file) => (tree.exists(file) ? (tree.read(file, 'utf-8') ?? undefined) : undefined),
  };
  const service = normalizeGoServiceOptions(options, facts);

  await initGenerator(tree, { addPlugin: shouldAddPlugin(options, process.env), skipFormat: true });
  const nxJson = readNxJson(tree);

  const templates = path.join(__dirname, 'files');
  const missing = fs
    .readdirSync(templates)
    .map((f) => f.replace(/__tmpl__$/, ''))
    .filter((f) => !tree.exists(path.posix.join(service.projectRoot, f)));
  generateFiles(tree, templates, service.projectRoot, { ...service, tmpl: '' }, { overwriteStrategy: OverwriteStrategy.KeepExisting });

  if (!service.standalone) {
    if (!tree.exists(`${service.commonDirectory}/go.mod`)) {
      generateFiles(
        tree,
        path.join(__dirname, 'files-common'),
        service.commonDirectory,
        { ...service, tmpl: '' },
        { overwriteStrategy: OverwriteStrategy.KeepExisting },
      );
      logger.info(`${PLUGIN_NAME}: created the shared Go module ${service.commonModule} in ${service.commonDirectory}`);
    }
    const modules = [...projects.values()]
      .filter((p) => tree.exists(`${p.root}/go.mod`))
      .map((p) => ({ root: p.root, go: parseGoMod(tree.read(`${p.root}/go.mod`, 'utf-8') ?? '').go }));
    const work = goWorkWith(
      tree.exists('go.work') ? (tree.read('go.work', 'utf-8') ?? '') : undefined,
      [service.commonDirectory, service.projectRoot],
      [...modules, { root: service.projectRoot, go: service.goVersion }, { root: service.commonDirectory, go: service.goVersion }],
    );
    if (work !== undefined) tree.write('go.work', work);
  }

  if (service.exists) {
    logger.info(
      `${PLUGIN_NAME}: ${service.name} already exists in ${service.projectRoot}; ` +
        (missing.length ? `added the missing ${missing.join(', ')}; ` : 'no file was missing; ') +
        'existing files and project.json are kept as they are.',
    );
  } else {
    addProjectConfiguration(
      tree,
      service.name,
      projectConfigurationFor(service, {
        plugin: pluginEntry(nxJson),
        namedInputs: nxJson?.namedInputs ?? {},
        // In the plugin's own workspace the services depend on its source (a new plugin rebuilds them).
        localPluginProject: projects.has(PLUGIN_NAME),
      }),
    );
  }

  if (!options.skipFormat) await formatFiles(tree);
  return () => {
    if (!service.exists) {
      logger.info(
        `${PLUGIN_NAME}: created ${service.name} in ${service.projectRoot}. Next: nx run ${service.name}:deploy ` +
          `(build → image → deploy; add --configuration=host on engines without IPVS).`,
      );
    }
  };
}

export default goServiceGenerator;
