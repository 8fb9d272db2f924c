/**
 * How long swarm watches each new task for a failure (UpdateConfig.Monitor) when the user didn't say.
 * Pure.
 *
 * Without a health check a task counts as running as soon as its process starts, so it is watched
 * for the flat default (10 s): long enough to catch a service that dies a few seconds after start
 * (after its connection retries, say). With a health check, a task only counts as running after a
 * probe passed, and the engine runs the first probe one interval after start (Engine < 25 has no
 * StartInterval): the task has already been up for an interval and answered. Watching it for one
 * more interval gives it the same total watched uptime, two intervals, as the flat default gives the
 * template's 5 s interval, instead of 5 s + 10 s. Clamped to [2 s, 10 s]: never shorter than two
 * polls, never longer than the flat default.
 */
import type { DeployOptions } from './deploy-options';
import type { HealthConfigSpec } from './service-spec';

/** The engine's health-check interval when the image or option doesn't set one. */
export const ENGINE_DEFAULT_INTERVAL_NS = 30e9;
export const MIN_MONITOR_NS = 2e9;

export function sizeMonitor(o: Pick<DeployOptions, 'monitorSet' | 'update'>, healthcheck: HealthConfigSpec | undefined): number {
  if (o.monitorSet || !healthcheck) return o.update.monitorNs;
  const interval = healthcheck.Interval || ENGINE_DEFAULT_INTERVAL_NS;
  return Math.max(MIN_MONITOR_NS, Math.min(interval, o.update.monitorNs));
}
