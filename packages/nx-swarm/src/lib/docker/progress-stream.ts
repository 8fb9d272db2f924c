/**
 * The JSON-lines progress stream of `POST /build` and `POST /images/{name}/push`.
 *
 * Failures arrive inside an HTTP 200 stream as `{"errorDetail":{"message":…},"error":…}`;
 * docker-modem's followProgress resolves without error then (dockerode#639), so the stream is parsed
 * here. `ProgressTracker` is pure: feed it text chunks, it returns the human lines to print and
 * collects the outcome (error, built image id, pushed digest).
 */

export interface ProgressMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number };
}

export interface ProgressOutcome {
  /** The daemon's own failure message, when the stream carried one. */
  error?: string;
  /** Image id from the build's `aux.ID` (or "Successfully built <id>"). */
  imageId?: string;
  /** Pushed manifest digests by tag, from the push's `aux` lines. */
  pushedDigests: Record<string, string>;
  /** The last "Step N/M" seen. */
  step?: { n: number; of: number };
  /** Layers reported "Pushed" / "Layer already exists". */
  layersPushed: number;
  layersExisting: number;
}

const STEP_RE = /^Step (\d+)\/(\d+) : /;
const SUCCESSFULLY_BUILT_RE = /^Successfully built ([0-9a-f]{12,64})\s*$/;

/** Parses one line; undefined for blank lines, a `{ error }` message for garbage. */
export function parseProgressLine(line: string): ProgressMessage | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    if (parsed && typeof parsed === 'object') return parsed as ProgressMessage;
  } catch {
    /* fall through */
  }
  return { stream: `${trimmed}\n` };
}

/** The failure message of a line, if it is a failure. */
export function errorOf(message: ProgressMessage): string | undefined {
  const text = message.errorDetail?.message || message.error;
  return text ? text.trim() : undefined;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export class ProgressTracker {
  readonly outcome: ProgressOutcome = { pushedDigests: {}, layersPushed: 0, layersExisting: 0 };
  private buffer = '';
  /** Last status printed per layer id, so repeated "Pushing" lines print once. */
  private readonly layerStatus = new Map<string, string>();

  /** Feeds raw text (any chunking); returns the human lines to print. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    return lines.flatMap((l) => this.handle(l));
  }

  /** Flushes a trailing line without newline; returns the lines to print. */
  end(): string[] {
    const rest = this.buffer;
    this.buffer = '';
    return this.handle(rest);
  }

  private handle(line: string): string[] {
    const message = parseProgressLine(line);
    if (!message) return [];
    const error = errorOf(message);
    if (error) {
      this.outcome.error ??= error;
      return [`error: ${error}`];
    }
    if (message.aux?.ID) this.outcome.imageId = message.aux.ID;
    if (message.aux?.Digest) this.outcome.pushedDigests[message.aux.Tag ?? ''] = message.aux.Digest;
    if (message.stream !== undefined) return this.handleStream(message.stream);
    if (message.status !== undefined) return this.handleStatus(message);
    return [];
  }

  private handleStream(text: string): string[] {
    const out: string[] = [];
    for (const raw of text.split('\n')) {
      const line = raw.trimEnd();
      if (!line.trim()) continue;
      const step = STEP_RE.exec(line);
      if (step) this.outcome.step = { n: Number(step[1]), of: Number(step[2]) };
      const built = SUCCESSFULLY_BUILT_RE.exec(line);
      if (built && !this.outcome.imageId) this.outcome.imageId = built[1];
      out.push(line);
    }
    return out;
  }

  private handleStatus(message: ProgressMessage): string[] {
    const status = message.status ?? '';
    if (!message.id) return status.trim() ? [status.trim()] : [];
    const previous = this.layerStatus.get(message.id);
    if (previous === status) return [];
    this.layerStatus.set(message.id, status);
    if (status === 'Pushed') this.outcome.layersPushed++;
    if (status === 'Layer already exists') this.outcome.layersExisting++;
    if (status === 'Pushing') {
      const total = message.progressDetail?.total;
      return [`${message.id}: Pushing${total ? ` (${formatBytes(total)})` : ''}`];
    }
    if (status === 'Preparing' || status === 'Waiting') return [];
    return [`${message.id}: ${status}`];
  }
}

/** Runs a whole recorded stream through a tracker (for tests and small streams). */
export function summariseStream(text: string): { lines: string[]; outcome: ProgressOutcome } {
  const tracker = new ProgressTracker();
  const lines = [...tracker.push(text), ...tracker.end()];
  return { lines, outcome: tracker.outcome };
}

/**
 * Consumes a daemon stream to its end, printing lines through `log`. Resolves with the outcome; the
 * caller decides what an `error` means. Rejects only on transport errors.
 */
export function followStream(stream: NodeJS.ReadableStream, log: (line: string) => void): Promise<ProgressOutcome> {
  const tracker = new ProgressTracker();
  return new Promise((resolve, reject) => {
    stream.setEncoding?.('utf8');
    stream.on('data', (chunk: string | Buffer) => {
      for (const line of tracker.push(String(chunk))) log(line);
    });
    stream.on('error', reject);
    stream.on('end', () => {
      for (const line of tracker.end()) log(line);
      resolve(tracker.outcome);
    });
  });
}
