import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { paxRecord, readTar, writeTar } from './tar';

describe('tar writer', () => {
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name.bin`;
  const entries = [
    { type: 'directory' as const, path: 'a', mode: 0o755, uid: 0, gid: 0, mtime: 0 },
    { type: 'file' as const, path: 'a/x', mode: 0o644, uid: 65532, gid: 65532, mtime: 1700000000, content: Buffer.from('hello') },
    { type: 'symlink' as const, path: 'a/l', target: 'x', uid: 0, gid: 0, mtime: 0 },
    { type: 'file' as const, path: long, mode: 0o755, uid: 0, gid: 0, mtime: 0, content: Buffer.alloc(513, 1) },
  ];

  it('round-trips through our reader, PAX path for names over 100 bytes', () => {
    const back = readTar(writeTar(entries));
    expect(back.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.linkname, e.content.length])).toEqual([
      ['a/', '5', '755', 0, '', 0],
      ['a/x', '0', '644', 65532, '', 5],
      ['a/l', '2', '777', 0, 'x', 0],
      [long, '0', '755', 0, '', 513],
    ]);
  });

  it('GNU tar reads it with the same names, owners and mtimes', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-tar-')), 'l.tar');
    fs.writeFileSync(file, writeTar(entries));
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', file], { env: { TZ: 'UTC', PATH: process.env.PATH } }).toString();
    expect(listing).toContain('65532/65532');
    expect(listing).toContain('2023-11-14 22:13:20 a/x');
    expect(listing).toContain(long);
    expect(listing).toMatch(/lrwxrwxrwx 0\/0 .* a\/l -> x/);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it.each([
    ['path', 'a', '9 path=a\n'],
    ['path', 'x'.repeat(95), `${9 + 95 + 1} path=${'x'.repeat(95)}\n`],
  ])('paxRecord(%s) counts its own length', (k, v, rec) => {
    expect(paxRecord(k, v)).toBe(rec);
    expect(Buffer.byteLength(rec)).toBe(Number(rec.split(' ')[0]));
  });

  it.each(['/abs', 'a/../b', 'a//b'])('rejects the path %s', (p) => {
    expect(() => writeTar([{ type: 'file', path: p, mode: 0o644, uid: 0, gid: 0, mtime: 0, content: Buffer.alloc(0) }])).toThrow(/tar entry/);
  });
});
