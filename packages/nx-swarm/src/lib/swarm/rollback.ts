/**
 * swarm-rollback: return a service to a recorded release (releases.ts): its image and its secret
 * and config versions, everything else as the service has it now. A rollback is a verified deploy
 * (the same plan, apply, follow and report as swarm-deploy) and builds nothing; it records a new
 * release that says which one it returned to. `list` prints the history.
 */
import { applyPlan } from './apply';
import { ConvergenceInput } from './convergence';
import { DeployError } from './deploy-error';
import { DeployParams, connect, releaseOf } from './deployer';
import { follow } from './follow';
import { pruneObjects } from './object-store';
import { ObjectKind, ObjectReferenceSpec, referencedName, sameSource } from './objects';
import { formatDuration, parseDuration } from './options';
import { DeployPlan, describePlan, planDeploy } from './plan';
import { registryAuthHeader } from './preflight';
import { RELEASES_LABEL, Release, appendRelease, chooseRollbackTarget, decodeReleases, encodeReleases, formatReleaseTable } from './releases';
import { DeployReport, buildReport, deployReportPath, portsOf, urlHost, writeReport } from './report';
import type { ServiceSpec } from './service-spec';
import type { ServiceInspect, SwarmApi } from './swarm-api';
import { SERVICE_NAME_RE } from './validate-options';

export interface RollbackOptions {
  service?: string;
  /** Release number to return to (default: the one before the current). */
  to?: number;
  /** Print the release history; change nothing. */
  list?: boolean;
  /** Convergence deadline (default 120s). */
  timeout?: string | number;
  dryRun?: boolean;
  withRegistryAuth?: boolean | 'auto';
  /** Path for the summary's `try curl`. */
  tryPath?: string;
  /** Folder of the deploy report (default dist/{projectRoot}). */
  outputDir?: string;
}

/** The deployer's parameters (engine, clock, output), with the rollback's options. */
export type RollbackParams = Omit<DeployParams, 'options' | 'kernelProbe' | 'explicit'> & { options: RollbackOptions };

export type RollbackResult = { kind: 'list'; lines: string[]; releases: Release[] } | { kind: 'rollback'; report: DeployReport };

/**
 * The current spec with a release's image and object versions: each of the release's versions
 * replaces the reference to the same source (the same `{service}_{source}_` prefix, or the same
 * external name). Pure; throws when the spec no longer mounts one of them.
 */
export function specForRelease(current: ServiceSpec, release: Release, ids: Record<string, string>, history: string): ServiceSpec {
  const spec = JSON.parse(JSON.stringify(current)) as ServiceSpec;
  const cs = spec.TaskTemplate.ContainerSpec;
  cs.Image = release.image;
  for (const [kind, key, idKey, nameKey] of [
    ['secret', 'Secrets', 'SecretID', 'SecretName'],
    ['config', 'Configs', 'ConfigID', 'ConfigName'],
  ] as const) {
    const refs = (cs[key] ?? []) as ObjectReferenceSpec[];
    for (const [source, name] of Object.entries((kind === 'secret' ? release.secrets : release.configs) ?? {})) {
      const ref = refs.find((r) => referencedName(r) === name || sameSource(referencedName(r), name));
      if (!ref) {
        throw new DeployError(
          `Release #${release.n} mounted ${kind} ${source} (${name}), which ${spec.Name} no longer has; a rollback changes only the image and the versions. ` +
            `Deploy with the ${kind} back in the options instead (or roll back to a later release).`,
        );
      }
      ref[nameKey] = name;
      ref[idKey] = ids[name];
    }
  }
  spec.Labels = { ...(spec.Labels ?? {}), [RELEASES_LABEL]: history };
  return spec;
}

export async function rollback(params: RollbackParams): Promise<RollbackResult> {
  const startedAt = Date.now();
  const log = params.log ?? (() => {});
  const warn = params.warn ?? log;
  const env = params.env ?? process.env;
  const o = params.options;
  const service = o.service ?? params.projectName;
  if (!SERVICE_NAME_RE.test(service)) throw new DeployError(`"${service}" is not a valid swarm service name; set the "service" option.`);
  const timeoutNs = parseDuration(o.timeout ?? '120s', 'timeout');
  const engine = await connect(params, env);
  const api = engine.api;

  const read = async () => {
    const current = await api.inspectService(service);
    if (!current)
      throw new DeployError(
        `There is no service ${service} on ${engine.describe}: nothing to roll back. Deploy it first (\`nx run ${params.projectName}:deploy\`).`,
      );
    const decoded = decodeReleases(current.Spec.Labels?.[RELEASES_LABEL]);
    if (decoded.problem) warn(decoded.problem);
    return { current, releases: decoded.releases };
  };
  const first = await read();
  if (o.list) {
    const lines = first.releases.length
      ? [
          `Releases of ${service} (newest first, * = current; the last 10 are kept):`,
          ...formatReleaseTable(first.releases, first.current.Spec.TaskTemplate.ContainerSpec.Image),
        ]
      : [`${service} has no recorded releases (deployed before nx-swarm recorded them, or by something else).`];
    lines.forEach((l) => log(l));
    return { kind: 'list', lines, releases: first.releases };
  }

  let target: Release | undefined;
  const replan = async (): Promise<DeployPlan> => {
    const { current, releases } = await read();
    const chosen = chooseRollbackTarget(releases, target?.n ?? o.to);
    if (!chosen.release) throw new DeployError(`Can't roll back ${service}: ${chosen.problem}.`);
    target = chosen.release;
    const ids = await objectIds(api, target);
    const next = appendRelease(
      releases,
      releaseOf(target.image, { secrets: [], configs: [] }, params.workspaceRoot, {
        secrets: target.secrets,
        configs: target.configs,
        rollbackOf: target.n,
      }),
    );
    const spec = specForRelease(current.Spec, target, ids, encodeReleases(next));
    const upToDateRunning = await api.listTasks({ service: [service], 'desired-state': ['running'], '_up-to-date': ['true'] }).catch(() => []);
    const plan = planDeploy(
      { service: current, upToDateRunning, wantedTasks: current.Spec.Mode.Global ? upToDateRunning.length : undefined },
      { spec, imagePushed: true },
      1,
    );
    plan.release = next[0];
    return plan;
  };
  const plan = await replan();
  const t = target!;
  if (plan.action === 'noop' || (plan.action === 'update' && !plan.changes.length)) {
    throw new DeployError(
      `${service} already runs release #${t.n}'s image and versions (${t.image}); nothing to roll back. \`--list\` shows the history.`,
    );
  }
  log(`Rolling ${service} back to release #${t.n} (${t.image}${t.commit ? `, commit ${t.commit}` : ''}, deployed ${t.at} by ${t.by}).`);
  if (o.dryRun) {
    describePlan(plan).forEach((l) => log(l));
    return {
      kind: 'rollback',
      report: reportOf('dry-run', plan, startedAt, { running: 0, desired: plan.desired.Mode.Replicated?.Replicas ?? 0 }, []),
    };
  }
  const headers = o.withRegistryAuth !== false ? await registryAuthHeader(t.image, env, log, o.withRegistryAuth !== true) : {};
  const applied = await applyPlan(api, plan, { replan, headers, log });
  const done = applied.plan;

  const timeoutMs = timeoutNs / 1e6;
  const info = await api.info();
  const cs = done.desired.TaskTemplate.ContainerSpec;
  const image = await api.inspectImage([t.image]);
  const tracker: ConvergenceInput = {
    kind: 'update',
    serviceName: service,
    image: t.image,
    previousImage: done.current?.Spec.TaskTemplate.ContainerSpec.Image,
    desiredReplicas: done.desired.Mode.Replicated ? (done.desired.Mode.Replicated.Replicas ?? 1) : undefined,
    hasHealthcheck: Boolean((cs.Healthcheck?.Test?.length && cs.Healthcheck.Test[0] !== 'NONE') || image?.healthcheck),
    failureAction: done.desired.UpdateConfig?.FailureAction ?? 'pause',
    constraints: done.desired.TaskTemplate.Placement?.Constraints ?? [],
    publishedPorts: (done.desired.EndpointSpec?.Ports ?? []).filter((p) => p.PublishedPort).map((p) => p.PublishedPort!),
    deadlineMs: timeoutMs,
    settleMs: Math.min((done.desired.UpdateConfig?.Monitor ?? 5e9) / 1e6, timeoutMs / 2),
  };
  log(`Waiting for ${service} to converge (timeout ${formatDuration(timeoutNs)}):`);
  const followed = await follow(api, {
    serviceId: applied.serviceId!,
    desired: done.desired,
    tracker,
    view: { localNodeId: info.Swarm?.NodeID },
    log,
    warn,
    pollMs: params.pollMs,
    now: params.now,
    sleep: params.sleep,
  });
  const host = await urlHost(api, { local: engine.local, host: engine.host }, info, done.desired, followed.tasks);
  const report = reportOf(
    'rollback',
    done,
    startedAt,
    { running: followed.running, desired: followed.desired },
    portsOf(done.desired, followed.service, host, o.tryPath ?? '/'),
    followed.service,
  );
  writeReport(deployReportPath(params.workspaceRoot, params.projectRoot, o.outputDir), report);
  await pruneObjects(api, service, log, warn);
  return { kind: 'rollback', report };
}

function reportOf(
  action: DeployReport['action'],
  plan: DeployPlan,
  startedAt: number,
  replicas: DeployReport['replicas'],
  ports: DeployReport['ports'],
  service?: ServiceInspect,
): DeployReport {
  return buildReport({
    action,
    service: plan.service,
    serviceId: (service ?? plan.current)?.ID,
    image: plan.image,
    changes: plan.changeLines,
    replicas,
    ports,
    versionIndex: (service ?? plan.current)?.Version.Index,
    release: plan.release && { n: plan.release.n, rollbackOf: plan.release.rollbackOf },
    startedAt,
  });
}

/** The IDs of a release's object versions; one that was deleted makes the rollback impossible, said before any write. */
async function objectIds(api: SwarmApi, release: Release): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const missing: string[] = [];
  for (const kind of ['secret', 'config'] as ObjectKind[]) {
    const names = Object.values((kind === 'secret' ? release.secrets : release.configs) ?? {});
    if (!names.length) continue;
    const listed = await api.listObjects(kind, { name: names });
    for (const n of names) {
      const found = listed.find((x) => x.Spec.Name === n);
      if (found) ids[n] = found.ID;
      else missing.push(`${kind} ${n}`);
    }
  }
  if (missing.length) {
    throw new DeployError(
      `Can't roll back to release #${release.n}: its ${missing.join(', ')} no longer exist${missing.length > 1 ? '' : 's'} on the swarm (deleted by hand?). ` +
        `Roll back to another release (\`--list\`), or deploy with the content in the options.`,
    );
  }
  return ids;
}
