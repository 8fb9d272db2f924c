/**
 * The apply side of `serve`: build, start, watch, restart. Small on purpose; the decisions are in
 * serve-plan.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { isServeInput, type ServePlan } from './serve-plan';

/** size + mtime of every serve input under the roots; changes on any edit, add or delete. */
export function inputsFingerprint(roots: string[]): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'vendor' || e.name === 'testdata') continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (isServeInput(e.name)) {
        try {
          const st = fs.statSync(full);
          parts.push(`${full}:${st.size}:${st.mtimeMs}`);
        } catch {
          /* deleted meanwhile */
        }
      }
    }
  };
  for (const r of roots) walk(r);
  return parts.sort().join('\n');
}

export interface ServeEvents {
  info(message: string): void;
  error(message: string): void;
}

async function build(plan: ServePlan, events: ServeEvents): Promise<boolean> {
  fs.mkdirSync(path.dirname(plan.run.file), { recursive: true });
  const started = Date.now();
  const r = await execa('go', plan.build.args, { cwd: plan.build.cwd, env: plan.build.env, reject: false, all: true });
  if (r.exitCode !== 0) {
    events.error(`go ${plan.build.args.join(' ')} failed:\n${(r.all ?? '').trimEnd()}`);
    return false;
  }
  events.info(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

function start(plan: ServePlan, events: ServeEvents): ChildProcess {
  events.info(`$ ${[path.relative(process.cwd(), plan.run.file) || plan.run.file, ...plan.run.args].join(' ')}`);
  const child = spawn(plan.run.file, plan.run.args, { cwd: plan.run.cwd, env: { ...process.env, ...plan.run.env }, stdio: 'inherit' });
  child.on('exit', (code, signal) => events.info(`service exited (${signal ?? `code ${code}`})`));
  return child;
}

async function stop(child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs until `signal` aborts: build + start, then (with watch) rebuild and restart on every change.
 * A failing build keeps the running service and waits for the next change.
 */
export async function serve(plan: ServePlan, events: ServeEvents, signal: AbortSignal, onFirstStart: () => void): Promise<void> {
  let child: ChildProcess | undefined;
  let fingerprint = inputsFingerprint(plan.watchRoots);
  if (await build(plan, events)) child = start(plan, events);
  onFirstStart();
  if (plan.watch) events.info(`watching ${plan.watchRoots.map((r) => path.relative(process.cwd(), r) || '.').join(', ')}`);
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, plan.pollMs));
    if (!plan.watch) {
      if (child && (child.exitCode !== null || child.signalCode !== null)) break;
      continue;
    }
    const next = inputsFingerprint(plan.watchRoots);
    if (next === fingerprint) continue;
    fingerprint = next;
    events.info('Go inputs changed: rebuilding');
    if (await build(plan, events)) {
      await stop(child, plan.stopTimeoutMs);
      child = start(plan, events);
    }
  }
  await stop(child, plan.stopTimeoutMs);
}
