/*
 * The integration suite runs in two lanes at once (`nx run nx-swarm:integration`, parallel 2):
 *
 * - host (jest.integration.config.ts): this machine's own Docker Engine, swarm, registries and
 *   ports. One file at a time: they share that engine.
 * - lab (jest.lab.config.ts): the files below, which talk only to tools/swarm-lab's engines (one
 *   dockerd per network namespace, its registry, sshd and TLS front door) and bring the lab up and
 *   down themselves. Also one file at a time: they share the lab.
 *
 * The two lanes share no engine, no service, no port and no HOME, so neither can see the other's
 * work; they only share the 2 cores, and no test depends on absolute timing.
 */
const LAB_FILES = ['<rootDir>/test/lab/**/*.int.spec.ts', '<rootDir>/test/remote-engine.int.spec.ts'];
/** The same files as testPathIgnorePatterns (regular expressions over the path) for the host lane. */
const LAB_PATHS = ['<rootDir>/test/lab/', '<rootDir>/test/remote-engine\\.int\\.spec\\.ts$'];

module.exports = { LAB_FILES, LAB_PATHS };
