// Package web serves the page, the current snapshot, a Server-Sent Events stream of patches, and a
// health endpoint. It only reads: there is no handler that changes anything, in the swarm or here.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/nx-swarm/apps/swarm-visualizer/internal/engine"
	"github.com/nx-swarm/apps/swarm-visualizer/internal/snapshot"
)

// Fetcher reads the swarm (engine.Client in production, a fake in tests).
type Fetcher interface {
	Fetch(ctx context.Context) (engine.State, error)
}

// HubOptions tune the poll loop.
type HubOptions struct {
	// Interval between polls while at least one browser is connected (default 1 s).
	Interval time.Duration
	// IdleInterval between polls while nobody watches (default 10 s), to keep /health honest
	// without loading the engine.
	IdleInterval time.Duration
	// Buffer is the number of events a slow browser may lag behind before it is dropped (it
	// reconnects and starts again from a snapshot). Default 32.
	Buffer int
	Logf   func(format string, args ...any)
}

// Hub polls the engine, keeps the current snapshot, diffs each poll against it and fans the
// patches out to subscribers.
type Hub struct {
	fetch Fetcher
	opts  HubOptions
	wake  chan struct{}

	mu       sync.Mutex
	cur      snapshot.Snapshot
	have     bool
	ready    chan struct{} // closed after the first poll
	lastPoll time.Time
	lastOK   time.Time // last poll that reached the engine
	lastErr  string
	subs     map[*subscriber]struct{}
}

type subscriber struct {
	ch chan []byte
}

// NewHub makes a hub; call Run to start polling.
func NewHub(f Fetcher, opts HubOptions) *Hub {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.IdleInterval <= 0 {
		opts.IdleInterval = 10 * time.Second
	}
	if opts.IdleInterval < opts.Interval {
		opts.IdleInterval = opts.Interval
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 32
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	return &Hub{fetch: f, opts: opts, wake: make(chan struct{}, 1), ready: make(chan struct{}), subs: map[*subscriber]struct{}{}}
}

// Run polls until ctx ends: every Interval while someone watches, every IdleInterval otherwise,
// and at once when the first browser connects.
func (h *Hub) Run(ctx context.Context) {
	for {
		h.PollOnce(ctx)
		h.mu.Lock()
		wait := h.opts.IdleInterval
		if len(h.subs) > 0 {
			wait = h.opts.Interval
		}
		h.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-h.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// PollOnce reads the engine once and publishes what changed.
func (h *Hub) PollOnce(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	st, err := h.fetch.Fetch(pctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	next := snapshot.Build(st, err)
	now := time.Now()

	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastPoll = now
	if err != nil {
		if h.lastErr != err.Error() {
			h.opts.Logf("engine: %v", err)
		}
		h.lastErr = err.Error()
	} else {
		if h.lastErr != "" {
			h.opts.Logf("engine: reachable again")
		}
		h.lastErr = ""
		h.lastOK = now
	}
	if !h.have {
		h.have = true
		h.cur = next
		close(h.ready)
		// Anyone who subscribed before the first poll holds an empty picture: send the real one.
		if ev, jerr := encodeEvent("snapshot", next.Seq, next); jerr == nil {
			h.broadcastLocked(ev)
		}
		return
	}
	p := snapshot.Diff(h.cur, next)
	if p.Empty() {
		h.cur.Time = next.Time
		return
	}
	next.Seq = p.To
	h.cur = next
	ev, jerr := encodeEvent("patch", next.Seq, p)
	if jerr != nil {
		h.opts.Logf("encoding a patch: %v", jerr)
		return
	}
	h.broadcastLocked(ev)
}

func (h *Hub) broadcastLocked(ev []byte) {
	for s := range h.subs {
		select {
		case s.ch <- ev:
		default:
			// Too slow: drop it; the browser reconnects and gets a fresh snapshot.
			close(s.ch)
			delete(h.subs, s)
		}
	}
}

// WaitReady waits for the first poll (or ctx).
func (h *Hub) WaitReady(ctx context.Context) bool {
	select {
	case <-h.ready:
		return true
	case <-ctx.Done():
		return false
	}
}

// Snapshot returns the current snapshot; false before the first poll.
func (h *Hub) Snapshot() (snapshot.Snapshot, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur, h.have
}

// Health says whether the last poll reached the engine and is recent.
type Health struct {
	OK       bool      `json:"ok"`
	LastPoll time.Time `json:"lastPoll,omitempty"`
	LastOK   time.Time `json:"lastOk,omitempty"`
	Error    string    `json:"error,omitempty"`
	Manager  bool      `json:"manager"`
	Seq      uint64    `json:"seq"`
	Watchers int       `json:"watchers"`
}

// Health reports the hub's state. Healthy: the engine answered within 3 poll periods (idle
// periods count: nobody needs to watch for the container to be healthy).
func (h *Hub) Health(now time.Time) Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := Health{LastPoll: h.lastPoll, LastOK: h.lastOK, Error: h.lastErr, Manager: h.cur.Swarm.Manager, Seq: h.cur.Seq, Watchers: len(h.subs)}
	if h.have && !h.lastOK.IsZero() {
		out.OK = now.Sub(h.lastOK) <= 3*h.opts.IdleInterval+5*time.Second && h.lastErr == ""
	}
	if !h.have {
		out.Error = "no poll yet"
	}
	return out
}

// Subscribe registers a browser. It gets the current snapshot as its first event, then patches
// whose From is the Seq of what it has. The channel is closed when the subscriber is dropped.
func (h *Hub) Subscribe() (first []byte, events <-chan []byte, cancel func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	first, err = encodeEvent("snapshot", h.cur.Seq, h.cur)
	if err != nil {
		return nil, nil, nil, err
	}
	s := &subscriber{ch: make(chan []byte, h.opts.Buffer)}
	if len(h.subs) == 0 {
		select { // poll now rather than at the end of an idle period
		case h.wake <- struct{}{}:
		default:
		}
	}
	h.subs[s] = struct{}{}
	return first, s.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
	}, nil
}

func encodeEvent(name string, id uint64, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "event: %s\nid: %d\ndata: ", name, id)
	b.Write(data) // json.Marshal never emits a raw newline
	b.WriteString("\n\n")
	return b.Bytes(), nil
}
