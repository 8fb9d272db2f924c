import type { TidyOptions } from '../../lib/go/tidy';

/** The executor's options; see schema.json for descriptions and defaults. */
export type GoTidyExecutorSchema = TidyOptions;
