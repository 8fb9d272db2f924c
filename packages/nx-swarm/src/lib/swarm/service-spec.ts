/**
 * DeployOptions → the desired swarm ServiceSpec (Engine API shape). Pure: the defaults are applied
 * by normalizeDeployOptions; network names are resolved to IDs by the caller (the engine stores IDs).
 */
import type { DeployOptions, UpdatePolicy } from './deploy-options';
import { ObjectReferenceSpec, referenceSpec } from './objects';
import { RELEASES_LABEL } from './releases';

/* Engine API shapes (the subset the plugin writes; the engine may return more). */
export interface UpdateConfigSpec {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: string;
}
export interface PortSpec {
  Protocol?: string;
  TargetPort: number;
  PublishedPort?: number;
  PublishMode?: string;
}
export interface MountSpec {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}
export interface HealthConfigSpec {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  /** API >= 1.44: probe interval during the start period. */
  StartInterval?: number;
}
export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Env?: string[];
      Mounts?: MountSpec[];
      Healthcheck?: HealthConfigSpec;
      Secrets?: ObjectReferenceSpec[];
      Configs?: ObjectReferenceSpec[];
      [k: string]: unknown;
    };
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number };
    };
    RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number };
    Placement?: {
      Constraints?: string[];
      Preferences?: { Spread: { SpreadDescriptor: string } }[];
      MaxReplicas?: number;
      Platforms?: { Architecture: string; OS: string }[];
      [k: string]: unknown;
    };
    Networks?: { Target: string; Aliases?: string[] }[];
    ForceUpdate?: number;
    [k: string]: unknown;
  };
  Mode: { Replicated?: { Replicas?: number }; Global?: Record<string, never> };
  UpdateConfig?: UpdateConfigSpec;
  RollbackConfig?: UpdateConfigSpec;
  EndpointSpec?: { Mode?: string; Ports?: PortSpec[] };
  [k: string]: unknown;
}

/** Label that marks services (and networks) managed by this plugin. */
export const MANAGED_LABEL = 'io.nx-swarm.managed-by';

export interface BuildSpecInput {
  /** The image reference that goes into the spec. */
  image: string;
  /** network name → ID (the engine stores IDs); unknown names are used as given. */
  networkIds?: Record<string, string>;
  /** Carried over from the current service so an unchanged spec does not redeploy. */
  forceUpdate?: number;
  /** UpdateConfig.Monitor, when the deployer sized it (from the image's health check). Default o.update.monitorNs. */
  monitorNs?: number;
  /** ContainerSpec.Healthcheck, when the deployer adjusted it (StartInterval). Default o.healthcheck. */
  healthcheck?: HealthConfigSpec;
  /**
   * Placement.Platforms: the platforms of the image index the service runs (what `docker service
   * create` fills in from the registry), so each node of a mixed amd64/arm64 swarm gets a task only
   * where the index has its binary.
   */
  platforms?: { Architecture: string; OS: string }[];
  /** Secret/config name → ID (objects not created yet, in a dry run: no ID). */
  objectIds?: Record<string, string>;
  /** The release-history label to carry (the current one for the diff, the new one when writing). */
  releases?: string;
}

function policySpec(p: UpdatePolicy, monitorNs = p.monitorNs): UpdateConfigSpec {
  return {
    Parallelism: p.parallelism,
    Delay: p.delayNs,
    FailureAction: p.failureAction,
    Monitor: monitorNs,
    MaxFailureRatio: p.maxFailureRatio,
    Order: p.order,
  };
}

/** DeployOptions → the desired ServiceSpec (Engine API shape). Pure. */
export function buildServiceSpec(o: DeployOptions, input: BuildSpecInput): ServiceSpec {
  const containerSpec: ServiceSpec['TaskTemplate']['ContainerSpec'] = { Image: input.image };
  if (o.env?.length) containerSpec.Env = [...o.env];
  if (o.mounts.length) containerSpec.Mounts = o.mounts;
  const hc = input.healthcheck ?? o.healthcheck;
  if (hc) containerSpec.Healthcheck = hc;
  Object.assign(containerSpec, o.hardening);
  const refs = (list: DeployOptions['secrets']) => list.map((x) => referenceSpec(x, input.objectIds?.[x.name] ?? ''));
  if (o.secrets.length) containerSpec.Secrets = refs(o.secrets);
  if (o.configs.length) containerSpec.Configs = refs(o.configs);

  const taskTemplate: ServiceSpec['TaskTemplate'] = { ContainerSpec: containerSpec };
  if (o.resources) {
    taskTemplate.Resources = {
      ...(o.resources.limits ? { Limits: o.resources.limits } : {}),
      ...(o.resources.reservations ? { Reservations: o.resources.reservations } : {}),
    };
  }
  const rp = o.restartPolicy;
  if (rp) {
    taskTemplate.RestartPolicy = {
      Condition: rp.condition,
      Delay: rp.delayNs,
      MaxAttempts: rp.maxAttempts,
      ...(rp.windowNs !== undefined ? { Window: rp.windowNs } : {}),
    };
  }
  const platforms = input.platforms?.length ? input.platforms : undefined;
  if (o.constraints.length || o.placementPreferences.length || o.maxReplicasPerNode || platforms) {
    taskTemplate.Placement = {
      ...(platforms ? { Platforms: platforms.map((p) => ({ Architecture: p.Architecture, OS: p.OS })) } : {}),
      ...(o.constraints.length ? { Constraints: [...o.constraints] } : {}),
      ...(o.placementPreferences.length
        ? { Preferences: o.placementPreferences.map((p) => ({ Spread: { SpreadDescriptor: p.slice('spread='.length) } })) }
        : {}),
      ...(o.maxReplicasPerNode ? { MaxReplicas: o.maxReplicasPerNode } : {}),
    };
  }
  taskTemplate.Networks = o.networks.map((n) => ({ Target: input.networkIds?.[n] ?? n }));
  taskTemplate.ForceUpdate = input.forceUpdate ?? 0;

  return {
    Name: o.service,
    Labels: { ...o.labels, [MANAGED_LABEL]: 'nx-swarm', ...(input.releases ? { [RELEASES_LABEL]: input.releases } : {}) },
    TaskTemplate: taskTemplate,
    Mode: o.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: o.replicas } },
    UpdateConfig: policySpec(o.update, input.monitorNs),
    RollbackConfig: policySpec(o.rollback),
    EndpointSpec: {
      Mode: o.endpointMode,
      Ports: o.ports.map((p) => ({
        Protocol: p.protocol,
        TargetPort: p.target,
        ...(p.published ? { PublishedPort: p.published } : {}),
        PublishMode: p.mode,
      })),
    },
  };
}

/** Image-level facts that matter for the summary and for convergence. */
export function specImage(spec: { TaskTemplate?: { ContainerSpec?: { Image?: string } } } | undefined): string | undefined {
  return spec?.TaskTemplate?.ContainerSpec?.Image;
}

/** The number of tasks the spec asks for, when knowable without the node list (global: undefined). */
export function desiredReplicas(spec: ServiceSpec): number | undefined {
  return spec.Mode.Global ? undefined : (spec.Mode.Replicated?.Replicas ?? 1);
}
