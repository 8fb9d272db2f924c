/*
 * Integration tests, host lane: this machine's own Docker Engine, swarm, registries and Go
 * toolchain (started by tools/bootstrap.sh). They run one file at a time (`runInBand`): they share
 * one engine and ports. The files that use only the lab's engines run in a lane of their own
 * (jest.lab.config.ts, jest.lanes.js), beside this one.
 */

const preset = require('./jest.preset.js');
const { LAB_PATHS } = require('./jest.lanes.js');
export default {
  ...preset,
  displayName: 'nx-swarm:integration',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.int.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...LAB_PATHS],
  testTimeout: 300_000,
};
