/**
 * What every executor takes besides options and context: the environment it reads (DOCKER_HOST,
 * registry credentials, GOFLAGS…). Tests pass their own; Nx passes nothing (process.env).
 */
export interface ExecutorRuntime {
  env?: NodeJS.ProcessEnv;
}

export function runtimeEnv(runtime: ExecutorRuntime | undefined): NodeJS.ProcessEnv {
  return runtime?.env ?? process.env;
}
