import type { RollbackOptions } from '../../lib/swarm/rollback';

/** Options of the swarm-rollback executor (see schema.json for defaults). */
export type SwarmRollbackExecutorSchema = RollbackOptions;
