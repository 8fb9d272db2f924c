import {
  evaluateDockerfile,
  imagesPulledBy,
  needsUserDb,
  parseDuration,
  planDockerfile,
  resolveFrom,
  NeedsEngine,
  DockerfileError,
} from './dockerfile';
import { processWords } from './words';

const amd64 = { os: 'linux', architecture: 'amd64' };
const ACCOUNTSERVICE = `FROM scratch
COPY accountservice-linux-amd64 /accountservice
COPY --chown=65532:65532 docker/data /data
ENV ACCOUNTS_DB=/data/accounts.db
USER 65532:65532
EXPOSE 6767
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/accountservice","healthcheck"]
ENTRYPOINT ["/accountservice"]
`;

function oci(text: string) {
  const plan = planDockerfile(text);
  if (plan.kind !== 'oci') throw new Error(`expected oci, got: ${plan.reason}`);
  return plan;
}

describe('planDockerfile: the subset', () => {
  it.each([
    ['the accountservice Dockerfile', ACCOUNTSERVICE],
    ['a registry base image', 'FROM 127.0.0.1:5000/base:1 AS runtime\nCOPY a /a\n'],
    ['ARG before FROM', 'ARG V=1\nFROM reg.example.com/base:${V}\n'],
    ['ADD of a local file', 'FROM scratch\nADD app /app\n'],
    ['COPY --chmod --link', 'FROM scratch\nCOPY --chmod=0755 --link app /app\n'],
    [
      'every metadata instruction',
      'FROM scratch\nENV A=1\nARG B\nLABEL x=y\nUSER 1\nWORKDIR /w\nEXPOSE 80\nVOLUME /v\nHEALTHCHECK NONE\nENTRYPOINT ["/a"]\nCMD ["b"]\nSTOPSIGNAL SIGTERM\n',
    ],
    ['FROM --platform=$TARGETPLATFORM', 'FROM --platform=$TARGETPLATFORM scratch\n'],
  ])('%s → oci', (_name, text) => {
    expect(planDockerfile(text).kind).toBe('oci');
  });

  it.each([
    ['RUN', 'FROM scratch\nRUN echo hi\n', /line 2: RUN needs a container/],
    ['multi-stage', 'FROM golang AS build\nFROM scratch\n', /line 2: a multi-stage build \(2 FROM instructions\)/],
    ['COPY --from', 'FROM scratch\nCOPY --from=build /a /a\n', /line 2: COPY --from \(multi-stage\)/],
    ['ONBUILD', 'FROM scratch\nONBUILD COPY a /a\n', /line 2: ONBUILD is not in the OCI builder's subset/],
    ['SHELL', 'FROM scratch\nSHELL ["/bin/bash", "-c"]\n', /line 2: SHELL is not in the OCI builder's subset/],
    ['ADD of a URL', 'FROM scratch\nADD https://example.com/a.bin /a\n', /line 2: ADD of a URL \(https:\/\/example.com\/a.bin\)/],
    ['ADD of an archive', 'FROM scratch\nADD rootfs.tar.gz /\n', /line 2: ADD of an archive \(rootfs.tar.gz; ADD unpacks it\)/],
    ['a here-document', 'FROM scratch\nCOPY <<EOF /f\nhi\nEOF\n', /line 2: COPY with a here-document/],
    ['an unknown instruction', 'FROM scratch\nFROBNICATE /x\n', /line 2: FROBNICATE is not in the OCI builder's subset/],
    ['FROM --platform=linux/arm64', 'FROM --platform=linux/arm64 scratch\n', /FROM --platform=linux\/arm64/],
    ['no FROM', 'LABEL a=b\n', /no FROM/],
    ['a target that is not the stage', 'FROM scratch AS runtime\n', /target "other"/],
    ['COPY --parents', 'FROM scratch\nCOPY --parents a /a\n', /COPY --parents/],
  ])('%s → engine, with the reason', (name, text, reason) => {
    const plan = planDockerfile(text, name === 'a target that is not the stage' ? { target: 'other' } : {});
    expect(plan.kind).toBe('engine');
    expect(plan.kind === 'engine' && plan.reason).toMatch(reason);
  });
});

describe('evaluateDockerfile', () => {
  it('accountservice: the config the classic builder makes', () => {
    const r = evaluateDockerfile(oci(ACCOUNTSERVICE), { platform: amd64, buildArgs: {} });
    expect(r.config).toEqual({
      Env: ['ACCOUNTS_DB=/data/accounts.db'],
      User: '65532:65532',
      ExposedPorts: { '6767/tcp': {} },
      Healthcheck: { Test: ['CMD', '/accountservice', 'healthcheck'], Interval: 5e9, Timeout: 3e9, StartPeriod: 5e9, Retries: 3 },
      Entrypoint: ['/accountservice'],
      Cmd: null,
    });
    expect(r.copies).toEqual([
      { instruction: 'COPY', sources: ['accountservice-linux-amd64'], dest: '/accountservice', destIsDir: false, line: 2 },
      { instruction: 'COPY', sources: ['docker/data'], dest: '/data', destIsDir: false, line: 3, chown: { uid: 65532, gid: 65532 } },
    ]);
    expect(r.history.filter((h) => !h.empty_layer)).toHaveLength(2);
    expect(r.history).toHaveLength(7);
  });

  it('expands ARG (build args, defaults, TARGETARCH) and ENV in later instructions', () => {
    const text =
      'FROM scratch\nARG VERSION=0.0.0\nARG TARGETARCH\nENV APP_VERSION=$VERSION PATH=/bin\nENV GREETING hello world\nLABEL v="${VERSION}" arch=${TARGETARCH} d=${UNSET:-dflt}\nWORKDIR /srv\nWORKDIR app\nCOPY app-linux-${TARGETARCH} ./bin/\nUSER ${UID:-1000}\n';
    const r = evaluateDockerfile(oci(text), { platform: { os: 'linux', architecture: 'arm64' }, buildArgs: { VERSION: '1.4.0', EXTRA: 'x' } });
    expect(r.config.Env).toEqual(['APP_VERSION=1.4.0', 'PATH=/bin', 'GREETING=hello world']);
    expect(r.config.Labels).toEqual({ v: '1.4.0', arch: 'arm64', d: 'dflt' });
    expect(r.config.WorkingDir).toBe('/srv/app');
    expect(r.config.User).toBe('1000');
    expect(r.copies[0]).toMatchObject({ sources: ['app-linux-arm64'], dest: '/srv/app/bin', destIsDir: true });
    expect(r.unusedBuildArgs).toEqual(['EXTRA']);
  });

  it('inherits the base config; ENTRYPOINT resets an inherited CMD; shell forms; volumes; HEALTHCHECK NONE', () => {
    const base = { Env: ['PATH=/usr/bin'], Cmd: ['sh'], Labels: { from: 'base' }, WorkingDir: '/' };
    const text =
      'FROM reg.example.com/base\nENV PATH=$PATH:/app\nENTRYPOINT /app/run --flag\nVOLUME ["/data", "/cache"]\nEXPOSE 53/udp 8000-8001\nHEALTHCHECK NONE\nSTOPSIGNAL SIGINT\n';
    const r = evaluateDockerfile(oci(text), { platform: amd64, buildArgs: {}, base });
    expect(r.config.Env).toEqual(['PATH=/usr/bin:/app']);
    expect(r.config.Entrypoint).toEqual(['/bin/sh', '-c', '/app/run --flag']);
    expect(r.config.Cmd).toBeNull();
    expect(r.config.Labels).toEqual({ from: 'base' });
    expect(r.config.Volumes).toEqual({ '/data': {}, '/cache': {} });
    expect(r.config.ExposedPorts).toEqual({ '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
    expect(r.config.Healthcheck).toEqual({ Test: ['NONE'] });
    expect(r.config.StopSignal).toBe('SIGINT');
    expect(base.Env).toEqual(['PATH=/usr/bin']); // not mutated
  });

  it.each([
    [
      '--chown with a user name and no user database',
      'FROM scratch\nCOPY --chown=app:app a /a\n',
      NeedsEngine,
      /--chown=app:app names a user or group/,
    ],
    ['COPY of ../', 'FROM scratch\nCOPY ../secret /a\n', DockerfileError, /forbidden path outside the build context/],
    ['COPY with one argument', 'FROM scratch\nCOPY onlyone\n', DockerfileError, /requires at least two arguments/],
    ['an unclosed quote', 'FROM scratch\nENV A="x\n', DockerfileError, /matching double-quote/],
  ])('%s', (_n, text, kind, message) => {
    expect(() => evaluateDockerfile(oci(text), { platform: amd64, buildArgs: {} })).toThrow(kind);
    expect(() => evaluateDockerfile(oci(text), { platform: amd64, buildArgs: {} })).toThrow(message);
  });

  it.each([
    ['names', 'COPY --chown=app:staff a /a', { uid: 1000, gid: 50 }],
    ['a user alone: its primary group', 'COPY --chown=app a /a', { uid: 1000, gid: 1000 }],
    ['a name from a build arg', 'ARG OWNER=nonroot\nCOPY --chown=${OWNER} a /a', { uid: 65532, gid: 65532 }],
    ['ids need no database', 'COPY --chown=7:8 a /a', { uid: 7, gid: 8 }],
  ])('--chown with %s, from the user database', (_n, lines, owner) => {
    const users = {
      source: 'the base image b',
      users: [
        { name: 'app', uid: 1000, gid: 1000 },
        { name: 'nonroot', uid: 65532, gid: 65532 },
      ],
      groups: [{ name: 'staff', gid: 50 }],
    };
    const r = evaluateDockerfile(oci(`FROM b\n${lines}\n`), { platform: amd64, buildArgs: {}, users });
    expect(r.copies[0].chown).toEqual(owner);
  });

  it.each([
    ['ids only', 'FROM b\nCOPY --chown=1:2 a /a\nADD --chown=3 b /b\n', false],
    ['no --chown', 'FROM b\nCOPY a /a\n', false],
    ['a name', 'FROM b\nCOPY --chown=app a /a\n', true],
    ['a group name', 'FROM b\nADD --chown=1:staff a /a\n', true],
    ['a variable (it may expand to a name)', 'FROM b\nARG U=1\nCOPY --chown=$U a /a\n', true],
  ])('needsUserDb: %s → %s', (_n, text, expected) => {
    expect(needsUserDb(oci(text))).toBe(expected);
  });

  it('resolves FROM with pre-FROM ARGs and build args', () => {
    const plan = oci('ARG REG=127.0.0.1:5000\nARG TAG=1\nFROM ${REG}/base:${TAG}\n');
    expect(resolveFrom(plan, { TAG: '2' }, amd64)).toBe('127.0.0.1:5000/base:2');
  });
});

describe('words and durations', () => {
  it.each([
    ['a "b c" d', ['a', 'b c', 'd']],
    ['\'$X\' "$X" $X ${X}y', ['$X', 'v', 'v', 'vy']],
    ['a\\ b', ['a b']],
    ['${NOPE:-d} ${X:+alt} ${NOPE:+alt}x', ['d', 'alt', 'x']],
  ])('processWords(%s)', (text, words) => {
    expect(processWords(text, new Map([['X', 'v']]))).toEqual(words);
  });
  it.each([
    ['5s', 5e9],
    ['1m30s', 90e9],
    ['500ms', 5e8],
    ['0', 0],
  ])('parseDuration(%s)', (text, ns) => expect(parseDuration(text)).toBe(ns));
});

describe("imagesPulledBy (the Engine builder's registry credentials)", () => {
  it.each([
    ['scratch', 'FROM scratch\n', {}, []],
    ['one base', 'FROM reg.io/base:1\nRUN x\n', {}, ['reg.io/base:1']],
    [
      'multi-stage: stages are no images',
      'FROM golang:1.22 AS build\nRUN go build\nFROM build AS again\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\n',
      {},
      ['golang:1.22'],
    ],
    ['stage names are case-insensitive', 'FROM reg.io/a AS Build\nFROM BUILD\n', {}, ['reg.io/a']],
    ['COPY --from an image', 'FROM scratch\nCOPY --from=reg.io/tools:2 /x /x\n', {}, ['reg.io/tools:2']],
    ['pre-FROM ARG defaults and build args', 'ARG REG=a.io\nARG TAG=1\nFROM ${REG}/base:$TAG\n', { TAG: '2' }, ['a.io/base:2']],
    ['--platform', 'FROM --platform=$BUILDPLATFORM reg.io/x AS b\n', {}, ['reg.io/x']],
    ['an unknown variable left empty', 'FROM ${NOPE}\n', {}, []],
    ['duplicates once', 'FROM reg.io/x AS a\nFROM reg.io/x AS b\n', {}, ['reg.io/x']],
    ['no FROM', 'RUN x\n', {}, []],
  ])('%s', (_n, text, buildArgs, expected) => {
    expect(imagesPulledBy(text, buildArgs)).toEqual(expected);
  });
});
