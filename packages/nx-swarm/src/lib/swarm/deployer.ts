/**
 * swarm-deploy, top to bottom: options → preflight → plan → apply → follow → report. Each stage is
 * its own file in this folder; this one only strings them together. dryRun prints the plan and
 * returns before anything is written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTextOrUndefined } from '../common/fs';
import type { Engine } from '../docker/engine';
import type { EndpointEnv } from '../docker/endpoint';
import { ImageReceipt, imageReceiptPath, readImageReceipt } from '../docker/image-receipt';
import { applyPlan } from './apply';
import { ConvergenceInput } from './convergence';
import { DeployError } from './deploy-error';
import { DeployOptions, DeployOptionsError, normalizeDeployOptions } from './deploy-options';
import { follow } from './follow';
import { chooseImage, placementPlatforms } from './image-ref';
import { SwarmDeployOptions, formatDuration } from './options';
import { CurrentState, DeployPlan, describePlan, planDeploy } from './plan';
import { KernelProbe, PreflightResult, preflight } from './preflight';
import { readTracker, type ReadTracker } from './read-tracker';
import { DeployReport, buildReport, deployReportPath, portsOf, tryPathFor, urlHost, writeReport } from './report';
import { buildServiceSpec } from './service-spec';
import { healthcheckOverride, sizeMonitor } from './monitor';
import { SwarmApi, guardedSwarmApi } from './swarm-api';
import { createObjects, pruneObjects, readObjectPlan } from './object-store';
import { RELEASES_LABEL, Release, appendRelease, decodeReleases, encodeReleases, gitCommit } from './releases';

export { DeployError } from './deploy-error';
export type { DeployReport } from './report';

export interface DeployParams {
  options: SwarmDeployOptions;
  projectName: string;
  projectRoot: string;
  workspaceRoot: string;
  /** Environment for the engine endpoint and registry credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Poll interval for convergence (ms). */
  pollMs?: number;
  kernelProbe?: KernelProbe;
  /** Pre-connected engine (tests). */
  engine?: Engine;
  /** composeFile: the options the user set (in project.json, a configuration or on the command line), which override the file. Default: every option given. */
  explicit?: (key: keyof SwarmDeployOptions) => boolean;
  /** A SwarmApi instead of an engine (unit tests: a fake), with the endpoint facts the messages need. */
  api?: EngineFacts;
  /** Clock for the follow loop (unit tests: a fake one). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Reads the service and its up-to-date running tasks (one round trip, both at once). */
export async function readCurrent(api: SwarmApi, o: DeployOptions): Promise<CurrentState> {
  const [service, upToDateRunning] = await Promise.all([
    api.inspectService(o.service),
    // Unknown service: the engine answers 404 for the filter; no tasks then.
    api.listTasks({ service: [o.service], 'desired-state': ['running'], '_up-to-date': ['true'] }).catch(() => []),
  ]);
  const wantedTasks =
    service && o.mode === 'global' ? (await api.listTasks({ service: [service.ID], 'desired-state': ['running'] })).length : undefined;
  // Not all running: did tasks fail to pull? (A deploy with credentials then re-issues the spec: plan.ts.)
  const running = upToDateRunning.filter((t) => t.Status.State === 'running').length;
  const pullFailures =
    service && running < (wantedTasks ?? o.replicas ?? 1)
      ? (await api.listTasks({ service: [service.ID] })).filter((t) => /No such image/i.test(t.Status.Err ?? '')).length
      : undefined;
  return { service, upToDateRunning: service ? upToDateRunning : [], wantedTasks, ...(pullFailures ? { pullFailures } : {}) };
}

/** The engine as the stages see it. */
export interface EngineFacts {
  api: SwarmApi;
  describe: string;
  local: boolean;
  host?: string;
  /** The negotiated Engine API version, e.g. "1.41". */
  apiVersion?: string;
}

/** The engine the stages talk to (shared with swarm-rollback). */
export async function connect(params: Pick<DeployParams, 'api' | 'engine' | 'warn' | 'log'>, env: NodeJS.ProcessEnv): Promise<EngineFacts> {
  if (params.api) return params.api;
  // Loaded here, not at module load: dockerode (and ssh2 under it) only when a deploy talks to an engine.
  const { connectEngine } = require('../docker/engine') as typeof import('../docker/engine');
  const { isLocalEndpoint } = require('../docker/endpoint') as typeof import('../docker/endpoint');
  const engine: Engine =
    params.engine ??
    (await connectEngine({ env: env as EndpointEnv }).catch((e: Error) => {
      throw new DeployError(e.message);
    }));
  const ep = engine.endpoint;
  return {
    api: guardedSwarmApi(engine.docker, engine.describe, 'deploy', params.warn ?? params.log),
    describe: engine.describe,
    local: isLocalEndpoint(ep),
    host: ep.kind === 'tcp' || ep.kind === 'ssh' ? ep.host : undefined,
    apiVersion: engine.apiVersion,
  };
}

/** Deploys; returns the report, or throws DeployError with a human message. */
export async function deploy(params: DeployParams): Promise<DeployReport> {
  const startedAt = Date.now();
  const log = params.log ?? (() => {});
  const warn = params.warn ?? log;
  const env = params.env ?? process.env;

  // What the deploy reads from files and variables, for the target's cache check.
  const reads = readTracker(env, params.workspaceRoot);

  // A stack file, when there is one, under the options (which win, key by key).
  let options = params.options;
  let composeImage: string | undefined;
  if (options.composeFile) {
    const fromFile = readComposeSource(options, params, reads.env, log, reads);
    options = fromFile.options;
    composeImage = fromFile.image;
  }

  // Options, once.
  let o: DeployOptions;
  try {
    o = normalizeDeployOptions(options, {
      projectName: params.projectName,
      workspaceRoot: params.workspaceRoot,
      env: reads.env,
      readFile: (f) => {
        reads.file(f);
        return fs.existsSync(f) && fs.statSync(f).isFile() ? fs.readFileSync(f) : undefined;
      },
    });
  } catch (error) {
    if (error instanceof DeployOptionsError) throw new DeployError(`Invalid swarm-deploy options for ${error.service}:`, error.problems);
    throw error;
  }

  // The image: explicit, or the image target's receipt.
  let receipt: ImageReceipt | undefined;
  const receiptFile = imageReceiptPath(params.workspaceRoot, params.projectRoot, options.outputDir);
  const receiptRel = path.relative(params.workspaceRoot, receiptFile);
  if (!o.image) {
    receipt = readImageReceipt(receiptFile);
    if (!receipt && composeImage) {
      log(`No image target receipt (${receiptRel}): deploying the image ${options.composeFile} names, ${composeImage}.`);
      o.image = composeImage;
    } else if (!receipt) {
      throw new DeployError(
        `No image to deploy: ${receiptRel} does not exist. Run the image target first (\`nx run ${params.projectName}:image\`), or set the "image" option.`,
      );
    }
  }
  const image = chooseImage(o.image, receipt)!;
  if ((o.image || !receipt) && !/@sha256:[0-9a-f]{64}$/.test(image.ref))
    reads.uncacheable(`the image is named by a tag (${image.ref}), which can move`);

  // 1. Preflight.
  const engine = await connect(params, env);
  const api = engine.api;
  options.groupsFromFiles?.forEach((f) => reads.file(f));
  if (options.groupsFromFiles?.length) o.hardening.Groups = [...(o.hardening.Groups ?? []), ...groupsFromFiles(options.groupsFromFiles, engine)];
  const pre: PreflightResult = await preflight(api, {
    options: o,
    image,
    engine,
    receiptFile: receiptRel,
    projectName: params.projectName,
    env,
    kernelProbe: params.kernelProbe,
    log,
    warn,
  });
  const healthcheck = healthcheckOverride(o.healthcheck, pre.healthcheck, engine.apiVersion);
  const monitorNs = sizeMonitor(o, healthcheck?.StartInterval ? { ...pre.healthcheck, ...healthcheck } : pre.healthcheck);

  // 2. Plan (again after a race: apply calls replan). Secrets and configs: the versions to create
  // are created here, before the plan's write (never in a dry run).
  const wanted = [...o.secrets, ...o.configs];
  const replan = async (): Promise<DeployPlan> => {
    const current = await readCurrent(api, o);
    const objects = wanted.length ? await readObjectPlan(api, wanted, current.service) : undefined;
    if (objects?.create.length && !o.dryRun) await createObjects(api, objects, log);
    const history = current.service?.Spec.Labels?.[RELEASES_LABEL];
    const input = {
      image: image.ref,
      networkIds: pre.networkIds,
      forceUpdate: current.service?.Spec.TaskTemplate.ForceUpdate ?? 0,
      monitorNs,
      healthcheck,
      platforms: placementPlatforms(image),
      objectIds: objects?.ids,
      releases: history,
    };
    const p = planDeploy(
      current,
      {
        spec: buildServiceSpec(o, input),
        orderNote: o.orderNote,
        imagePushed: image.pushed,
        networkNames: pre.networkNames,
        objectLines: objects?.lines,
        sendsRegistryAuth: Boolean(pre.authHeaders['X-Registry-Auth']),
      },
      pre.nodes,
    );
    if (p.action === 'create' || p.action === 'update') {
      // The write carries the new release on top of the history (swarm's rollback restores the old one with the old spec).
      const decoded = decodeReleases(history);
      if (decoded.problem) warn(decoded.problem);
      const releases = appendRelease(decoded.releases, releaseOf(image.ref, o, params.workspaceRoot));
      // (keeping a ForceUpdate the plan raised: a re-issue that must replace the tasks)
      p.desired = buildServiceSpec(o, {
        ...input,
        forceUpdate: p.desired.TaskTemplate.ForceUpdate ?? input.forceUpdate,
        releases: encodeReleases(releases),
      });
      p.release = releases[0];
    }
    return p;
  };
  const plan = await replan();
  plan.warnings.forEach((w) => warn(w));
  const tryPath = tryPathFor(o.tryPath, pre.healthcheck);
  const endpoint = { local: engine.local, host: engine.host };
  const report = (
    action: DeployReport['action'],
    p: DeployPlan,
    extra: Partial<Parameters<typeof buildReport>[0]> & Pick<Parameters<typeof buildReport>[0], 'replicas' | 'ports'>,
  ) =>
    buildReport({
      action,
      service: o.service,
      serviceId: p.current?.ID,
      image: image.ref,
      imageId: pre.imageId,
      changes: p.changeLines,
      versionIndex: p.current?.Version.Index,
      release: p.release && { n: p.release.n },
      startedAt,
      read: reads.read,
      ...extra,
    });

  if (o.dryRun) {
    if (plan.action === 'recreate') throw new DeployError(plan.notes[0]); // a plan that can't be applied fails the dry run too
    describePlan(plan).forEach((l) => log(l));
    plan.notes.forEach((n) => log(n));
    return report('dry-run', plan, {
      replicas: { running: 0, desired: plan.desired.Mode.Replicated?.Replicas ?? 0 },
      ports: portsOf(plan.desired, plan.current, '127.0.0.1', tryPath),
    });
  }

  // 3. Apply.
  plan.notes.forEach((n) => log(n));
  const applied = await applyPlan(api, plan, { replan, headers: pre.authHeaders, log });
  const done = applied.plan;
  const reportFile = deployReportPath(params.workspaceRoot, params.projectRoot, options.outputDir);

  if (done.action === 'noop') {
    const running = done.upToDateRunning;
    const r = report('noop', done, {
      changes: [],
      replicas: {
        running: running.filter((t) => t.Status.State === 'running').length,
        desired: done.desired.Mode.Replicated?.Replicas ?? running.length,
      },
      ports: portsOf(done.desired, done.current, await urlHost(api, endpoint, pre.info, done.desired, running), tryPath),
    });
    log(`${o.service} is up to date (${image.ref}, ${r.replicas.running}/${r.replicas.desired} running); nothing to do.`);
    writeReport(reportFile, r);
    return r;
  }
  done.notes.filter((n) => !plan.notes.includes(n)).forEach((n) => log(n)); // re-planned after a race: what's new

  // 4. Follow.
  const timeoutMs = o.timeoutNs / 1e6;
  const tracker: ConvergenceInput = {
    kind: done.action === 'create' ? 'create' : 'update',
    serviceName: o.service,
    image: image.ref,
    previousImage: done.current?.Spec.TaskTemplate.ContainerSpec.Image,
    desiredReplicas: done.desired.Mode.Replicated ? (done.desired.Mode.Replicated.Replicas ?? 1) : undefined,
    hasHealthcheck: Boolean(pre.healthcheck),
    failureAction: done.desired.UpdateConfig?.FailureAction ?? 'pause',
    constraints: o.constraints,
    publishedPorts: o.ports.filter((p) => p.published).map((p) => p.published!),
    deadlineMs: timeoutMs,
    settleMs: Math.min((done.desired.UpdateConfig?.Monitor ?? 5e9) / 1e6, timeoutMs / 2),
    priorUpdateStatus: done.action === 'follow' ? done.current?.UpdateStatus : undefined,
  };
  log(`Waiting for ${o.service} to converge (timeout ${formatDuration(o.timeoutNs)}):`);
  const followed = await follow(api, {
    serviceId: applied.serviceId!,
    desired: done.desired,
    tracker,
    view: { localNodeId: pre.info.Swarm?.NodeID },
    log,
    warn,
    pollMs: params.pollMs,
    now: params.now,
    sleep: params.sleep,
    pullProbe: (ref) => pullProbeLine(ref, env, Boolean(pre.authHeaders['X-Registry-Auth'])),
  });

  // 5. Report.
  const r = report(done.action === 'follow' ? 'follow' : done.action === 'create' ? 'create' : 'update', done, {
    serviceId: followed.service.ID,
    replicas: { running: followed.running, desired: followed.desired },
    ports: portsOf(done.desired, followed.service, await urlHost(api, endpoint, pre.info, done.desired, followed.tasks), tryPath),
    versionIndex: followed.service.Version.Index,
  });
  writeReport(reportFile, r);
  if (
    wanted.length ||
    followed.service.PreviousSpec?.TaskTemplate.ContainerSpec.Secrets ||
    followed.service.PreviousSpec?.TaskTemplate.ContainerSpec.Configs
  ) {
    await pruneObjects(api, o.service, log, warn);
  }
  return r;
}

/**
 * composeFile → the options: the file's service under the given options (explicit ones win, key by
 * key; one that only holds its schema default does not). Problems fail the deploy before any engine
 * call; notes (what `docker stack deploy` ignores too) are said.
 */
export function readComposeSource(
  options: SwarmDeployOptions,
  params: Pick<DeployParams, 'workspaceRoot' | 'projectName' | 'explicit'>,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  reads?: Pick<ReadTracker, 'file'>,
): { options: SwarmDeployOptions; image?: string } {
  const { mergeComposeOptions, parseComposeService } = require('./compose') as typeof import('./compose');
  const file = options.composeFile!;
  const abs = path.resolve(params.workspaceRoot, file);
  reads?.file(abs);
  const text = readTextOrUndefined(abs);
  if (text === undefined) throw new DeployError(`composeFile: ${file} does not exist (paths are relative to the workspace root).`);
  const service = options.composeService ?? options.service ?? params.projectName;
  const parsed = parseComposeService(text, {
    file,
    service,
    env,
    baseDir: path.dirname(path.relative(params.workspaceRoot, abs)),
    readFile: (f) => {
      reads?.file(path.resolve(params.workspaceRoot, f));
      return readTextOrUndefined(path.resolve(params.workspaceRoot, f));
    },
  });
  if (parsed.problems.length) throw new DeployError(`Can't deploy service ${service} from ${file}:`, parsed.problems);
  parsed.notes.forEach((n) => log(n));
  const explicit = params.explicit ?? ((key: keyof SwarmDeployOptions) => options[key] !== undefined);
  const merged = mergeComposeOptions(parsed.options, options, explicit);
  return { options: { ...merged, service: options.service ?? service }, image: parsed.composeImage };
}

/** groupsFromFiles → gids, read on this machine (the engine must be local: the tasks run here). */
export function groupsFromFiles(
  files: string[],
  engine: Pick<EngineFacts, 'local' | 'describe'>,
  stat = (f: string) => fs.statSync(f).gid,
): string[] {
  if (!engine.local) {
    throw new DeployError(
      `groupsFromFiles (${files.join(', ')}) reads each file's group on this machine, but the engine at ${engine.describe} is remote. ` +
        `Give the group id in "groups" instead (on the manager: \`stat -c %g ${files[0]}\`).`,
    );
  }
  return files.map((f) => {
    try {
      return String(stat(f));
    } catch (error) {
      throw new DeployError(`groupsFromFiles: can't read the group of ${f}: ${(error as Error).message}`);
    }
  });
}

/** The release a write records: what runs (image, object versions) and who, where, from which commit. */
export function releaseOf(
  image: string,
  o: Pick<DeployOptions, 'secrets' | 'configs'>,
  workspaceRoot: string,
  extra: Partial<Release> = {},
): Omit<Release, 'n'> {
  const names = (list: DeployOptions['secrets']) => (list.length ? Object.fromEntries(list.map((x) => [x.source, x.name])) : undefined);
  let by = 'unknown';
  try {
    by = `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    by = `?@${os.hostname()}`;
  }
  return {
    image,
    secrets: names(o.secrets),
    configs: names(o.configs),
    commit: gitCommit(workspaceRoot, readTextOrUndefined),
    at: new Date().toISOString(),
    by,
    ...extra,
  };
}

/** What the registry answers a pull of `ref` like the nodes' (with the credentials sent, or none). */
async function pullProbeLine(ref: string, env: NodeJS.ProcessEnv, credentialsSent: boolean): Promise<string | undefined> {
  const { probeRegistryPull, pushedRefParts, registryPullLine } = require('./registry-probe') as typeof import('./registry-probe');
  const { registryDomainOf } = require('../docker/reference') as typeof import('../docker/reference');
  const parts = pushedRefParts(ref, registryDomainOf);
  if (!parts) return undefined;
  let credentials;
  let source: string | undefined;
  if (credentialsSent) {
    const { resolveRegistryAuth } = require('../docker/registry-auth') as typeof import('../docker/registry-auth');
    const resolved = await resolveRegistryAuth(parts.registry, env as never, readTextOrUndefined);
    credentials = resolved.credentials;
    source = resolved.source;
  }
  const answer = await probeRegistryPull(parts, credentials, env);
  return registryPullLine(ref, answer, { registry: parts.registry, credentialsSent, credentialSource: source });
}
