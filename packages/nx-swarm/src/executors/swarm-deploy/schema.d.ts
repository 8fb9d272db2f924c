import type { SwarmDeployOptions } from '../../lib/swarm/options';

/** Options of the swarm-deploy executor (see schema.json for defaults and examples). */
export type SwarmDeployExecutorSchema = SwarmDeployOptions;
