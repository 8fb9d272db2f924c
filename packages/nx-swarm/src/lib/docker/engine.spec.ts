import { daemonMessage, negotiateApiVersion } from './engine';

describe('negotiateApiVersion', () => {
  it.each([
    ['1.41', undefined, '1.41'],
    ['1.43', '1.12', '1.43'],
    ['1.52', '1.44', '1.47'],
    ['1.52', '1.48', '1.48'],
  ])('server %s (min %s) -> %s', (server, min, expected) => {
    expect(negotiateApiVersion(server, min)).toBe(expected);
  });
  it('refuses an engine that is too old', () => {
    expect(() => negotiateApiVersion('1.30')).toThrow(/older than 1.41/);
  });
});

describe('daemonMessage', () => {
  it.each([
    [{ json: { message: 'This node is not a swarm manager.' }, message: '(HTTP code 503) unexpected - This node is not a swarm manager.' }, 'This node is not a swarm manager.'],
    [{ message: '(HTTP code 404) no such image - No such image: x:y' }, 'No such image: x:y'],
    [new Error('connect ENOENT /var/run/docker.sock'), 'connect ENOENT /var/run/docker.sock'],
  ])('%#', (error, expected) => {
    expect(daemonMessage(error)).toBe(expected);
  });
});
