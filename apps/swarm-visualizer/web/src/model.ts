/**
 * The page's model: the snapshot the server sends, patches, and what changed between two
 * snapshots (for the activity list). Mirrors internal/snapshot (Go). Pure: no DOM.
 */

export interface Swarm {
  engine?: string;
  api?: string;
  nodeId?: string;
  clusterId?: string;
  manager: boolean;
  error?: string;
}

export interface Node {
  id: string;
  hostname: string;
  role: string;
  leader: boolean;
  state: string;
  availability: string;
  engineVersion: string;
  platform: string;
  addr?: string;
  cpus?: number;
  memoryBytes?: number;
  message?: string;
}

export interface Port {
  published?: number;
  target: number;
  protocol: string;
  mode: string;
}

export interface Service {
  id: string;
  name: string;
  mode: string;
  desired: number;
  running: number;
  image: string;
  ports?: Port[];
  networks?: string[];
  endpointMode?: string;
  updateState?: string;
  updateMessage?: string;
  lastError?: string;
}

export interface Task {
  id: string;
  serviceId: string;
  serviceName: string;
  nodeId?: string;
  slot?: number;
  state: string;
  desired: string;
  image: string;
  tag: string;
  health?: string;
  message?: string;
  err?: string;
  ports?: Port[];
  since: string;
}

export interface Network {
  id: string;
  name: string;
  driver: string;
  attachable?: boolean;
  ingress?: boolean;
}

export interface Snapshot {
  seq: number;
  time: string;
  swarm: Swarm;
  nodes: Node[] | null;
  services: Service[] | null;
  tasks: Task[] | null;
  networks: Network[] | null;
}

export interface Delta<T> {
  upsert?: T[];
  remove?: string[];
}

export interface Patch {
  from: number;
  to: number;
  time: string;
  swarm?: Swarm;
  nodes: Delta<Node>;
  services: Delta<Service>;
  tasks: Delta<Task>;
  networks: Delta<Network>;
}

interface Keyed {
  id: string;
}

/** Same orders as the Go side (internal/snapshot): the page relies on them. */
export const order = {
  nodes: (a: Node, b: Node) => Number(b.role === 'manager') - Number(a.role === 'manager') || cmp(a.hostname, b.hostname) || cmp(a.id, b.id),
  services: (a: Service, b: Service) => cmp(a.name, b.name) || cmp(a.id, b.id),
  tasks: (a: Task, b: Task) =>
    cmp(a.serviceName, b.serviceName) || (a.slot ?? 0) - (b.slot ?? 0) || cmp(a.nodeId ?? '', b.nodeId ?? '') || cmp(a.id, b.id),
  networks: (a: Network, b: Network) => cmp(a.name, b.name) || cmp(a.id, b.id),
};

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function applyDelta<T extends Keyed>(list: T[] | null, delta: Delta<T> | undefined, less: (a: T, b: T) => number): T[] {
  const current = list ?? [];
  if (!delta || (!delta.upsert?.length && !delta.remove?.length)) return current.slice();
  const byId = new Map(current.map((e) => [e.id, e] as const));
  for (const id of delta.remove ?? []) byId.delete(id);
  for (const e of delta.upsert ?? []) byId.set(e.id, e);
  return [...byId.values()].sort(less);
}

/** Applies a patch; throws when the patch doesn't start from this snapshot (the caller resyncs). */
export function applyPatch(s: Snapshot, p: Patch): Snapshot {
  if (p.from !== s.seq) throw new Error(`patch from ${p.from} does not apply to snapshot ${s.seq}`);
  return {
    seq: p.to,
    time: p.time || s.time,
    swarm: p.swarm ?? s.swarm,
    nodes: applyDelta(s.nodes, p.nodes, order.nodes),
    services: applyDelta(s.services, p.services, order.services),
    tasks: applyDelta(s.tasks, p.tasks, order.tasks),
    networks: applyDelta(s.networks, p.networks, order.networks),
  };
}

export type ActivityKind = 'arrived' | 'left' | 'state' | 'service-added' | 'service-removed' | 'service-changed' | 'node';

export interface Activity {
  kind: ActivityKind;
  /** Task id, service id or node id. */
  id: string;
  text: string;
}

/** "accountservice.2" (replicated) or "accountservice" on a node (global). */
export function taskLabel(t: Task): string {
  return t.slot ? `${t.serviceName}.${t.slot}` : t.serviceName;
}

function hostOf(nodes: Node[] | null, id?: string): string {
  if (!id) return 'no node yet';
  return nodes?.find((n) => n.id === id)?.hostname ?? id.slice(0, 12);
}

/** What changed from a to b, in words, for the activity list. */
export function changes(a: Snapshot, b: Snapshot): Activity[] {
  const out: Activity[] = [];
  const oldTasks = new Map((a.tasks ?? []).map((t) => [t.id, t] as const));
  const newTasks = new Map((b.tasks ?? []).map((t) => [t.id, t] as const));
  const oldServices = new Map((a.services ?? []).map((s) => [s.id, s] as const));
  const newServices = new Map((b.services ?? []).map((s) => [s.id, s] as const));

  for (const s of b.services ?? []) {
    const before = oldServices.get(s.id);
    if (!before) {
      out.push({ kind: 'service-added', id: s.id, text: `service ${s.name} created (${s.image})` });
    } else if (before.desired !== s.desired || before.image !== s.image || before.updateState !== s.updateState) {
      const parts: string[] = [];
      if (before.desired !== s.desired) parts.push(`replicas ${before.desired} → ${s.desired}`);
      if (before.image !== s.image) parts.push(`image → ${s.image}`);
      if (before.updateState !== s.updateState && s.updateState) parts.push(`update ${s.updateState}`);
      if (parts.length) out.push({ kind: 'service-changed', id: s.id, text: `${s.name}: ${parts.join(', ')}` });
    }
  }
  for (const s of a.services ?? []) {
    if (!newServices.has(s.id)) out.push({ kind: 'service-removed', id: s.id, text: `service ${s.name} removed` });
  }
  for (const t of b.tasks ?? []) {
    const before = oldTasks.get(t.id);
    if (!before) {
      out.push({ kind: 'arrived', id: t.id, text: `${taskLabel(t)} ${t.tag} arrived on ${hostOf(b.nodes, t.nodeId)} (${t.state})` });
    } else if (before.state !== t.state || before.desired !== t.desired || before.nodeId !== t.nodeId) {
      const leaving = t.desired !== 'running' && before.desired === 'running' ? ', leaving' : '';
      out.push({ kind: 'state', id: t.id, text: `${taskLabel(t)} ${t.tag} ${before.state} → ${t.state}${leaving}` });
    }
  }
  for (const t of a.tasks ?? []) {
    if (!newTasks.has(t.id)) out.push({ kind: 'left', id: t.id, text: `${taskLabel(t)} ${t.tag} left ${hostOf(a.nodes, t.nodeId)}` });
  }
  const oldNodes = new Map((a.nodes ?? []).map((n) => [n.id, n] as const));
  for (const n of b.nodes ?? []) {
    const before = oldNodes.get(n.id);
    if (!before) out.push({ kind: 'node', id: n.id, text: `node ${n.hostname} joined (${n.role})` });
    else if (before.state !== n.state || before.availability !== n.availability || before.role !== n.role)
      out.push({ kind: 'node', id: n.id, text: `node ${n.hostname}: ${n.role}, ${n.state}, ${n.availability}` });
  }
  for (const n of a.nodes ?? [])
    if (!(b.nodes ?? []).some((x) => x.id === n.id)) out.push({ kind: 'node', id: n.id, text: `node ${n.hostname} left` });
  return out;
}

/** A stable hash of a service name (FNV-1a, then murmur3's finaliser so similar names spread out). */
export function serviceHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** 11 colours that are easy to tell apart, each dark enough for text on white. */
const PALETTE = [
  '#1f5fa8', // blue
  '#c0392b', // red
  '#27803b', // green
  '#7b3fa0', // purple
  '#c25e00', // orange
  '#0f7c8c', // teal
  '#8c564b', // brown
  '#b8327f', // pink
  '#4b5563', // slate
  '#7a7d00', // olive
  '#2b2f8a', // indigo
];

/** The colour a service gets when nothing else is in its way. */
export function preferredColor(name: string): string {
  return PALETTE[serviceHash(name) % PALETTE.length];
}

/**
 * Colours for the services present: each takes its preferred colour (a hash of its name, so the
 * same across reloads and browsers); when another service already has it (names sorted), the next
 * free one. Distinct for up to 11 services, then colours repeat.
 */
export function serviceColors(names: string[]): Map<string, string> {
  const used = new Set<number>();
  const out = new Map<string, string>();
  for (const name of [...new Set(names)].sort()) {
    let slot = serviceHash(name) % PALETTE.length;
    for (let i = 0; i < PALETTE.length && used.has(slot); i++) slot = (slot + 1) % PALETTE.length;
    used.add(slot);
    out.set(name, PALETTE[slot]);
    if (used.size === PALETTE.length) used.clear();
  }
  return out;
}

export function formatPort(p: Port): string {
  const published = p.published ? String(p.published) : '*';
  const proto = p.protocol && p.protocol !== 'tcp' ? `/${p.protocol}` : '';
  return `${published}→${p.target}${proto} ${p.mode}`;
}

export function formatBytes(n?: number): string {
  if (!n) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Groups the tasks by node id ('' for tasks not scheduled yet), keeping the snapshot's order. */
export function tasksByNode(s: Snapshot): Map<string, Task[]> {
  const m = new Map<string, Task[]>();
  for (const t of s.tasks ?? []) {
    const k = t.nodeId ?? '';
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return m;
}
