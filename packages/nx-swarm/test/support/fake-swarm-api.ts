/**
 * A SwarmApi without an engine, for the deployer's unit tests: services and tasks live in memory,
 * every write is recorded, and a test can script what the engine answers (a race, a rollout
 * that moves on each poll).
 */
import type { NodeLike, TaskLike } from '../../src/lib/swarm/convergence';
import { ObjectKind, ObjectSummary, namesInSpec } from '../../src/lib/swarm/objects';
import type { ServiceSpec } from '../../src/lib/swarm/service-spec';
import type { EngineInfo, ImageFacts, NetworkSummary, ServiceInspect, SwarmApi } from '../../src/lib/swarm/swarm-api';

export interface Write {
  kind: 'create' | 'update' | 'remove' | 'create-secret' | 'create-config' | 'remove-secret' | 'remove-config';
  id?: string;
  version?: number;
  spec?: ServiceSpec;
}

export class FakeSwarmApi implements SwarmApi {
  services = new Map<string, ServiceInspect>();
  /** Tasks of a service by service ID; a function is called on every list (a rollout that moves). */
  tasks = new Map<string, TaskLike[] | (() => TaskLike[])>();
  /** IDs of the tasks that run the service's current spec (the `_up-to-date` filter). */
  upToDate = new Map<string, string[]>();
  writes: Write[] = [];
  networks: NetworkSummary[] = [{ Id: 'net1', Name: 'my_network', Driver: 'overlay', Scope: 'swarm' }];
  images: Record<string, ImageFacts> = {};
  nodes: NodeLike[] = [{ ID: 'node1', Description: { Hostname: 'n1' }, Status: { State: 'ready', Addr: '127.0.0.1' } }];
  infoAnswer: EngineInfo = { Swarm: { LocalNodeState: 'active', ControlAvailable: true, NodeID: 'node1', Nodes: 1, NodeAddr: '127.0.0.1' } };
  /** Throws from the next update calls, in order (e.g. "update out of sequence"). */
  updateErrors: unknown[] = [];
  createErrors: unknown[] = [];
  /** Called after each write (a test moves the world on). */
  onWrite?: (w: Write) => void;
  calls: string[] = [];
  /** Secrets and configs (content kept to check what reached the "engine"). */
  objects: Record<ObjectKind, (ObjectSummary & { data: Buffer })[]> = { secret: [], config: [] };

  private nextId = 1;

  addService(spec: ServiceSpec, extra: Partial<ServiceInspect> = {}): ServiceInspect {
    const id = extra.ID ?? `svc${this.nextId++}`;
    const svc: ServiceInspect = { ID: id, Version: { Index: 10 }, Spec: JSON.parse(JSON.stringify(spec)), ...extra };
    this.services.set(id, svc);
    return svc;
  }

  private find(nameOrId: string): ServiceInspect | undefined {
    return this.services.get(nameOrId) ?? [...this.services.values()].find((s) => s.Spec.Name === nameOrId);
  }

  private tasksOf(id: string): TaskLike[] {
    const t = this.tasks.get(id);
    return (typeof t === 'function' ? t() : t) ?? [];
  }

  async info() {
    this.calls.push('info');
    return this.infoAnswer;
  }
  async inspectService(nameOrId: string) {
    this.calls.push(`inspectService ${nameOrId}`);
    const s = this.find(nameOrId);
    return s && JSON.parse(JSON.stringify(s));
  }
  async listServices() {
    this.calls.push('listServices');
    return [...this.services.values()];
  }
  async createService(spec: ServiceSpec) {
    this.calls.push('createService');
    const w: Write = { kind: 'create', spec };
    if (this.createErrors.length) throw this.createErrors.shift();
    const svc = this.addService(spec);
    w.id = svc.ID;
    this.writes.push(w);
    this.onWrite?.(w);
    return { ID: svc.ID };
  }
  async updateService(id: string, version: number, spec: ServiceSpec) {
    this.calls.push('updateService');
    if (this.updateErrors.length) throw this.updateErrors.shift();
    const svc = this.services.get(id);
    if (!svc) throw Object.assign(new Error('no such service'), { statusCode: 404 });
    const w: Write = { kind: 'update', id, version, spec };
    this.writes.push(w);
    svc.PreviousSpec = svc.Spec;
    svc.Spec = JSON.parse(JSON.stringify(spec));
    svc.Version = { Index: svc.Version.Index + 1 };
    this.onWrite?.(w);
  }
  async removeService(id: string) {
    this.writes.push({ kind: 'remove', id });
    return this.services.delete(id);
  }
  async listTasks(filters: Record<string, string[]>) {
    this.calls.push(`listTasks ${JSON.stringify(filters)}`);
    const svc = this.find(filters.service?.[0] ?? '');
    if (!svc) throw Object.assign(new Error('service not found'), { statusCode: 404 });
    let out = this.tasksOf(svc.ID);
    if (filters['desired-state']) out = out.filter((t) => filters['desired-state'].includes(t.DesiredState ?? 'running'));
    if (filters['_up-to-date']) {
      const fresh = this.upToDate.get(svc.ID);
      out = out.filter((t) => (fresh ? fresh.includes(t.ID) : true));
    }
    return JSON.parse(JSON.stringify(out)) as TaskLike[];
  }
  async inspectTask(id: string) {
    return [...this.tasks.keys()].flatMap((k) => this.tasksOf(k)).find((t) => t.ID === id);
  }
  async listNodes() {
    return this.nodes;
  }
  async taskLogs() {
    return ['fake: log line'];
  }
  async healthLog() {
    return ['health: unhealthy, failing streak 3'];
  }
  async inspectImage(refs: string[]) {
    this.calls.push('inspectImage');
    for (const r of refs) if (this.images[r]) return this.images[r];
    return undefined;
  }
  async listNetworks(names: string[]) {
    return this.networks.filter((n) => names.includes(n.Name));
  }
  async createNetwork(spec: { Name: string }) {
    const id = `net-${spec.Name}`;
    this.networks.push({ Id: id, Name: spec.Name, Driver: 'overlay', Scope: 'swarm' });
    return id;
  }
  async inspectNetwork(id: string) {
    return this.networks.find((n) => n.Id === id);
  }
  async removeNetwork(id: string) {
    this.networks = this.networks.filter((n) => n.Id !== id);
  }
  async serviceContainers() {
    return [];
  }
  async listObjects(kind: ObjectKind, filters: Record<string, string[]>) {
    this.calls.push(`list${kind}s ${JSON.stringify(filters)}`);
    return this.objects[kind]
      .filter((o) => !filters.name || filters.name.some((n) => o.Spec.Name.includes(n)))
      .filter(
        (o) =>
          !filters.label ||
          filters.label.every((l) => {
            const [k, v] = l.split('=');
            return v === undefined ? k in (o.Spec.Labels ?? {}) : o.Spec.Labels?.[k] === v;
          }),
      )
      .map((o) => ({ ID: o.ID, Spec: JSON.parse(JSON.stringify(o.Spec)) as ObjectSummary['Spec'] }));
  }
  async createObject(kind: ObjectKind, spec: { Name: string; Labels: Record<string, string>; data: Buffer }) {
    if (this.objects[kind].some((o) => o.Spec.Name === spec.Name))
      throw Object.assign(new Error(`${kind} ${spec.Name} already exists`), { statusCode: 409 });
    const ID = `${kind}${this.nextId++}`;
    this.objects[kind].push({ ID, Spec: { Name: spec.Name, Labels: { ...spec.Labels } }, data: spec.data });
    this.writes.push({ kind: `create-${kind}`, id: ID });
    return ID;
  }
  async removeObject(kind: ObjectKind, id: string) {
    const o = this.objects[kind].find((x) => x.ID === id);
    if (!o) return false;
    const users = [...this.services.values()].filter((s) => [...namesInSpec(s.Spec), ...namesInSpec(s.PreviousSpec)].includes(o.Spec.Name));
    if (users.length)
      throw Object.assign(
        new Error(
          `rpc error: code = InvalidArgument desc = ${kind} '${o.Spec.Name}' is in use by the following service: ${users.map((u) => u.Spec.Name).join(', ')}`,
        ),
        { statusCode: 400 },
      );
    this.objects[kind] = this.objects[kind].filter((x) => x !== o);
    this.writes.push({ kind: `remove-${kind}`, id });
    return true;
  }
}

export const task = (id: string, state: string, image: string, extra: Partial<TaskLike> = {}): TaskLike => ({
  ID: id,
  Slot: 1,
  NodeID: 'node1',
  DesiredState: 'running',
  CreatedAt: `2026-01-01T00:00:0${id.length % 10}Z`,
  Spec: { ContainerSpec: { Image: image } },
  Status: { State: state, Message: state },
  ...extra,
});
