/**
 * nx g nx-swarm:init — registers the plugin in nx.json and adds the goBuild/goTest named inputs.
 * Idempotent: an existing plugin entry (string or object, any options) and existing named inputs
 * are left exactly as they are.
 */
import { formatFiles, logger, readNxJson, updateNxJson, type NxJsonConfiguration, type Tree } from '@nx/devkit';
import { GO_BUILD_INPUTS, GO_TEST_INPUTS, PLUGIN_NAME } from '../../plugins/go-service-targets';
import type { InitGeneratorSchema } from './schema';

export const DEFAULT_EXCLUDE = ['**/test/fixtures/**'];

export interface InitPlan {
  nxJson: NxJsonConfiguration;
  /** What changed, for people ("registered the nx-swarm plugin", …); empty when nothing did. */
  changes: string[];
}

type PluginEntry = NonNullable<NxJsonConfiguration['plugins']>[number];

function isNxSwarmEntry(entry: PluginEntry): boolean {
  return typeof entry === 'string' ? entry === PLUGIN_NAME : entry?.plugin === PLUGIN_NAME;
}

/** Should the plugin entry be added? --addPlugin wins; else NX_ADD_PLUGINS=false turns it off. */
export function shouldAddPlugin(options: Pick<InitGeneratorSchema, 'addPlugin'>, env: Record<string, string | undefined>): boolean {
  if (options.addPlugin !== undefined) return options.addPlugin;
  return env.NX_ADD_PLUGINS !== 'false';
}

/** nx.json → nx.json with the plugin and named inputs. Pure; returns a new object. */
export function planInit(nxJson: NxJsonConfiguration, options: InitGeneratorSchema & { addPlugin: boolean }): InitPlan {
  const next: NxJsonConfiguration = structuredClone(nxJson);
  const changes: string[] = [];

  if (options.addPlugin) {
    const plugins = next.plugins ?? [];
    if (!plugins.some(isNxSwarmEntry)) {
      const exclude = options.exclude ?? DEFAULT_EXCLUDE;
      next.plugins = [...plugins, exclude.length ? { plugin: PLUGIN_NAME, exclude } : PLUGIN_NAME];
      changes.push(`registered the ${PLUGIN_NAME} plugin in nx.json${exclude.length ? ` (excluding ${exclude.join(', ')})` : ''}`);
    }
  }

  const namedInputs = { ...(next.namedInputs ?? {}) };
  let addedInputs = false;
  for (const [name, inputs] of [
    ['goBuild', GO_BUILD_INPUTS],
    ['goTest', GO_TEST_INPUTS],
  ] as const) {
    if (!(name in namedInputs)) {
      namedInputs[name] = structuredClone(inputs) as NonNullable<NxJsonConfiguration['namedInputs']>[string];
      changes.push(`added the ${name} named input`);
      addedInputs = true;
    }
  }
  if (addedInputs) next.namedInputs = namedInputs;
  return { nxJson: next, changes };
}

export async function initGenerator(tree: Tree, options: InitGeneratorSchema = {}) {
  const nxJson = readNxJson(tree);
  if (!nxJson) {
    throw new Error('No nx.json at the workspace root: run this inside an Nx workspace (npx create-nx-workspace, or npx nx init).');
  }
  const plan = planInit(nxJson, { ...options, addPlugin: shouldAddPlugin(options, process.env) });
  if (plan.changes.length === 0) {
    logger.info(`${PLUGIN_NAME}: nx.json already has the plugin and the Go named inputs; nothing to do.`);
    return () => undefined;
  }
  updateNxJson(tree, plan.nxJson);
  for (const c of plan.changes) logger.info(`${PLUGIN_NAME}: ${c}`);
  if (!options.skipFormat) await formatFiles(tree);
  return () => undefined;
}

export default initGenerator;
