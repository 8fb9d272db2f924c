/**
 * The plan of the continuous `serve` target: options → the `go build` argv, the command that runs the
 * service, and the folders whose Go inputs restart it (the module and every workspace module it
 * depends on, from the project graph). Pure.
 *
 * It builds to a file and runs that file rather than `go run .`: `go run` is a parent process of its
 * own, and a restart must send SIGTERM to the service itself (graceful drain), not to a wrapper.
 */
import * as path from 'node:path';

export interface ServeOptions {
  /** Arguments for the service (e.g. ["-port", "6767"]). */
  args?: string[];
  /** Extra environment for the service and the build. */
  env?: Record<string, string>;
  /** The main package to build, relative to the project root (default "."). */
  main?: string;
  /** Restart when Go inputs change (default true). */
  watch?: boolean;
  /** Poll interval of the watcher in ms (default 500). */
  pollMs?: number;
  /** How long a stopping service gets after SIGTERM before SIGKILL, in ms (default 10000). */
  stopTimeoutMs?: number;
}

export interface ServePlan {
  build: { args: string[]; cwd: string; env: Record<string, string> };
  run: { file: string; args: string[]; cwd: string; env: Record<string, string> };
  watchRoots: string[];
  watch: boolean;
  pollMs: number;
  stopTimeoutMs: number;
}

export interface ServeContext {
  workspaceRoot: string;
  projectRoot: string;
  projectName: string;
  /** Roots of the Go module projects this one depends on, transitively. */
  dependencyRoots: string[];
}

export function planServe(options: ServeOptions, ctx: ServeContext): ServePlan {
  const cwd = path.join(ctx.workspaceRoot, ctx.projectRoot);
  const file = path.join(ctx.workspaceRoot, 'tmp', 'serve', ctx.projectRoot, ctx.projectName);
  const env = { ...(options.env ?? {}) };
  const main = options.main ?? '.';
  return {
    build: { args: ['build', '-o', file, main.startsWith('.') ? main : `./${main}`], cwd, env },
    run: { file, args: [...(options.args ?? [])], cwd, env },
    watchRoots: [...new Set([ctx.projectRoot, ...ctx.dependencyRoots])].map((r) => path.join(ctx.workspaceRoot, r)).sort(),
    watch: options.watch ?? true,
    pollMs: options.pollMs ?? 500,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
  };
}

/** Go projects this project depends on, transitively, from Nx's project graph (roots). */
export function goDependencyRoots(
  graph: { nodes: Record<string, { data: { root: string } }>; dependencies: Record<string, { target: string }[]> },
  project: string,
  isGoModule: (root: string) => boolean,
): string[] {
  const seen = new Set<string>([project]);
  const out: string[] = [];
  const queue = [project];
  while (queue.length) {
    const p = queue.shift()!;
    for (const d of graph.dependencies[p] ?? []) {
      if (seen.has(d.target) || !graph.nodes[d.target]) continue;
      seen.add(d.target);
      const root = graph.nodes[d.target].data.root;
      if (isGoModule(root)) {
        out.push(root);
        queue.push(d.target);
      }
    }
  }
  return out.sort();
}

/** Is this a file whose change restarts the service? Go sources (not tests), go.mod, go.sum, go.work. */
export function isServeInput(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (base === 'go.mod' || base === 'go.sum' || base === 'go.work') return true;
  return base.endsWith('.go') && !base.endsWith('_test.go');
}
