/**
 * A byte-reproducible tar writer (POSIX ustar, PAX records for long names), for image layers and the
 * docker-archive the engine loads. Pure: entries in, bytes out. The caller decides order, modes,
 * owners and mtimes; nothing here reads the clock, the umask or the disk. No uname/gname, no xattrs,
 * no atime/ctime.
 */

export type TarEntry =
  | { type: 'file'; path: string; mode: number; uid: number; gid: number; mtime: number; content: Buffer }
  | { type: 'directory'; path: string; mode: number; uid: number; gid: number; mtime: number }
  | { type: 'symlink'; path: string; target: string; uid: number; gid: number; mtime: number };

const BLOCK = 512;
const TYPE_FLAG = { file: '0', symlink: '2', directory: '5', pax: 'x' } as const;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(fields: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname?: string;
}): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(octal(fields.mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(fields.uid, 8), 108, 8, 'ascii');
  h.write(octal(fields.gid, 8), 116, 8, 'ascii');
  h.write(octal(fields.size, 12), 124, 12, 'ascii');
  h.write(octal(fields.mtime, 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder
  h.write(fields.type, 156, 1, 'ascii');
  if (fields.linkname) h.write(fields.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(octal(0, 8), 329, 8, 'ascii'); // devmajor
  h.write(octal(0, 8), 337, 8, 'ascii'); // devminor
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest, 0);
}

/** One PAX record: "<len> key=value\n", where len counts the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Validates a tar path: relative, no "..", no empty components. */
export function tarPathProblem(p: string): string | undefined {
  if (p.startsWith('/')) return `"${p}" must be relative`;
  const parts = p.replace(/\/$/, '').split('/');
  if (parts.some((c) => c === '' || c === '.' || c === '..')) return `"${p}" has an empty, "." or ".." component`;
  return undefined;
}

/** Serialises entries, in the given order, to tar bytes (two zero blocks at the end). */
export function writeTar(entries: TarEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const entry of entries) {
    const problem = tarPathProblem(entry.path);
    if (problem) throw new Error(`tar entry ${problem}`);
    const name = entry.type === 'directory' ? `${entry.path.replace(/\/$/, '')}/` : entry.path;
    const linkname = entry.type === 'symlink' ? entry.target : undefined;
    const size = entry.type === 'file' ? entry.content.length : 0;
    const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
    const pax: string[] = [];
    if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', name));
    if (linkname && Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
    if (pax.length) {
      const body = Buffer.from(pax.join(''), 'utf8');
      const paxName = `PaxHeaders/${name.replace(/\/$/, '').split('/').pop()!.slice(0, 80)}`;
      chunks.push(header({ name: paxName, mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: entry.mtime, type: TYPE_FLAG.pax }));
      chunks.push(body, padding(body.length));
    }
    chunks.push(
      header({
        name: Buffer.byteLength(name) > 100 ? Buffer.from(name).subarray(0, 100).toString('utf8') : name,
        mode,
        uid: entry.uid,
        gid: entry.gid,
        size,
        mtime: entry.mtime,
        type: TYPE_FLAG[entry.type],
        linkname: linkname && Buffer.byteLength(linkname) <= 100 ? linkname : undefined,
      }),
    );
    if (entry.type === 'file') chunks.push(entry.content, padding(size));
  }
  chunks.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(chunks);
}

/** Reads a tar back into (path, type, mode, uid, gid, mtime, content) — for tests and the base-image check. */
export function readTar(
  data: Buffer,
  /** Which entries' contents to copy out (default all); the others come back with an empty content. */
  wantContent: (path: string) => boolean = () => true,
): Array<{ path: string; type: string; mode: number; uid: number; gid: number; mtime: number; linkname: string; content: Buffer }> {
  const out: Array<{ path: string; type: string; mode: number; uid: number; gid: number; mtime: number; linkname: string; content: Buffer }> = [];
  let offset = 0;
  let paxPath: string | undefined;
  let paxLink: string | undefined;
  let gnuPath: string | undefined;
  let gnuLink: string | undefined;
  const str = (buf: Buffer, start: number, len: number) => {
    const slice = buf.subarray(start, start + len);
    const nul = slice.indexOf(0);
    return slice.subarray(0, nul < 0 ? len : nul).toString('utf8');
  };
  const num = (buf: Buffer, start: number, len: number) => parseInt(str(buf, start, len).trim() || '0', 8);
  while (offset + BLOCK <= data.length) {
    const h = data.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = num(h, 124, 12);
    const type = str(h, 156, 1) || '0';
    const content = data.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + size + padding(size).length;
    if (type === 'x') {
      for (const rec of content.toString('utf8').split('\n')) {
        const m = /^\d+ ([^=]+)=(.*)$/.exec(rec);
        if (m?.[1] === 'path') paxPath = m[2];
        if (m?.[1] === 'linkpath') paxLink = m[2];
      }
      continue;
    }
    // GNU long names and link names (what GNU tar and some image builders write instead of PAX).
    if (type === 'L' || type === 'K') {
      const value = str(content, 0, content.length);
      if (type === 'L') gnuPath = value;
      else gnuLink = value;
      continue;
    }
    if (type === 'g') continue; // PAX global header: nothing this reader uses
    // The prefix field is POSIX ustar's ("ustar\0"); old GNU headers ("ustar  ") keep times there.
    const prefix = h.subarray(257, 262).toString('ascii') === 'ustar' && h[262] === 0 ? str(h, 345, 155) : '';
    const name = paxPath ?? gnuPath ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    out.push({
      path: name,
      type,
      mode: num(h, 100, 8),
      uid: num(h, 108, 8),
      gid: num(h, 116, 8),
      mtime: num(h, 136, 12),
      linkname: paxLink ?? gnuLink ?? str(h, 157, 100),
      content: wantContent(name) ? Buffer.from(content) : Buffer.alloc(0),
    });
    paxPath = undefined;
    paxLink = undefined;
    gnuPath = undefined;
    gnuLink = undefined;
  }
  return out;
}
