export * from './lib/go/cross-build-plan';
// The project-graph plugin (nx.json "plugins": ["nx-swarm"]): every go.mod is a project (services with a
// Dockerfile get build → image → deploy), and Go imports become dependencies between them.
export { createDependencies, createNodes, createNodesV2 } from './plugins/plugin';
export type { NxSwarmPluginOptions } from './plugins/plugin';
