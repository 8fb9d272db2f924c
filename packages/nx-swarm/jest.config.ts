/* Unit tests: table-driven, no daemon, no network. */

const preset = require('./jest.preset.js');
export default {
  ...preset,
  displayName: 'nx-swarm',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/packages/nx-swarm',
};
