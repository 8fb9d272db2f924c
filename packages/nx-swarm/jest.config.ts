/* Unit tests: table-driven, no daemon, no network. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const preset = require('./jest.preset.js');
export default {
  ...preset,
  displayName: 'nx-swarm',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/packages/nx-swarm',
};
