/*
 * Integration tests, lab lane: the files that talk only to tools/swarm-lab's engines (three nodes,
 * its registry, sshd and TLS front door; jest.lanes.js says why this lane can run beside the host
 * lane). One file at a time (`runInBand`): they share the lab.
 */

const preset = require('./jest.preset.js');
const { LAB_FILES } = require('./jest.lanes.js');
export default {
  ...preset,
  displayName: 'nx-swarm:lab',
  rootDir: __dirname,
  testMatch: LAB_FILES,
  testTimeout: 300_000,
};
