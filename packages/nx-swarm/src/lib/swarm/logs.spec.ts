import { byTimestamp, demuxLogs, lastLines } from './logs';

const frame = (stream: number, text: string) => {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
};

describe('logs', () => {
  it('demultiplexes stdout/stderr frames into lines', () => {
    expect(demuxLogs(Buffer.concat([frame(1, 'a\nb\n'), frame(2, 'c\n')]))).toEqual(['a', 'b', 'c']);
  });
  it('keeps plain (TTY) output as text', () => {
    expect(demuxLogs(Buffer.from('hello\nworld\n'))).toEqual(['hello', 'world']);
  });
  it('orders stdout and stderr lines by their timestamps (trailing zeros stripped)', () => {
    expect(byTimestamp(['2026-11-25T17:40:24.3Z fatal (stderr)', '2026-11-25T17:40:24.12Z starting', '2026-11-25T17:40:24.25Z loading'])).toEqual([
      'starting',
      'loading',
      'fatal (stderr)',
    ]);
  });
  it('lastLines', () => expect(lastLines(['1', '2', '3'], 2)).toEqual(['2', '3']));
});
