/**
 * Drawing: the whole picture is rebuilt from the snapshot on every change (a swarm is small; this
 * keeps the DOM exactly in line with the model). Only textContent is used for data: nothing from
 * the engine is ever parsed as HTML.
 */
import {
  type Activity,
  type Node,
  type Service,
  type Snapshot,
  type Task,
  formatBytes,
  formatPort,
  preferredColor,
  taskLabel,
  tasksByNode,
} from './model';

type Attrs = Record<string, string | number | boolean | undefined>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node_ | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}
type Node_ = globalThis.Node;

function badge(text: string, kind: string, title?: string): HTMLElement {
  return el('span', { class: `badge ${kind}`, title }, text);
}

let colours = new Map<string, string>();

function colour(e: HTMLElement, service: string): HTMLElement {
  e.style.setProperty('--svc', colours.get(service) ?? preferredColor(service));
  return e;
}

/** Picks the services' colours for the next drawing (distinct among the services present). */
export function setColours(c: Map<string, string>): void {
  colours = c;
}

/** Tasks that arrived less than this long ago are highlighted. */
export const ARRIVED_MS = 4000;

export interface ViewState {
  snapshot: Snapshot;
  /** When each task was first seen by this page (ms since epoch). */
  firstSeen: Map<string, number>;
  activity: { at: Date; entry: Activity }[];
  connection: 'connecting' | 'live' | 'reconnecting';
  now: number;
}

function healthBadge(t: Task): HTMLElement | null {
  switch (t.health) {
    case 'healthy':
      return badge('healthy', 'ok', 'health check passing');
    case 'unhealthy':
      return badge('unhealthy', 'bad', 'health check failing');
    case 'starting':
      return badge('health: starting', 'warn', 'health check not passed yet');
    case 'none':
      return null;
    default:
      return null;
  }
}

function stateKind(state: string): string {
  if (state === 'running') return 'ok';
  if (state === 'failed' || state === 'rejected' || state === 'orphaned') return 'bad';
  if (state === 'shutdown' || state === 'complete' || state === 'remove') return 'muted';
  return 'warn';
}

function taskCard(t: Task, v: ViewState): HTMLElement {
  const leaving = t.desired !== 'running' && t.desired !== 'ready';
  const seen = v.firstSeen.get(t.id);
  const arrived = seen !== undefined && v.now - seen < ARRIVED_MS;
  const cls = ['task', leaving ? 'leaving' : '', arrived ? 'arrived' : ''].filter(Boolean).join(' ');
  const title = [
    `task ${t.id}`,
    `image ${t.image}`,
    `state ${t.state} (desired ${t.desired}) since ${new Date(t.since).toLocaleTimeString()}`,
    t.message ? `message: ${t.message}` : '',
    t.err ? `error: ${t.err}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const card = el(
    'li',
    {
      class: cls,
      title,
      'data-task-id': t.id,
      'data-service': t.serviceName,
      'data-slot': t.slot ?? 0,
      'data-state': t.state,
      'data-desired': t.desired,
      'data-tag': t.tag,
      'data-health': t.health ?? '',
    },
    el(
      'div',
      { class: 'task-head' },
      el('span', { class: 'task-name' }, taskLabel(t)),
      badge(leaving ? `${t.state} · leaving` : t.state, stateKind(t.state)),
    ),
    el(
      'div',
      { class: 'task-meta' },
      el('code', { class: 'tag' }, t.tag),
      healthBadge(t),
      ...(t.ports ?? []).filter((p) => p.published).map((p) => el('span', { class: 'port' }, `:${p.published}`)),
    ),
    t.err ? el('div', { class: 'task-err' }, t.err) : null,
  );
  return colour(card, t.serviceName);
}

function nodeBox(n: Node | undefined, tasks: Task[], v: ViewState): HTMLElement {
  if (!n) {
    return el(
      'section',
      { class: 'node unscheduled', 'data-node-id': '' },
      el('header', {}, el('h2', {}, 'not scheduled'), el('div', { class: 'node-meta' }, badge('waiting for a node', 'warn'))),
      el('ul', { class: 'tasks' }, ...tasks.map((t) => taskCard(t, v))),
    );
  }
  const down = n.state !== 'ready';
  const specs = [n.platform, n.cpus ? `${n.cpus} CPU` : '', formatBytes(n.memoryBytes)].filter(Boolean).join(' · ');
  return el(
    'section',
    {
      class: `node${down ? ' down' : ''}${n.availability !== 'active' ? ' unavailable' : ''}`,
      'data-node-id': n.id,
      'data-hostname': n.hostname,
      title: `node ${n.id}${n.addr ? `\naddress ${n.addr}` : ''}${n.message ? `\n${n.message}` : ''}`,
    },
    el(
      'header',
      {},
      el('h2', {}, n.hostname),
      el(
        'div',
        { class: 'node-meta' },
        badge(n.leader ? 'manager ★ leader' : n.role, n.role === 'manager' ? 'role-manager' : 'role-worker'),
        badge(n.state, n.state === 'ready' ? 'ok' : 'bad'),
        badge(n.availability, n.availability === 'active' ? 'ok' : 'warn'),
        badge(`engine ${n.engineVersion}`, 'muted'),
      ),
      el('div', { class: 'node-specs' }, specs),
    ),
    tasks.length ? el('ul', { class: 'tasks' }, ...tasks.map((t) => taskCard(t, v))) : el('p', { class: 'empty' }, 'no tasks'),
  );
}

export function renderNodes(root: HTMLElement, v: ViewState): void {
  const s = v.snapshot;
  const byNode = tasksByNode(s);
  const boxes: HTMLElement[] = (s.nodes ?? []).map((n) => nodeBox(n, byNode.get(n.id) ?? [], v));
  // Tasks on a node the swarm no longer lists, or not scheduled yet.
  const known = new Set((s.nodes ?? []).map((n) => n.id));
  const orphans = [...byNode.entries()].filter(([id]) => !known.has(id)).flatMap(([, ts]) => ts);
  if (orphans.length) boxes.push(nodeBox(undefined, orphans, v));
  root.replaceChildren(...boxes);
}

function serviceRow(sv: Service): HTMLElement {
  const ok = sv.running >= sv.desired && sv.desired > 0;
  const replicas = `${sv.running}/${sv.desired}`;
  const tag = sv.image.includes(':') ? sv.image.slice(sv.image.lastIndexOf(':') + 1) : 'latest';
  const row = el(
    'tr',
    {
      'data-service': sv.name,
      'data-running': sv.running,
      'data-desired': sv.desired,
      title: `service ${sv.id}\n${sv.image}${sv.networks?.length ? `\nnetworks: ${sv.networks.join(', ')}` : ''}${sv.endpointMode ? `\nendpoint mode: ${sv.endpointMode}` : ''}`,
    },
    el('td', {}, el('span', { class: 'swatch' })),
    el('td', { class: 'svc-name' }, sv.name, sv.mode !== 'replicated' ? el('span', { class: 'mode' }, ` ${sv.mode}`) : null),
    el('td', { class: `replicas ${ok ? 'ok' : 'warn'}` }, replicas),
    el('td', {}, el('code', { class: 'tag', title: sv.image }, tag)),
    el('td', { class: 'ports' }, (sv.ports ?? []).map(formatPort).join(', ')),
    el(
      'td',
      { class: 'svc-status' },
      sv.updateState
        ? badge(
            sv.updateState.replace('_', ' '),
            sv.updateState.startsWith('rollback') || sv.updateState === 'paused' ? 'bad' : sv.updateState === 'completed' ? 'muted' : 'warn',
            sv.updateMessage,
          )
        : null,
      sv.lastError ? el('div', { class: 'svc-err' }, sv.lastError) : null,
    ),
  );
  return colour(row, sv.name);
}

export function renderServices(root: HTMLElement, s: Snapshot): void {
  const services = s.services ?? [];
  if (!services.length) {
    root.replaceChildren(el('p', { class: 'empty' }, s.swarm.manager ? 'no services' : '—'));
    return;
  }
  root.replaceChildren(
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, ''),
          el('th', {}, 'service'),
          el('th', {}, 'tasks'),
          el('th', {}, 'image'),
          el('th', {}, 'published'),
          el('th', {}, ''),
        ),
      ),
      el('tbody', {}, ...services.map(serviceRow)),
    ),
  );
}

export function renderNetworks(root: HTMLElement, s: Snapshot): void {
  const nets = s.networks ?? [];
  root.replaceChildren(
    ...(nets.length
      ? nets.map((n) =>
          el(
            'li',
            { 'data-network': n.name },
            n.name,
            el('span', { class: 'muted' }, ` ${n.driver}${n.ingress ? ' · ingress' : ''}${n.attachable ? ' · attachable' : ''}`),
          ),
        )
      : [el('li', { class: 'empty' }, '—')]),
  );
}

export function renderActivity(root: HTMLElement, v: ViewState): void {
  root.replaceChildren(
    ...v.activity.map(({ at, entry }) =>
      el(
        'li',
        { class: `act ${entry.kind}`, 'data-kind': entry.kind, 'data-id': entry.id },
        el('time', {}, at.toLocaleTimeString()),
        ' ',
        entry.text,
      ),
    ),
  );
}

export function renderHeader(root: HTMLElement, v: ViewState): void {
  const s = v.snapshot;
  const sw = s.swarm;
  const conn =
    v.connection === 'live'
      ? badge('● live', 'ok', 'changes arrive as they happen')
      : badge(v.connection === 'connecting' ? 'connecting…' : 'reconnecting…', 'warn');
  const services = s.services?.length ?? 0;
  const tasks = (s.tasks ?? []).filter((t) => t.desired === 'running').length;
  const parts: (HTMLElement | null)[] = [
    conn,
    el('span', {}, `${s.nodes?.length ?? 0} nodes · ${services} services · ${tasks} tasks`),
    sw.engine ? el('span', { class: 'muted' }, `engine ${sw.engine} · API ${sw.api}`) : null,
    sw.clusterId ? el('span', { class: 'muted', title: `swarm ${sw.clusterId}` }, `swarm ${sw.clusterId.slice(0, 12)}`) : null,
    el('span', { class: 'muted', title: 'last change seen' }, s.time ? `updated ${new Date(s.time).toLocaleTimeString()}` : ''),
  ];
  root.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
}
