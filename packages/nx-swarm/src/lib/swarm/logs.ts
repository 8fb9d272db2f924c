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
