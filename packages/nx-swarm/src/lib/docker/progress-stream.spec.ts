import { ProgressTracker, errorOf, parseProgressLine, summariseStream } from './progress-stream';

const lines = (...messages: object[]) => messages.map((m) => JSON.stringify(m)).join('\r\n') + '\r\n';

/** Recorded from Docker 20.10's classic builder (POST /build). */
const BUILD_OK = lines(
  { stream: 'Step 1/3 : FROM scratch' },
  { stream: '\n' },
  { stream: ' ---\u003e \n' },
  { stream: 'Step 2/3 : COPY accountservice-linux-amd64 /accountservice\n' },
  { stream: ' ---\u003e 8c3b5d1e1f0a\n' },
  { stream: 'Step 3/3 : LABEL io.nx-swarm.content-digest=abc\n' },
  { stream: ' ---\u003e Running in 02bc504afed7\n' },
  { stream: 'Removing intermediate container 02bc504afed7\n' },
  { stream: ' ---\u003e 2ee25519a6fa\n' },
  { aux: { ID: 'sha256:2ee25519a6face008fa2ca4ca42141d3f9681c8799b9c696a80afaac575b0824' } },
  { stream: 'Successfully built 2ee25519a6fa\n' },
  { stream: 'Successfully tagged nxswarm/acc:c-0dd4d764a32e\n' },
);

const BUILD_BAD_INSTRUCTION = lines(
  { stream: 'Step 1/2 : FROM scratch\n' },
  { stream: ' ---\u003e \n' },
  { stream: 'Step 2/2 : COPY does-not-exist /x\n' },
  {
    errorDetail: { message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat does-not-exist: file does not exist' },
    error: 'COPY failed: file not found in build context or excluded by .dockerignore: stat does-not-exist: file does not exist',
  },
);

const PUSH_OK = lines(
  { status: 'The push refers to repository [127.0.0.1:5000/acc]' },
  { status: 'Preparing', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'Preparing', progressDetail: {}, id: 'f6e5d4c3b2a1' },
  { status: 'Pushing', progressDetail: { current: 512, total: 6901886 }, progress: '[>   ]', id: 'a1b2c3d4e5f6' },
  { status: 'Pushing', progressDetail: { current: 6901886, total: 6901886 }, progress: '[====>]', id: 'a1b2c3d4e5f6' },
  { status: 'Layer already exists', progressDetail: {}, id: 'f6e5d4c3b2a1' },
  { status: 'Pushed', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'c-0dd4d764a32e: digest: sha256:' + 'd'.repeat(64) + ' size: 735' },
  { progressDetail: {}, aux: { Tag: 'c-0dd4d764a32e', Digest: 'sha256:' + 'd'.repeat(64), Size: 735 } },
);

const PUSH_DENIED = lines(
  { status: 'The push refers to repository [127.0.0.1:5000/acc]' },
  { status: 'Preparing', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { errorDetail: { message: 'no basic auth credentials' }, error: 'no basic auth credentials' },
);

describe('summariseStream on recorded streams', () => {
  it('a successful build: steps, image id, no error', () => {
    const { lines: out, outcome } = summariseStream(BUILD_OK);
    expect(outcome.error).toBeUndefined();
    expect(outcome.step).toEqual({ n: 3, of: 3 });
    expect(outcome.imageId).toBe('sha256:2ee25519a6face008fa2ca4ca42141d3f9681c8799b9c696a80afaac575b0824');
    expect(out).toContain('Step 2/3 : COPY accountservice-linux-amd64 /accountservice');
    expect(out).toContain('Successfully built 2ee25519a6fa');
    expect(out.every((l) => l.trim().length > 0)).toBe(true);
  });

  it('a failing build: the daemon message and the failing step', () => {
    const { outcome, lines: out } = summariseStream(BUILD_BAD_INSTRUCTION);
    expect(outcome.error).toMatch(/^COPY failed: file not found in build context/);
    expect(outcome.step).toEqual({ n: 2, of: 2 });
    expect(outcome.imageId).toBeUndefined();
    expect(out[out.length - 1]).toMatch(/^error: COPY failed/);
  });

  it('a successful push: digest by tag, layers counted, one line per layer state', () => {
    const { outcome, lines: out } = summariseStream(PUSH_OK);
    expect(outcome.error).toBeUndefined();
    expect(outcome.pushedDigests).toEqual({ 'c-0dd4d764a32e': 'sha256:' + 'd'.repeat(64) });
    expect(outcome.layersPushed).toBe(1);
    expect(outcome.layersExisting).toBe(1);
    expect(out.filter((l) => l.startsWith('a1b2c3d4e5f6: Pushing'))).toEqual(['a1b2c3d4e5f6: Pushing (6.6 MB)']);
    expect(out).toContain('a1b2c3d4e5f6: Pushed');
  });

  it('a denied push: the daemon message', () => {
    expect(summariseStream(PUSH_DENIED).outcome.error).toBe('no basic auth credentials');
  });

  it.each([1, 2, 7, 64])('gives the same result whatever the chunking (%i-byte chunks)', (size) => {
    const whole = summariseStream(BUILD_OK);
    const tracker = new ProgressTracker();
    const out: string[] = [];
    for (let i = 0; i < BUILD_OK.length; i += size) out.push(...tracker.push(BUILD_OK.slice(i, i + size)));
    out.push(...tracker.end());
    expect(out).toEqual(whole.lines);
    expect(tracker.outcome).toEqual(whole.outcome);
  });

  it('handles a stream without a trailing newline', () => {
    const text = JSON.stringify({ errorDetail: { message: 'boom' }, error: 'boom' });
    expect(summariseStream(text).outcome.error).toBe('boom');
  });
});

describe('parseProgressLine / errorOf', () => {
  it.each<[string, string | undefined]>([
    ['{"error":"only error"}', 'only error'],
    ['{"errorDetail":{"message":"detail wins"},"error":"short"}', 'detail wins'],
    ['{"stream":"Step 1/1 : FROM scratch\\n"}', undefined],
    ['{"status":"Pushed","id":"x"}', undefined],
  ])('%s → %s', (line, expected) => {
    const message = parseProgressLine(line);
    expect(message && errorOf(message)).toBe(expected);
  });
  it('blank lines are skipped and non-JSON is kept as text', () => {
    expect(parseProgressLine('  ')).toBeUndefined();
    expect(parseProgressLine('plain text')).toEqual({ stream: 'plain text\n' });
  });
});
