export interface InitGeneratorSchema {
  /** Register the plugin in nx.json (default true unless NX_ADD_PLUGINS=false). */
  addPlugin?: boolean;
  /** go.mod globs the plugin ignores (default ["**\/test/fixtures/**"]). */
  exclude?: string[];
  skipFormat?: boolean;
}
