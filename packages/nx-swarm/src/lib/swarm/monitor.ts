/**
 * Health-check timing of a deploy: how long swarm watches each new task for a failure
 * (UpdateConfig.Monitor) when the user didn't say, and a StartInterval where the engine has one. Pure.
 *
 * Without a health check a task counts as running as soon as its process starts, so it is watched
 * for the flat default (10 s): long enough to catch a service that dies a few seconds after start
 * (after its connection retries, say). With a health check, a task only counts as running after a
 * probe passed, and the engine runs the first probe one interval after start (Engine < 25 has no
 * StartInterval): the task has already been up for an interval and answered. Watching it for one
 * more interval gives it the same total watched uptime, two intervals, as the flat default gives the
 * template's 5 s interval, instead of 5 s + 10 s. Where a StartInterval makes the first probe come
 * sooner (API >= 1.44, see healthcheckOverride), the monitor is longer by as much: two intervals of
 * uptime either way. Clamped to [2 s, 10 s]: never shorter than a few polls, never longer than the
 * flat default.
 */
import type { DeployOptions } from './deploy-options';
import type { HealthConfigSpec } from './service-spec';

/** The engine's health-check interval when the image or option doesn't set one. */
export const ENGINE_DEFAULT_INTERVAL_NS = 30e9;
export const MIN_MONITOR_NS = 2e9;

export function sizeMonitor(o: Pick<DeployOptions, 'monitorSet' | 'update'>, healthcheck: HealthConfigSpec | undefined): number {
  if (o.monitorSet || !healthcheck) return o.update.monitorNs;
  const interval = healthcheck.Interval || ENGINE_DEFAULT_INTERVAL_NS;
  // Up (and watched) for two intervals in all: the time to the first passing probe counts.
  const firstProbe = healthcheck.StartPeriod && healthcheck.StartInterval ? healthcheck.StartInterval : interval;
  return Math.max(MIN_MONITOR_NS, Math.min(2 * interval - firstProbe, o.update.monitorNs));
}

/** The first Engine API version that knows HealthConfig.StartInterval (Docker 25). */
export const START_INTERVAL_API = '1.44';
/** How often to probe during the start period, where the engine supports it. */
export const START_INTERVAL_NS = 1e9;

const apiAtLeast = (v: string | undefined, min: string) => {
  const [a, b] = (v ?? '0.0').split('.').map(Number);
  const [c, d] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
};

/**
 * The health-check override for the spec: the option's, plus StartInterval 1 s on engines that
 * support it (API >= 1.44) when the check has a start period and sets no StartInterval of its own:
 * the engine then probes every second during the start period, so a new task counts as running about
 * a second after it answers instead of a whole interval after start. Older engines ignore nothing
 * here: they get the option's check unchanged (their first probe waits one interval). Pure.
 */
export function healthcheckOverride(
  option: HealthConfigSpec | undefined,
  effective: HealthConfigSpec | undefined,
  apiVersion: string | undefined,
): HealthConfigSpec | undefined {
  if (!effective || !apiAtLeast(apiVersion, START_INTERVAL_API)) return option;
  if (!effective.StartPeriod || effective.StartInterval) return option;
  return { ...(option ?? {}), StartInterval: START_INTERVAL_NS };
}
