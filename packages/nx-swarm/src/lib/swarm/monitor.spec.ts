import { normalizeDeployOptions } from './deploy-options';
import { sizeMonitor } from './monitor';
import { SwarmDeployOptions } from './options';

describe('sizeMonitor', () => {
  const o = (x: SwarmDeployOptions = {}) => normalizeDeployOptions(x, { projectName: 'svc' });
  it.each<[string, SwarmDeployOptions, object | undefined, number]>([
    ['no health check: the flat 10 s', {}, undefined, 10e9],
    ['health check every 5 s: one interval', {}, { Test: ['CMD', 'x'], Interval: 5e9 }, 5e9],
    ['every 1 s: at least 2 s', {}, { Test: ['CMD', 'x'], Interval: 1e9 }, 2e9],
    ["the engine's default interval (30 s): at most 10 s", {}, { Test: ['CMD', 'x'] }, 10e9],
    ['set by the user: as set', { updateConfig: { monitor: '3s' } }, { Test: ['CMD', 'x'], Interval: 5e9 }, 3e9],
  ])('%s', (_n, options, hc, expected) => expect(sizeMonitor(o(options), hc)).toBe(expected));
});
