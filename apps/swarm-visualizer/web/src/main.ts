/**
 * The page: opens /api/events (Server-Sent Events), holds the snapshot, applies patches, and
 * redraws. A patch that doesn't fit (missed events) makes it reconnect and start from a fresh
 * snapshot, which the server always sends first.
 */
import { type Patch, type Snapshot, applyPatch, changes, serviceColors } from './model';
import { ARRIVED_MS, type ViewState, renderActivity, renderHeader, renderNetworks, renderNodes, renderServices, setColours } from './view';

const MAX_ACTIVITY = 200;

const $ = (id: string) => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing from index.html`);
  return e;
};

const view: ViewState = {
  snapshot: { seq: -1, time: '', swarm: { manager: false }, nodes: [], services: [], tasks: [], networks: [] },
  firstSeen: new Map(),
  activity: [],
  connection: 'connecting',
  now: Date.now(),
};
let loaded = false;
let source: EventSource | undefined;
let highlightTimer: number | undefined;

function render(): void {
  view.now = Date.now();
  const s = view.snapshot;
  document.body.dataset.seq = String(s.seq);
  document.body.dataset.connection = view.connection;
  const err = $('error');
  err.textContent = s.swarm.error ?? '';
  err.hidden = !s.swarm.error;
  setColours(serviceColors([...(s.services ?? []).map((x) => x.name), ...(s.tasks ?? []).map((t) => t.serviceName)]));
  renderHeader($('status'), view);
  renderNodes($('nodes'), view);
  renderServices($('services'), s);
  renderNetworks($('networks'), s);
  renderActivity($('activity'), view);
  // Take the "arrived" highlight off when it expires, even if nothing else changes.
  window.clearTimeout(highlightTimer);
  const pending = [...view.firstSeen.values()].filter((t) => view.now - t < ARRIVED_MS);
  if (pending.length) highlightTimer = window.setTimeout(render, ARRIVED_MS - (view.now - Math.min(...pending)) + 50);
}

function accept(next: Snapshot): void {
  const now = Date.now();
  if (loaded) {
    const at = new Date();
    for (const entry of changes(view.snapshot, next)) view.activity.unshift({ at, entry });
    view.activity.length = Math.min(view.activity.length, MAX_ACTIVITY);
  }
  const ids = new Set((next.tasks ?? []).map((t) => t.id));
  for (const id of ids) if (!view.firstSeen.has(id)) view.firstSeen.set(id, loaded ? now : 0);
  for (const id of view.firstSeen.keys()) if (!ids.has(id)) view.firstSeen.delete(id);
  view.snapshot = next;
  loaded = true;
  render();
}

function connect(): void {
  source?.close();
  const es = new EventSource('/api/events');
  source = es;
  es.addEventListener('open', () => {
    view.connection = 'live';
    render();
  });
  es.addEventListener('error', () => {
    // EventSource reconnects by itself (the server asks for 1 s); the first event after that is a snapshot.
    view.connection = 'reconnecting';
    render();
  });
  es.addEventListener('snapshot', (ev) => {
    view.connection = 'live';
    accept(JSON.parse((ev as MessageEvent<string>).data) as Snapshot);
  });
  es.addEventListener('patch', (ev) => {
    const patch = JSON.parse((ev as MessageEvent<string>).data) as Patch;
    let next: Snapshot;
    try {
      next = applyPatch(view.snapshot, patch);
    } catch {
      connect(); // out of step: start again from a snapshot
      return;
    }
    accept(next);
  });
}

connect();
