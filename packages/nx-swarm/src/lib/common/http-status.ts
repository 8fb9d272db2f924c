/**
 * The Engine API's status codes, in one place: what dockerode's `dial` should accept, and how to tell
 * a "not found" from a real failure.
 */
export const ENGINE_STATUS = {
  200: true,
  201: true,
  204: true,
  304: true,
  400: 'bad parameter',
  403: 'forbidden',
  404: 'not found',
  409: 'conflict',
  500: 'server error',
  503: 'node is not part of a swarm',
} as const;

/** The HTTP status of a failed Engine API call (dockerode puts it on the error), if any. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (error: unknown): boolean => statusOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusOf(error) === 409;

/**
 * The daemon's own words from a failed Engine API call (its JSON `message`), without dockerode's
 * "(HTTP code 404) no such container - " prefix.
 */
export function daemonMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; message?: string };
  const fromJson = e?.json && typeof e.json === 'object' ? e.json.message : undefined;
  const msg = fromJson || e?.message || String(error);
  return msg.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}
