/**
 * The deploy's report: one function builds it (for every outcome), it goes to
 * dist/{projectRoot}/deploy.json, and formatSummary turns it into the closing lines.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskLike } from './convergence';
import type { HealthConfigSpec, ServiceSpec } from './service-spec';
import type { EngineInfo, ServiceInspect, SwarmApi } from './swarm-api';
import { chooseUrlHost } from './url-host';

export interface PublishedPort {
  published: number;
  target: number;
  protocol: string;
  mode: string;
  url?: string;
}

export interface DeployReport {
  service: string;
  serviceId?: string;
  /** What was done: follow means nothing was written, a rollout already going was watched to its end. */
  action: 'create' | 'update' | 'noop' | 'follow' | 'dry-run' | 'rollback';
  image: string;
  imageId?: string;
  changes: string[];
  replicas: { running: number; desired: number };
  ports: PublishedPort[];
  versionIndex?: number;
  /** The release this deploy recorded (the service's release history); a rollback says which one it returned to. */
  release?: { n: number; rollbackOf?: number };
  elapsedMs: number;
  deployedAt: string;
  /** Files and variables the deploy read (names only), for the target's cache check (lib/common/state-record.ts). */
  read?: { files: string[]; env: string[]; uncacheable?: string };
}

/**
 * The path the summary's `try curl` points at: the tryPath option; else the path of an HTTP URL in
 * the health check; else /health for a `<binary> healthcheck` check (the convention of nx-swarm's
 * go-service template, whose healthcheck subcommand GETs /health); else /. Pure.
 */
export function tryPathFor(tryPath: string | undefined, healthcheck: HealthConfigSpec | undefined): string {
  if (tryPath) return tryPath;
  const test = (healthcheck?.Test ?? []).slice(1).join(' ');
  const url = /https?:\/\/[^\s/'"]+(\/[^\s'"]*)?/.exec(test);
  if (url) return url[1] || '/';
  if (/(^|\s)healthcheck(\s|$)/.test(test)) return '/health';
  return '/';
}

/** The spec's published ports (the engine's choice for auto-assigned ones) and where to try them. */
export function portsOf(spec: ServiceSpec, current: ServiceInspect | undefined, host: string, tryPath = '/'): PublishedPort[] {
  const actual = current?.Endpoint?.Ports ?? [];
  return (spec.EndpointSpec?.Ports ?? []).map((p) => {
    const published =
      p.PublishedPort || actual.find((a) => a.TargetPort === p.TargetPort && (a.Protocol ?? 'tcp') === (p.Protocol ?? 'tcp'))?.PublishedPort || 0;
    const protocol = p.Protocol ?? 'tcp';
    return {
      published,
      target: p.TargetPort,
      protocol,
      mode: p.PublishMode ?? 'ingress',
      url: published && protocol === 'tcp' ? `http://${host}:${published}${tryPath}` : undefined,
    };
  });
}

export interface EndpointFacts {
  local: boolean;
  /** Host name of a tcp/ssh endpoint. */
  host?: string;
}

function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .map((a) => a?.address)
    .filter((a): a is string => Boolean(a));
}

/** The address for the summary's `try curl`: see chooseUrlHost (lists the nodes only for host-mode ports). */
export async function urlHost(api: SwarmApi, endpoint: EndpointFacts, info: EngineInfo, spec: ServiceSpec, tasks: TaskLike[]): Promise<string> {
  const port = (spec.EndpointSpec?.Ports ?? []).find((p) => p.PublishedPort || p.PublishMode);
  const mode = port?.PublishMode ?? 'ingress';
  let taskNodeAddrs: string[] = [];
  const nodeIds = [...new Set(tasks.filter((t) => t.Status.State === 'running' && t.NodeID).map((t) => t.NodeID!))];
  if (mode === 'host' && nodeIds.length) {
    const nodes = (await api.listNodes()) ?? [];
    taskNodeAddrs = nodeIds.map((id) => nodes.find((n) => n.ID === id)?.Status?.Addr).filter((a): a is string => Boolean(a));
  }
  return chooseUrlHost({
    mode,
    endpointLocal: endpoint.local,
    endpointHost: endpoint.host,
    managerAddr: info.Swarm?.NodeAddr,
    taskNodeAddrs,
    localAddrs: localAddresses(),
  });
}

export interface ReportInput {
  action: DeployReport['action'];
  service: string;
  serviceId?: string;
  image: string;
  imageId?: string;
  changes: string[];
  replicas: { running: number; desired: number };
  ports: PublishedPort[];
  versionIndex?: number;
  release?: { n: number; rollbackOf?: number };
  read?: DeployReport['read'];
  startedAt: number;
}

/** The one place a report is made. */
export function buildReport(r: ReportInput, now = Date.now()): DeployReport {
  return {
    service: r.service,
    serviceId: r.serviceId,
    action: r.action,
    image: r.image,
    imageId: r.imageId,
    changes: r.changes,
    replicas: r.replicas,
    ports: r.ports,
    versionIndex: r.versionIndex,
    ...(r.release ? { release: r.release } : {}),
    ...(r.read ? { read: r.read } : {}),
    elapsedMs: now - r.startedAt,
    deployedAt: new Date(now).toISOString(),
  };
}

export function deployReportPath(workspaceRoot: string, projectRoot: string, outputDir?: string): string {
  return path.join(workspaceRoot, outputDir ?? path.join('dist', projectRoot), 'deploy.json');
}

export function writeReport(file: string, report: DeployReport): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
}

/** The closing lines after a create or update. */
export function formatSummary(r: DeployReport): string[] {
  const ports = r.ports.filter((p) => p.published);
  const verb = r.action === 'create' ? 'Created' : r.action === 'update' ? 'Updated' : r.action === 'rollback' ? 'Rolled back' : 'Converged';
  const url = ports.find((p) => p.url)?.url;
  return [
    `${verb} ${r.service}`,
    `  image     ${r.image}${r.imageId ? ` (${r.imageId.slice(0, 19)})` : ''}`,
    `  replicas  ${r.replicas.running}/${r.replicas.desired} running`,
    ...(ports.length ? [`  ports     ${ports.map((p) => `${p.published}->${p.target}/${p.protocol} (${p.mode})`).join(', ')}`] : []),
    ...(r.release ? [`  release   #${r.release.n}${r.release.rollbackOf ? ` (the release of #${r.release.rollbackOf})` : ''}`] : []),
    ...(url ? [`  try       curl ${url}`] : []),
    `  elapsed   ${(r.elapsedMs / 1000).toFixed(1)} s`,
  ];
}
