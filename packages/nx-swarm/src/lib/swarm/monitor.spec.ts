import { normalizeDeployOptions } from './deploy-options';
import { healthcheckOverride, sizeMonitor } from './monitor';
import { SwarmDeployOptions } from './options';

describe('sizeMonitor', () => {
  const o = (x: SwarmDeployOptions = {}) => normalizeDeployOptions(x, { projectName: 'svc' });
  it.each<[string, SwarmDeployOptions, object | undefined, number]>([
    ['no health check: the flat 10 s', {}, undefined, 10e9],
    ['health check every 5 s: one interval', {}, { Test: ['CMD', 'x'], Interval: 5e9 }, 5e9],
    ['every 1 s: at least 2 s', {}, { Test: ['CMD', 'x'], Interval: 1e9 }, 2e9],
    ["the engine's default interval (30 s): at most 10 s", {}, { Test: ['CMD', 'x'] }, 10e9],
    ['set by the user: as set', { updateConfig: { monitor: '3s' } }, { Test: ['CMD', 'x'], Interval: 5e9 }, 3e9],
    [
      'first probe after 1 s (StartInterval): 9 s, two intervals of uptime',
      {},
      { Test: ['CMD', 'x'], Interval: 5e9, StartPeriod: 5e9, StartInterval: 1e9 },
      9e9,
    ],
  ])('%s', (_n, options, hc, expected) => expect(sizeMonitor(o(options), hc)).toBe(expected));
});

describe('healthcheckOverride (StartInterval where the engine has it)', () => {
  const image = { Test: ['CMD', '/app', 'healthcheck'], Interval: 5e9, StartPeriod: 5e9 };
  it.each<[string, object | undefined, object | undefined, string | undefined, object | undefined]>([
    ['Engine 20.10 (API 1.41): unchanged', undefined, image, '1.41', undefined],
    ['API 1.44, start period: probe every second during it', undefined, image, '1.44', { StartInterval: 1e9 }],
    ['API 1.47, the option is kept', { Retries: 5 }, image, '1.47', { Retries: 5, StartInterval: 1e9 }],
    ['no start period: nothing to speed up', undefined, { ...image, StartPeriod: 0 }, '1.47', undefined],
    ['a StartInterval of its own wins', undefined, { ...image, StartInterval: 2e9 }, '1.47', undefined],
    ['no health check', undefined, undefined, '1.47', undefined],
    ['API unknown (a fake engine)', undefined, image, undefined, undefined],
  ])('%s', (_n, option, effective, api, expected) => expect(healthcheckOverride(option, effective, api)).toEqual(expected));
});
