/** Docker log stream helpers: demultiplex the 8-byte-header stream of non-TTY containers. Pure. */

/** Splits a multiplexed (stdout/stderr) log buffer into lines; falls back to plain text for TTY streams. */
export function demuxLogs(buf: Buffer): string[] {
  const chunks: string[] = [];
  let i = 0;
  const looksMuxed = buf.length >= 8 && (buf[0] === 1 || buf[0] === 2 || buf[0] === 0) && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!looksMuxed) return splitLines(buf.toString('utf8'));
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    chunks.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  return splitLines(chunks.join(''));
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

/** The last n lines. */
export function lastLines(lines: string[], n: number): string[] {
  return lines.slice(Math.max(0, lines.length - n));
}

const TS = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/;

/** Orders "RFC3339NANO text" lines (docker logs --timestamps) by time and strips the stamps. */
export function byTimestamp(lines: string[]): string[] {
  const parsed = lines.map((l, i) => {
    const m = TS.exec(l);
    return { i, ts: m ? m[1] : '', text: m ? m[2] : l };
  });
  // RFC3339Nano strips trailing zeros, so compare as numbers of nanoseconds within the second
  const key = (ts: string) => {
    const [sec, frac = ''] = ts.replace('Z', '').split('.');
    return `${sec}.${frac.padEnd(9, '0')}`;
  };
  return parsed.sort((a, b) => (a.ts && b.ts ? key(a.ts).localeCompare(key(b.ts)) : 0) || a.i - b.i).map((p) => p.text);
}
