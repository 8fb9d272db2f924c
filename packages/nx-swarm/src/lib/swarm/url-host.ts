/**
 * Where to try a published port (the summary's `try curl …`). 127.0.0.1 is right only when the port
 * is bound in this machine's network namespace; a remote engine (DOCKER_HOST tcp/ssh, or a socket of
 * an engine in another namespace) publishes on its node's address. Pure.
 */
export interface UrlHostInput {
  /** Publish mode of the port: host (bound on the node running a task) or ingress (every node). */
  mode: string;
  /** The endpoint is this machine (unix socket, npipe, tcp://localhost). */
  endpointLocal: boolean;
  /** Host name of a tcp/ssh endpoint. */
  endpointHost?: string;
  /** The manager's swarm address (Info.Swarm.NodeAddr). */
  managerAddr?: string;
  /** Status.Addr of the nodes running a task (host mode). */
  taskNodeAddrs: string[];
  /** This machine's interface addresses. */
  localAddrs: string[];
}

const usable = (a?: string) => Boolean(a && a !== '0.0.0.0' && a !== '::');

export function chooseUrlHost(i: UrlHostInput): string {
  const isLocal = (a?: string) => usable(a) && (i.localAddrs.includes(a!) || a === '127.0.0.1' || a === '::1');
  if (i.mode === 'host') {
    const addrs = i.taskNodeAddrs.filter(usable);
    if (addrs.some(isLocal)) return '127.0.0.1';
    if (addrs.length) return addrs[0];
  }
  if (isLocal(i.managerAddr)) return i.endpointLocal || !i.endpointHost ? '127.0.0.1' : i.endpointHost;
  if (!i.endpointLocal && i.endpointHost) return i.endpointHost;
  if (usable(i.managerAddr)) return i.managerAddr!;
  return i.endpointLocal ? '127.0.0.1' : (i.endpointHost ?? '127.0.0.1');
}
