export * from './lib/go/cross-build-plan';
// The project-graph plugin (nx.json "plugins": ["nx-swarm"]): infers build/test/image/deploy/undeploy
// for every go.mod with a Dockerfile beside it.
export { createNodes, createNodesV2 } from './plugins/plugin';
export type { NxSwarmPluginOptions } from './plugins/plugin';
