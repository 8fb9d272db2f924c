/*
 * Integration tests: the real Docker Engine, swarm, registry and Go toolchain (started by
 * tools/bootstrap.sh). They run one file at a time (`runInBand`): they share one engine and ports.
 */

const preset = require('./jest.preset.js');
export default {
  ...preset,
  displayName: 'nx-swarm:integration',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.int.spec.ts'],
  testTimeout: 300_000,
};
