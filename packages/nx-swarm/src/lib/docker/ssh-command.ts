/**
 * ssh:// the way the docker CLI does it (docker/cli cli/connhelper): the system OpenSSH client runs
 * `docker system dial-stdio` on the remote host, and its stdin/stdout carry the Engine API. So
 * ~/.ssh/config (Host aliases, HostName, Port, User, IdentityFile, ProxyJump), known_hosts and the
 * agent all apply, exactly as for `docker -H ssh://…`.
 *
 * This module is pure: the argv for one stream, and what ssh's stderr means (for people). The
 * process side is `ssh-transport.ts`.
 */

export interface SshTarget {
  /** A host name, an address or a Host alias of ~/.ssh/config. */
  host: string;
  username?: string;
  /** Only when the address names one; otherwise ssh's config decides (Port, or 22). */
  port?: number;
  /** Remote socket for `docker --host=unix://PATH system dial-stdio`. */
  socketPath?: string;
}

export interface SshArgvOptions {
  /** ControlPath of the one multiplexed connection of this run (ControlMaster=auto). */
  controlPath?: string;
  /** Seconds the master outlives its last stream (a safety net: the transport closes it itself). */
  controlPersistS?: number;
  /** `-F FILE`: an ssh config other than ~/.ssh/config (set when $HOME is not the account's home). */
  configFile?: string;
  connectTimeoutS?: number;
  /** The remote command (default: `docker system dial-stdio`, with the target's socket). */
  remoteCommand?: string[];
}

/** The remote command, as the docker CLI sends it. */
export function remoteDockerCommand(target: SshTarget): string[] {
  if (target.socketPath && target.socketPath.replace(/\/+/g, '') !== '') {
    // The remote shell parses the command line: quote the path for it.
    return ['docker', `'--host=unix://${target.socketPath.replace(/'/g, `'\\''`)}'`, 'system', 'dial-stdio'];
  }
  return ['docker', 'system', 'dial-stdio'];
}

/**
 * argv (without the leading `ssh`) for one dial-stdio stream:
 *   [-F CONFIG] -o ConnectTimeout=30 -T -o BatchMode=yes [-o ControlMaster=auto -o ControlPath=… -o ControlPersist=…]
 *   [-l USER] [-p PORT] -- HOST docker system dial-stdio
 * BatchMode: never a prompt (a password, a passphrase, "are you sure you want to continue
 * connecting"), so an unknown host key is refused instead of accepted or hanging. Host-key checking
 * itself is left as ssh's config has it: nothing here turns it off.
 */
export function sshDialArgv(target: SshTarget, options: SshArgvOptions = {}): string[] {
  if (!target.host || target.host.startsWith('-')) throw new Error(`not an ssh host: "${target.host}"`);
  const argv: string[] = [];
  if (options.configFile) argv.push('-F', options.configFile);
  argv.push('-o', `ConnectTimeout=${options.connectTimeoutS ?? 30}`, '-T', '-o', 'BatchMode=yes');
  if (options.controlPath) {
    argv.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${options.controlPath}`, '-o', `ControlPersist=${options.controlPersistS ?? 60}`);
  }
  if (target.username) argv.push('-l', target.username);
  if (target.port) argv.push('-p', String(target.port));
  argv.push('--', target.host, ...(options.remoteCommand ?? remoteDockerCommand(target)));
  return argv;
}

/** argv that asks the master of `controlPath` to exit (`ssh -O exit`). */
export function sshExitArgv(target: SshTarget, controlPath: string, configFile?: string): string[] {
  return sshControlArgv(target, controlPath, 'exit', configFile);
}

/** argv for `ssh -O check|exit`: is the master of `controlPath` alive / make it exit. */
export function sshControlArgv(target: SshTarget, controlPath: string, command: 'check' | 'exit', configFile?: string): string[] {
  return [...(configFile ? ['-F', configFile] : []), '-o', `ControlPath=${controlPath}`, '-O', command, '--', target.host];
}

/**
 * The remote command that asks the remote docker CLI where it would dial (DOCKER_HOST, the current
 * context, or the default socket), the same resolution `docker system dial-stdio` makes there.
 */
export function remoteEndpointCommand(): string[] {
  return ['docker', 'context', 'inspect', '--format', `'{{.Endpoints.docker.Host}}'`];
}

/** "unix:///var/run/docker.sock" → "/var/run/docker.sock"; anything else (tcp://, ssh://, npipe, noise) → undefined. Pure. */
export function remoteUnixSocketOf(output: string): string | undefined {
  const line = output.trim().split(/\r?\n/).pop()?.trim() ?? '';
  const m = /^unix:\/\/(\/[^\s:]*)$/.exec(line);
  return m ? m[1] : undefined;
}

/**
 * argv (without `ssh`) that asks the kept master to forward a local unix socket to the remote
 * engine's socket (`ssh -O forward -L LOCAL:REMOTE`): connections to LOCAL become channels of the
 * existing connection, with no remote process per stream (dial-stdio starts the docker CLI there).
 */
export function sshForwardArgv(target: SshTarget, controlPath: string, localSocket: string, remoteSocket: string, configFile?: string): string[] {
  if (localSocket.includes(':') || remoteSocket.includes(':')) throw new Error('a forwarded socket path may not contain ":"');
  return [
    ...(configFile ? ['-F', configFile] : []),
    '-o',
    `ControlPath=${controlPath}`,
    '-O',
    'forward',
    '-L',
    `${localSocket}:${remoteSocket}`,
    '--',
    target.host,
  ];
}

/** The default number of seconds an ssh master outlives the run that opened it (NX_SWARM_SSH_CONTROL_PERSIST). */
export const DEFAULT_CONTROL_PERSIST_S = 60;

/**
 * NX_SWARM_SSH_CONTROL_PERSIST: how long (seconds) the one ssh connection of a run stays open after
 * it, for the next run (the next task of `nx affected -t image deploy`, the next deploy of the edit
 * loop) to reuse without a login; `0` or `no` closes it when the run ends, as the docker CLI does.
 * Unset or not understood: the default. Pure.
 */
export function controlPersistSeconds(env: NodeJS.ProcessEnv): number {
  const v = env.NX_SWARM_SSH_CONTROL_PERSIST?.trim().toLowerCase();
  if (v === undefined || v === '') return DEFAULT_CONTROL_PERSIST_S;
  if (v === 'no' || v === 'false' || v === 'off') return 0;
  return /^\d+$/.test(v) ? Math.min(Number(v), 24 * 3600) : DEFAULT_CONTROL_PERSIST_S;
}

/**
 * The control socket's name for a kept connection: one per destination (target and the -F file) and
 * per ssh configuration it was made under (`material`: the contents of the ssh config and known_hosts
 * files), so that a changed config or host key is never answered by an older connection: it gets a
 * login of its own, with the checks that brings. Short: a unix socket path holds at most 108 bytes. Pure.
 */
export function sharedControlName(target: SshTarget, configFile: string | undefined, material: string, hash: (text: string) => string): string {
  return `cm-${hash(JSON.stringify([target.host, target.username ?? '', target.port ?? 0, target.socketPath ?? '', configFile ?? '', material])).slice(0, 20)}`;
}

export type SshFailureKind =
  | 'host-key-changed'
  | 'host-key-unknown'
  | 'auth'
  | 'resolve'
  | 'refused'
  | 'timeout'
  | 'closed'
  | 'no-docker'
  | 'no-dial-stdio'
  | 'docker-permission'
  | 'remote-engine-down'
  | 'other';

export interface SshFailure {
  kind: SshFailureKind;
  /** ssh's (or the remote docker CLI's) own words, the lines that matter. */
  words: string;
  /** What to do next. */
  next: string;
}

/** The lines of ssh's stderr worth showing: no banner of @, no blank lines, no repeats, at most 16. */
export function sshWords(stderr: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || /^@+$/.test(line) || seen.has(line)) continue;
    seen.add(line);
    lines.push(line.replace(/^@\s*|\s*@$/g, '').trim());
  }
  return lines.slice(-16).join('\n');
}

const quoteArg = (s: string) => (/^[\w@%+=:,./[\]-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** How the user reproduces the connection by hand (the same argv ssh gets, quoted for a shell). */
export function sshByHand(target: SshTarget): string {
  const parts = ['ssh'];
  if (target.username) parts.push('-l', target.username);
  if (target.port) parts.push('-p', String(target.port));
  parts.push(target.host, 'docker', 'version');
  return parts.map(quoteArg).join(' ');
}

/**
 * What ssh's exit and stderr mean. `exitCode` 255 is ssh's own failure; any other code is the
 * remote command's (127: `docker` not found on the remote host's PATH).
 */
export function classifySshFailure(stderr: string, exitCode: number | null, target: SshTarget): SshFailure {
  const words = sshWords(stderr) || (exitCode === null ? 'ssh was killed' : `ssh exited with code ${exitCode} and printed nothing`);
  const who = target.username ? `${target.username}@${target.host}` : target.host;
  const knownHostsLine = /Offending \S+ key in (\S+):(\d+)/.exec(stderr);
  const removeWith = /ssh-keygen -f "([^"]+)" -R "([^"]+)"/.exec(stderr);
  const hostKeyName = /(?:Host key for|host key is known for) (\S+)/.exec(stderr)?.[1] ?? target.host;

  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/i.test(stderr)) {
    return {
      kind: 'host-key-changed',
      words,
      next:
        `The host key of ${hostKeyName} is not the one in ${knownHostsLine ? `${knownHostsLine[1]} (line ${knownHostsLine[2]})` : 'known_hosts'}: ` +
        `either the server was reinstalled or someone is in the middle. Nothing was sent. Check the new fingerprint with the ` +
        `server's owner (on the server: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`); only if it is right, remove the old key with ` +
        `\`${removeWith ? `ssh-keygen -f "${removeWith[1]}" -R "${removeWith[2]}"` : `ssh-keygen -R ${quoteArg(hostKeyName)}`}\` and add the new one.`,
    };
  }
  if (/No \S+ host key is known for|Host key verification failed/i.test(stderr)) {
    return {
      kind: 'host-key-unknown',
      words,
      next:
        `${hostKeyName} is not in known_hosts, and nx-swarm never accepts a host key by itself. Add it once, after checking its ` +
        `fingerprint with the server's owner: \`ssh-keyscan${target.port ? ` -p ${target.port}` : ''} ${quoteArg(target.host)} >> ~/.ssh/known_hosts\` ` +
        `(then \`ssh-keygen -lf ~/.ssh/known_hosts\`), or connect once by hand (\`${sshByHand(target)}\`) and answer yes. ` +
        `In CI, write the known_hosts line from a secret.`,
    };
  }
  if (/Permission denied \(|Too many authentication failures|no mutual signature algorithm/i.test(stderr)) {
    return {
      kind: 'auth',
      words,
      next:
        `The server refused the login as ${who}. Check the user (ssh://USER@HOST or \`User\` in ~/.ssh/config), that the key is ` +
        `loaded (\`ssh-add -l\`; an IdentityFile with a passphrase needs the agent: nx-swarm never prompts) and that its public ` +
        `key is in the server's authorized_keys. Try by hand: \`${sshByHand(target)}\`.`,
    };
  }
  if (/Could not resolve hostname|Name or service not known|nodename nor servname/i.test(stderr)) {
    return {
      kind: 'resolve',
      words,
      next: `"${target.host}" is neither a Host alias in your ssh config nor a name DNS knows. Check the spelling, or add a \`Host ${target.host}\` block with its HostName to ~/.ssh/config.`,
    };
  }
  if (/Connection refused/i.test(stderr)) {
    return {
      kind: 'refused',
      words,
      next: `Nothing listens for ssh there: check the host and Port (ssh config or ssh://HOST:PORT) and that sshd runs.`,
    };
  }
  if (/timed out|No route to host|Network is unreachable/i.test(stderr)) {
    return { kind: 'timeout', words, next: `The host did not answer: check the address, the VPN or firewall, and any ProxyJump host on the way.` };
  }
  if (exitCode === 127 || /docker: (command )?not found|docker: No such file or directory/i.test(stderr)) {
    return {
      kind: 'no-docker',
      words,
      next:
        `The remote host has no \`docker\` command on the PATH of a non-interactive ssh session (ssh:// runs \`docker system dial-stdio\` there, ` +
        `as the docker CLI does). Install the docker CLI on ${target.host} (Debian: \`apt-get install docker.io\`), or put it on the PATH sshd gives ${who}.`,
    };
  }
  if (/is not a docker command|unknown command "dial-stdio"|unknown command: docker system/i.test(stderr)) {
    return {
      kind: 'no-dial-stdio',
      words,
      next: `The docker CLI on ${target.host} is older than 18.09 and has no \`docker system dial-stdio\`: upgrade it there.`,
    };
  }
  if (/permission denied while trying to connect to the Docker daemon socket/i.test(stderr)) {
    return {
      kind: 'docker-permission',
      words,
      next: `${who} may log in but not use the engine: add the user to the docker group on ${target.host} (\`usermod -aG docker USER\`, then log in again), or connect as a user who can.`,
    };
  }
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|dial unix .*: connect/i.test(stderr)) {
    return {
      kind: 'remote-engine-down',
      words,
      next: `The ssh login worked but the engine on ${target.host} does not answer: start dockerd there (\`systemctl start docker\`).`,
    };
  }
  if (/Connection closed by|Connection reset by|kex_exchange_identification|Broken pipe|closed by remote host/i.test(stderr)) {
    return {
      kind: 'closed',
      words,
      next: `The ssh connection was closed by the other side (sshd's MaxStartups, a ProxyJump host, or a firewall). Try by hand: \`${sshByHand(target)}\`.`,
    };
  }
  return { kind: 'other', words, next: `Try the same connection by hand: \`${sshByHand(target)}\`.` };
}
