/** The deployer's one error type: a message for people, and detail lines (logs, health output). */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

/** The lines an executor prints for a failure: a DeployError's message and details, else "<executor> failed: …". */
export function failureLines(error: unknown, executor: string): string[] {
  if (error instanceof DeployError) return [error.message, ...error.details.map((d) => (d.startsWith('  ') ? d : `  ${d}`))];
  return [`${executor} failed: ${(error as Error)?.message ?? String(error)}`];
}

/** Adds advice to the daemon's synchronous create/update errors. Pure. */
export function explainDaemonError(msg: string): string {
  if (/port published with ingress mode can't be used with dnsrr mode/i.test(msg)) {
    return `${msg}. Publish the port with "mode": "host", or use endpointMode "vip".`;
  }
  if (/port '?\d+'? is already in use by service/i.test(msg)) return `${msg}. Remove that service or choose another published port.`;
  if (/not a swarm manager|not part of a swarm/i.test(msg)) {
    return `${msg}. Run \`docker swarm init\`, or point DOCKER_HOST at a swarm manager.`;
  }
  if (/service needs ingress network/i.test(msg)) {
    return `${msg}. The swarm's ingress network is missing: recreate it with \`docker network create --ingress --driver overlay ingress\`, or publish with "mode": "host".`;
  }
  return msg;
}
