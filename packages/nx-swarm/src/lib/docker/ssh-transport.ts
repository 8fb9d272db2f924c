/**
 * The process side of ssh:// (`ssh-command.ts` is the pure side): a keep-alive http.Agent whose
 * sockets are `ssh … -- HOST docker system dial-stdio` processes over ONE ssh connection
 * (ControlMaster=auto). API requests share one stream, queued; a stream that ends (or a request that
 * destroys it) is replaced by a new stream over the same login, not a new login.
 *
 * The connection outlives the run by NX_SWARM_SSH_CONTROL_PERSIST seconds (default 60; ssh's own
 * ControlPersist), so the next task or deploy reuses it without a login. Its control socket is in a
 * folder only this user can open (`$XDG_RUNTIME_DIR` or /tmp, `nx-swarm-ssh-UID`, mode 0700, checked)
 * and is named after the destination and the contents of the ssh config and known_hosts files: a
 * changed host key or config gets a new login with its checks. With 0 (or a folder that fails the
 * check) the socket is private to this process and the master is closed (`ssh -O exit`) by `close()`
 * or when the process exits, as the docker CLI does.
 *
 * A kept master also forwards a unix socket beside its control socket to the remote engine's socket
 * (`ssh -O forward -L`, set up once per master when a run ends, at the path the remote docker CLI
 * itself would dial). The runs after it connect there: a channel of the open connection, no remote
 * session and no docker CLI started per stream. A forward that does not answer `/_ping` is removed,
 * and the run goes through dial-stdio as before.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Duplex } from 'node:stream';
import {
  SshFailure,
  SshTarget,
  classifySshFailure,
  controlPersistSeconds,
  remoteEndpointCommand,
  remoteUnixSocketOf,
  sharedControlName,
  sshControlArgv,
  sshDialArgv,
  sshExitArgv,
  sshForwardArgv,
} from './ssh-command';

/** An ssh failure as an Error: `failure` has ssh's words and the next step. */
export class SshTransportError extends Error {
  constructor(
    readonly failure: SshFailure,
    /** true when the stream had carried data before it ended (a lost connection, not a refused one). */
    readonly afterData: boolean,
  ) {
    super(failure.words);
    this.name = 'SshTransportError';
  }
}

export interface SshTransportOptions {
  env?: NodeJS.ProcessEnv;
  /** The ssh binary (tests). */
  ssh?: string;
}

/**
 * The -F file to pass: $HOME/.ssh/config when $HOME is not the account's home directory (OpenSSH
 * reads ~/.ssh from the passwd entry, not from $HOME; CI containers often set HOME elsewhere).
 */
export function sshConfigFileFor(env: NodeJS.ProcessEnv, accountHome: string, exists: (f: string) => boolean): string | undefined {
  const home = env.HOME;
  if (!home || path.resolve(home) === path.resolve(accountHome)) return undefined;
  const file = path.join(home, '.ssh', 'config');
  return exists(file) ? file : undefined;
}

function accountHome(): string {
  try {
    return os.userInfo().homedir;
  } catch {
    return os.homedir();
  }
}

/**
 * The folder for kept control sockets, or undefined when it is not safe: it must be a real folder
 * (no symlink) owned by this user that nobody else can open.
 */
export function sharedControlDir(env: NodeJS.ProcessEnv): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid === undefined) return undefined;
  const base = env.XDG_RUNTIME_DIR && fs.existsSync(env.XDG_RUNTIME_DIR) ? env.XDG_RUNTIME_DIR : '/tmp';
  const dir = path.join(base, `nx-swarm-ssh-${uid}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch {
    /* exists: checked below */
  }
  try {
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** What a kept connection was made under: the ssh config and known_hosts files' paths and contents. */
function sshMaterial(env: NodeJS.ProcessEnv, configFile: string | undefined): string {
  const homes = [...new Set([env.HOME, accountHome()].filter((h): h is string => Boolean(h)))];
  const files = [
    configFile ?? path.join(accountHome(), '.ssh', 'config'),
    '/etc/ssh/ssh_config',
    '/etc/ssh/ssh_known_hosts',
    ...homes.flatMap((h) => [path.join(h, '.ssh', 'known_hosts'), path.join(h, '.ssh', 'known_hosts2')]),
  ];
  return files
    .map((f) => {
      try {
        return `${f}\0${fs.readFileSync(f, 'utf8')}`;
      } catch {
        return `${f}\0-`;
      }
    })
    .join('\0');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** One dial-stdio process as a socket for http. */
class SshStream extends Duplex {
  private stderr = '';
  private gotData = false;
  private exited = false;
  timeout = 0;
  constructor(
    private readonly child: ChildProcess,
    private readonly target: SshTarget,
    onFirstData?: () => void,
  ) {
    super({ allowHalfOpen: false });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!this.gotData) onFirstData?.();
      this.gotData = true;
      if (!this.push(chunk)) child.stdout!.pause();
    });
    // The end of stdout is decided together with the exit code: a refused connection must end
    // in ssh's words, not in the "socket hang up" an early end of the stream would give.
    child.stdout!.on('end', () => {
      this.stdoutEnded = true;
      this.settle();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 32_000) this.stderr += chunk.toString('utf8');
    });
    child.stdin!.on('error', () => undefined); // EPIPE after the process ended: reported through 'exit'
    child.on('error', (error) => this.destroy(error));
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = signal ? null : code;
      this.settle();
      // stdout may stay open (a ProxyJump helper holding it): do not wait for it forever.
      setTimeout(() => {
        this.stdoutEnded = true;
        this.settle();
      }, 200).unref();
    });
  }
  private stdoutEnded = false;
  private exitCode: number | null = null;
  private settle(): void {
    if (!this.exited || !this.stdoutEnded || this.destroyed) return;
    if (this.exitCode === 0) {
      this.push(null);
      return;
    }
    // stderr may still be arriving: read what is there on the next turn.
    setImmediate(() => {
      if (this.destroyed) return;
      const failure = classifySshFailure(this.stderr, this.exitCode, this.target);
      this.destroy(new SshTransportError(failure, this.gotData));
    });
  }
  override _read(): void {
    this.child.stdout?.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.exited || !this.child.stdin?.writable) return cb();
    this.child.stdin.write(chunk, cb);
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin?.end();
    cb();
  }
  override _destroy(error: Error | null, cb: (e: Error | null) => void): void {
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    if (!this.exited) this.child.kill('SIGTERM');
    cb(error);
  }
  // What http.Agent and ClientRequest call on a socket.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(ms: number, cb?: () => void): this {
    this.timeout = ms;
    if (cb) this.once('timeout', cb);
    return this;
  }
  ref(): this {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { ref?: () => void })?.ref?.();
    return this;
  }
  unref(): this {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void })?.unref?.();
    return this;
  }
}

const live = new Set<SshTransport>();
let exitHookInstalled = false;

/**
 * What the end of the process does to the transports still open (executors leave theirs to it): each
 * is closed, a kept master stays up, and gets its forward when this run dialled through dial-stdio.
 */
export function closeAllSshTransports(): void {
  for (const t of [...live]) t.close();
}

export class SshTransport {
  readonly agent: http.Agent;
  readonly controlPath: string;
  readonly configFile?: string;
  private readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly ssh: string;
  private readonly children = new Set<ChildProcess>();
  /** Resolves once the master's control socket exists (or the first stream ended): later streams wait for it. */
  private master?: Promise<void>;
  /** ssh processes started (one login for the first; the others are channels of it). */
  streams = 0;
  closed = false;
  /** Seconds the connection outlives the run (0: closed by close()). */
  readonly persistS: number;
  /** Kept connections only: the local end of the master's forward to the remote engine socket. */
  readonly forwardPath?: string;
  /** This process's verdict on the forward: its path when it answered /_ping. */
  private forward?: Promise<string | undefined>;
  /** Streams that went through the forward (no ssh process). */
  forwardedStreams = 0;

  constructor(
    readonly target: SshTarget,
    options: SshTransportOptions = {},
  ) {
    this.env = options.env ?? process.env;
    this.ssh = options.ssh ?? 'ssh';
    this.configFile = sshConfigFileFor(this.env, accountHome(), (f) => fs.existsSync(f));
    const shared = controlPersistSeconds(this.env) > 0 ? sharedControlDir(this.env) : undefined;
    this.persistS = shared ? controlPersistSeconds(this.env) : 0;
    // Short and private: a unix socket path has at most 108 bytes.
    this.dir = shared ?? fs.mkdtempSync(path.join('/tmp', 'nxsw-ssh-'));
    this.controlPath = path.join(
      this.dir,
      shared ? sharedControlName(target, this.configFile, sshMaterial(this.env, this.configFile), sha256) : 'cm',
    );
    if (shared) this.forwardPath = `${this.controlPath}.sock`;
    if (this.env.NX_SWARM_DEBUG_SSH) this.debug = (m) => process.stderr.write(`nx-swarm ssh: ${m}\n`);
    // One stream: every new stream is a remote session (the login shell's rc files, then the docker
    // CLI starting), ~0.2 s each in the lab, while a request over an open stream takes ~5 ms. The
    // executors' concurrent calls are short, so queueing them behind each other is cheaper.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
    (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, cb: (error: Error | null, socket?: Duplex) => void) => {
      this.open().then(
        (socket) => cb(null, socket),
        (error: Error) => cb(error),
      );
      return undefined;
    };
    this.agent = agent;
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', closeAllSshTransports);
    }
  }

  argv(): string[] {
    return sshDialArgv(this.target, { controlPath: this.controlPath, configFile: this.configFile, controlPersistS: this.persistS || undefined });
  }

  /** A kept socket whose master is gone (the manager rebooted, ssh was killed) is removed, so ssh logs in anew. */
  private dropDeadMaster(): void {
    if (!this.persistS || !fs.existsSync(this.controlPath)) return;
    const check = spawnSync(this.ssh, sshControlArgv(this.target, this.controlPath, 'check', this.configFile), {
      env: this.env,
      stdio: 'ignore',
      timeout: 5000,
    });
    if (check.status !== 0) fs.rmSync(this.controlPath, { force: true });
  }

  private async open(): Promise<Duplex> {
    if (this.closed) throw new Error('the ssh transport is closed');
    if (this.forwardPath) {
      this.forward ??= probeForward(this.forwardPath, this.debug);
      const fwd = await this.forward;
      if (fwd) {
        try {
          const socket = await connectUnix(fwd);
          this.forwardedStreams++;
          this.debug?.(`stream through the forward ${fwd}`);
          return socket;
        } catch {
          this.forward = Promise.resolve(undefined); // gone since the probe: dial-stdio from here on
        }
      }
    }
    const first = !this.master;
    if (first) this.dropDeadMaster();
    if (!first) await this.master;
    const child = spawn(this.ssh, this.argv(), { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.streams++;
    if (this.debug) {
      const t0 = Date.now();
      this.debug(`stream ${this.streams}: ssh ${this.argv().join(' ')}`);
      const n = this.streams;
      child.stdout!.once('data', () => this.debug?.(`stream ${n}: first answer after ${Date.now() - t0} ms`));
      child.once('exit', (code) => this.debug?.(`stream ${n} exited ${code} after ${Date.now() - t0} ms`));
    }
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    const stream = new SshStream(child, this.target, () => (this.dialled = true));
    if (first) this.master = this.waitForMaster(child);
    return stream;
  }

  /** A dial-stdio stream of this process reached the engine (so the master and the login work). */
  private dialled = false;

  private debug?: (message: string) => void;

  /**
   * Once per kept master (when a run that dialled through it ends without a working forward): ask the
   * remote docker CLI which socket it dials, and have the master forward `forwardPath` to it. Best
   * effort, bounded by timeouts; a remote engine that is not on a unix socket gets no forward.
   */
  private setUpForward(): void {
    if (!this.forwardPath || !this.dialled || !fs.existsSync(this.controlPath)) return;
    // The remote took a forward but not its channels (no streamlocal forwarding there): not again for 10 minutes.
    const refused = fs.statSync(`${this.forwardPath}.refused`, { throwIfNoEntry: false });
    if (refused && Date.now() - refused.mtimeMs < 10 * 60_000) return;
    const common = { env: this.env, encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
    let remote = this.target.socketPath && this.target.socketPath.replace(/\/+/g, '') !== '' ? this.target.socketPath : undefined;
    if (!remote) {
      const argv = sshDialArgv(this.target, {
        controlPath: this.controlPath,
        configFile: this.configFile,
        controlPersistS: this.persistS,
        remoteCommand: remoteEndpointCommand(),
      });
      const found = spawnSync(this.ssh, argv, { ...common, timeout: 10_000 });
      remote = found.status === 0 ? remoteUnixSocketOf(found.stdout) : undefined;
      this.debug?.(`remote engine endpoint: ${found.status === 0 ? found.stdout.trim() : `unknown (${found.stderr.trim()})`}`);
    }
    if (!remote || remote.includes(':')) return;
    fs.rmSync(this.forwardPath, { force: true });
    const fwd = spawnSync(this.ssh, sshForwardArgv(this.target, this.controlPath, this.forwardPath, remote, this.configFile), {
      ...common,
      timeout: 5000,
    });
    this.debug?.(`forward ${this.forwardPath} -> ${remote}: ${fwd.status === 0 ? 'set up' : `refused (${fwd.stderr.trim()})`}`);
  }

  /** Until the control socket appears or the first ssh ends (then later streams try by themselves). */
  private waitForMaster(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearInterval(timer);
        resolve();
      };
      const timer = setInterval(() => {
        if (fs.existsSync(this.controlPath)) finish();
      }, 15);
      timer.unref();
      child.once('exit', finish);
      setTimeout(finish, 35_000).unref();
    });
  }

  /** Ends every stream and the master connection. Synchronous: also runs on process exit. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    this.agent.destroy();
    for (const child of this.children) child.kill('SIGTERM');
    // A kept connection stays for the next run; ssh ends it after persistS idle seconds.
    if (this.persistS) {
      if (this.dialled) this.setUpForward();
      return;
    }
    if (fs.existsSync(this.controlPath)) {
      spawnSync(this.ssh, sshExitArgv(this.target, this.controlPath, this.configFile), {
        env: this.env,
        stdio: 'ignore',
        timeout: 5000,
      });
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A connected unix socket (rejects when nothing listens there). */
function connectUnix(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * The forward's path when a GET /_ping through it answers 200 OK within 3 s; otherwise removes the
 * socket file (a master that exited, a remote that refuses streamlocal channels) and gives undefined.
 */
export async function probeForward(socketPath: string, debug?: (m: string) => void): Promise<string | undefined> {
  if (!fs.existsSync(socketPath)) return undefined;
  const answered = (text: string) => /^HTTP\/1\.[01] 200 /.test(text) && /\r\n\r\n(?:[0-9a-f]+\r\n)?OK/i.test(text);
  // 'ok'; 'nobody' (nothing listens: the master is gone); 'refused' (the master took the connection
  // and the remote side closed it: no streamlocal channels there, or no engine on that socket).
  const verdict = await new Promise<'ok' | 'nobody' | 'refused'>((resolve) => {
    let answer = '';
    let connected = false;
    const socket = net.connect(socketPath);
    const done = (v: 'ok' | 'nobody' | 'refused') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(connected ? 'refused' : 'nobody'), 3000);
    socket.once('connect', () => {
      connected = true;
      socket.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      if (answered(answer)) done('ok');
    });
    socket.once('error', () => done(connected ? 'refused' : 'nobody'));
    socket.once('close', () => done(answered(answer) ? 'ok' : connected ? 'refused' : 'nobody'));
  });
  debug?.(`forward ${socketPath}: ${verdict === 'ok' ? 'answers' : `${verdict}; removed`}`);
  if (verdict === 'ok') return socketPath;
  fs.rmSync(socketPath, { force: true });
  if (verdict === 'refused') {
    try {
      fs.writeFileSync(`${socketPath}.refused`, `${new Date().toISOString()}\n`);
    } catch {
      /* then the next run tries again */
    }
  }
  return undefined;
}
