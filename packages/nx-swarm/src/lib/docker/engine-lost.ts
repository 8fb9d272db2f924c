/**
 * An engine that goes away in the middle of a run (dockerd killed, the manager rebooting, the ssh
 * connection dropped). Wraps an API object:
 *
 *  - reads are retried a bounded number of times (a dropped connection is often back within
 *    seconds: dockerd restarting, an ssh stream replaced over the same login);
 *  - writes are never retried blindly (the engine may have applied one whose answer was lost), but
 *    recorded: what was accepted, and what was sent without an answer;
 *  - when the connection stays lost, one EngineLostError says what was sent, what is unknown, and
 *    the next step.
 *
 * The messages are pure functions of that journal (`engineLostMessage`), table-tested.
 */
import { SshTransportError } from './ssh-transport';

const LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ENOENT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Is this error the connection to the engine going away (not an answer of the engine)? An answer
 * has a statusCode; a lost engine is a socket error, "socket hang up", or an ssh stream that ended.
 */
export function isConnectionLost(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (!e || typeof e !== 'object' || e.statusCode) return false;
  if (error instanceof SshTransportError) return true;
  if (e.code && LOST_CODES.has(e.code)) return true;
  return /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|other side closed|premature close/i.test(e.message ?? '');
}

/** The words of a lost connection: the system's, or ssh's (with what ssh says next). */
export function connectionLostWords(error: unknown): string {
  if (error instanceof SshTransportError) return `the ssh connection ended: ${error.failure.words.split('\n').pop()}`;
  return (error as Error)?.message ?? String(error);
}

export interface WriteRecord {
  /** "update of service web to image r/web:2 (spec version 41)" */
  what: string;
  outcome: 'accepted' | 'no answer';
}

export class EngineLostError extends Error {
  constructor(
    message: string,
    readonly journal: WriteRecord[],
  ) {
    super(message);
    this.name = 'EngineLostError';
  }
}

export interface LostContext {
  /** Where the engine is: `ssh://mgr (DOCKER_HOST)`. */
  describe: string;
  /** What the run is, for the next step: "deploy", "undeploy". */
  rerun: string;
  /** After an accepted write: what keeps going without us (e.g. "the rollout may still be running on the swarm"). */
  unknownAfterWrite: string;
  /** The next step when something was accepted. */
  nextAfterWrite: string;
}

/** The message for a connection that stayed lost. Pure. */
export function engineLostMessage(ctx: LostContext, during: string, words: string, attempts: number, journal: WriteRecord[]): string {
  const lines = [
    `Lost the connection to the Docker Engine at ${ctx.describe} during ${during} (${words})` +
      (attempts > 1 ? `, still lost after ${attempts} attempts.` : '.'),
  ];
  const accepted = journal.filter((w) => w.outcome === 'accepted');
  const unanswered = journal.filter((w) => w.outcome === 'no answer');
  if (!journal.length) {
    lines.push('Sent: nothing was written; the swarm is as it was before this run.');
    lines.push(`Next: ${ctx.rerun} again when the manager answers.`);
    return lines.join('\n');
  }
  lines.push(`Sent: ${[...accepted.map((w) => `${w.what}: accepted`), ...unanswered.map((w) => `${w.what}: sent, no answer`)].join('; ')}.`);
  lines.push(`Unknown: ${unanswered.length ? 'whether the engine applied what got no answer, and ' : ''}${ctx.unknownAfterWrite}.`);
  lines.push(`Next: ${ctx.nextAfterWrite}`);
  return lines.join('\n');
}

export interface GuardOptions<T> {
  /** Methods that only read: retried. */
  reads: (keyof T)[];
  /** Methods that write, with how to name a call for people. Other methods pass through unguarded. */
  writes: Partial<Record<keyof T, (...args: never[]) => string>>;
  /** Attempts for a read (default 4: the first and three retries). */
  attempts?: number;
  /** Wait before retry n (1-based); default 500 ms, 1 s, 2 s. */
  backoffMs?: (n: number) => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told before each retry. */
  onRetry?: (line: string) => void;
}

/** Wraps `api` so lost connections are retried (reads), journaled (writes) and explained. */
export function guardLostEngine<T extends object>(api: T, ctx: LostContext, options: GuardOptions<T>): T & { journal: WriteRecord[] } {
  const journal: WriteRecord[] = [];
  const attempts = options.attempts ?? 4;
  const backoff = options.backoffMs ?? ((n: number) => 500 * 2 ** (n - 1));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const guarded = Object.create(api) as T & { journal: WriteRecord[] };
  guarded.journal = journal;
  for (const name of options.reads) {
    const fn = (api as Record<keyof T, unknown>)[name] as (...a: unknown[]) => Promise<unknown>;
    (guarded as Record<keyof T, unknown>)[name] = async (...args: unknown[]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn.apply(api, args);
        } catch (error) {
          if (!isConnectionLost(error) || error instanceof EngineLostError) throw error;
          if (attempt >= attempts) {
            throw new EngineLostError(engineLostMessage(ctx, `${String(name)}`, connectionLostWords(error), attempt, journal), journal);
          }
          options.onRetry?.(`The connection to the engine dropped (${connectionLostWords(error)}); trying again (${attempt}/${attempts - 1})…`);
          await sleep(backoff(attempt));
        }
      }
    };
  }
  for (const [name, describe] of Object.entries(options.writes) as [keyof T, (...a: unknown[]) => string][]) {
    const fn = (api as Record<keyof T, unknown>)[name] as (...a: unknown[]) => Promise<unknown>;
    (guarded as Record<keyof T, unknown>)[name] = async (...args: unknown[]) => {
      const what = describe(...args);
      try {
        const result = await fn.apply(api, args);
        journal.push({ what, outcome: 'accepted' });
        return result;
      } catch (error) {
        if (!isConnectionLost(error) || error instanceof EngineLostError) throw error;
        journal.push({ what, outcome: 'no answer' });
        throw new EngineLostError(engineLostMessage(ctx, what, connectionLostWords(error), 1, journal), journal);
      }
    };
  }
  return guarded;
}
