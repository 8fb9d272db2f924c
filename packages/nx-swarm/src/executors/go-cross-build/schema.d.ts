import type { CrossBuildOptions } from '../../lib/go/cross-build-plan';

/** The executor's options are the cross-build plan's options; see schema.json for descriptions. */
export type GoCrossBuildExecutorSchema = CrossBuildOptions;
