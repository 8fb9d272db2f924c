import type { ServeOptions } from '../../lib/go/serve-plan';

/** The executor's options; see schema.json for descriptions and defaults. */
export type GoServeExecutorSchema = ServeOptions;
