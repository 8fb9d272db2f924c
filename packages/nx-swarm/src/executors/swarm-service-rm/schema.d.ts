/** Options of the swarm-service-rm executor. */
export interface SwarmServiceRmExecutorSchema {
  /** Service name; default the project name. */
  service?: string;
  /** Fail when the service does not exist (default false: absent is success). */
  failIfMissing?: boolean;
  /** Also remove the networks the service used that nothing else uses (never ingress). */
  removeNetworks?: boolean;
  /** How long to wait for the tasks and containers to go away (seconds or "60s"). Default 60 s. */
  timeout?: string | number;
}
