package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nx-swarm/apps/swarm-visualizer/internal/engine"
	"github.com/nx-swarm/apps/swarm-visualizer/internal/snapshot"
)

// fakeFetcher returns whatever state the test set last.
type fakeFetcher struct {
	mu    sync.Mutex
	st    engine.State
	err   error
	calls int
}

func (f *fakeFetcher) Fetch(context.Context) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	st := f.st
	st.At = time.Now()
	return st, f.err
}

func (f *fakeFetcher) set(st engine.State, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st, f.err = st, err
}

func state(replicas int) engine.State {
	st := engine.State{Manager: true, Version: engine.Version{Version: "20.10.24", APIVersion: "1.41"}}
	st.Info.Swarm.NodeID = "n1"
	var n engine.Node
	n.ID, n.Spec.Role, n.Spec.Availability, n.Status.State, n.Description.Hostname = "n1", "manager", "active", "ready", "vm"
	st.Nodes = []engine.Node{n}
	var s engine.Service
	s.ID, s.Spec.Name = "s1", "acc"
	r := uint64(replicas)
	s.Spec.Mode.Replicated = &struct {
		Replicas *uint64 `json:"Replicas"`
	}{&r}
	st.Services = []engine.Service{s}
	for i := 1; i <= replicas; i++ {
		var t engine.Task
		t.ID, t.ServiceID, t.NodeID, t.Slot, t.DesiredState, t.Status.State = "t"+string(rune('0'+i)), "s1", "n1", i, "running", "running"
		st.Tasks = append(st.Tasks, t)
	}
	return st
}

var files = fstest.MapFS{
	"index.html":  {Data: []byte("<!doctype html><title>viz</title>")},
	"style.css":   {Data: []byte("body{}")},
	"dist/app.js": {Data: []byte("console.log(1)")},
}

func newTestServer(t *testing.T, f *fakeFetcher, assets fstest.MapFS) (*Hub, *httptest.Server) {
	t.Helper()
	hub := NewHub(f, HubOptions{Interval: time.Hour, IdleInterval: time.Hour, Buffer: 4, Logf: t.Logf})
	srv := NewServer(hub, assets)
	srv.Heartbeat = 50 * time.Millisecond
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return hub, ts
}

// sse reads events from a stream.
type sse struct {
	r    *bufio.Reader
	body io.Closer
}

type event struct{ name, id, data string }

func (s *sse) next(t *testing.T) event {
	t.Helper()
	var ev event
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.name != "" {
				return ev
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

func subscribe(t *testing.T, ts *httptest.Server) *sse {
	t.Helper()
	res, err := http.Get(ts.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &sse{r: bufio.NewReader(res.Body), body: res.Body}
}

func TestEventsSnapshotThenPatches(t *testing.T) {
	f := &fakeFetcher{}
	f.set(state(1), nil)
	hub, ts := newTestServer(t, f, files)
	hub.PollOnce(context.Background())

	s := subscribe(t, ts)
	ev := s.next(t)
	if ev.name != "snapshot" || ev.id != "0" {
		t.Fatalf("first event %+v", ev)
	}
	var snap snapshot.Snapshot
	if err := json.Unmarshal([]byte(ev.data), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Tasks) != 1 || snap.Services[0].Running != 1 {
		t.Fatalf("snapshot %+v", snap)
	}

	// Nothing changed: nothing is sent (the next thing on the wire is a heartbeat, then the patch).
	hub.PollOnce(context.Background())
	f.set(state(3), nil)
	hub.PollOnce(context.Background())
	ev = s.next(t)
	if ev.name != "patch" || ev.id != "1" {
		t.Fatalf("event %+v", ev)
	}
	var p snapshot.Patch
	if err := json.Unmarshal([]byte(ev.data), &p); err != nil {
		t.Fatal(err)
	}
	if p.From != 0 || p.To != 1 || len(p.Tasks.Upsert) != 2 || len(p.Services.Upsert) != 1 {
		t.Fatalf("patch %+v", p)
	}
	snap = snapshot.Apply(snap, p)
	if len(snap.Tasks) != 3 {
		t.Fatalf("applied: %+v", snap)
	}

	// /api/snapshot agrees with what the stream built.
	res, err := http.Get(ts.URL + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var fresh snapshot.Snapshot
	if err := json.NewDecoder(res.Body).Decode(&fresh); err != nil {
		t.Fatal(err)
	}
	if fresh.Seq != 1 || len(fresh.Tasks) != 3 {
		t.Errorf("/api/snapshot: %+v", fresh)
	}
	if got := hub.Health(time.Now()).Watchers; got != 1 {
		t.Errorf("watchers = %d", got)
	}
}

func TestSubscriberBeforeFirstPollGetsTheSnapshot(t *testing.T) {
	f := &fakeFetcher{}
	f.set(state(2), nil)
	hub, _ := newTestServer(t, f, files)
	first, events, cancel, err := hub.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if !strings.HasPrefix(string(first), "event: snapshot\n") {
		t.Fatalf("first %q", first)
	}
	hub.PollOnce(context.Background())
	ev := string(<-events)
	if !strings.HasPrefix(ev, "event: snapshot\n") || !strings.Contains(ev, `"t2"`) {
		t.Fatalf("after the first poll: %q", ev)
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	f := &fakeFetcher{}
	f.set(state(1), nil)
	hub, _ := newTestServer(t, f, files)
	hub.PollOnce(context.Background())
	_, events, cancel, _ := hub.Subscribe()
	defer cancel()
	for i := 0; i < 10; i++ { // Buffer is 4
		f.set(state(1+i%2), nil)
		hub.PollOnce(context.Background())
	}
	n := 0
	for range events {
		n++
	}
	if n != 4 {
		t.Errorf("got %d events before the channel closed, want the 4 buffered", n)
	}
	if w := hub.Health(time.Now()).Watchers; w != 0 {
		t.Errorf("watchers = %d after the drop", w)
	}
}

func TestHealth(t *testing.T) {
	f := &fakeFetcher{}
	hub, ts := newTestServer(t, f, files)
	get := func() (int, Health) {
		res, err := http.Get(ts.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var h Health
		_ = json.NewDecoder(res.Body).Decode(&h)
		return res.StatusCode, h
	}
	if code, h := get(); code != 503 || h.Error != "no poll yet" {
		t.Errorf("before the first poll: %d %+v", code, h)
	}
	f.set(state(1), nil)
	hub.PollOnce(context.Background())
	if code, h := get(); code != 200 || !h.OK || !h.Manager {
		t.Errorf("healthy: %d %+v", code, h)
	}
	f.set(engine.State{}, errors.New("dial unix /var/run/docker.sock: connect: permission denied"))
	hub.PollOnce(context.Background())
	if code, h := get(); code != 503 || !strings.Contains(h.Error, "permission denied") {
		t.Errorf("engine unreachable: %d %+v", code, h)
	}
	snap, _ := hub.Snapshot()
	if !strings.Contains(snap.Swarm.Error, "permission denied") || len(snap.Tasks) != 0 {
		t.Errorf("the page must say why it is empty: %+v", snap.Swarm)
	}
	// Stale: the last good poll is too old.
	f.set(state(1), nil)
	hub.PollOnce(context.Background())
	if h := hub.Health(time.Now().Add(4 * time.Hour)); h.OK {
		t.Errorf("stale poll reported healthy: %+v", h)
	}
}

func TestRoutesAreReadOnly(t *testing.T) {
	f := &fakeFetcher{}
	f.set(state(1), nil)
	hub, ts := newTestServer(t, f, files)
	hub.PollOnce(context.Background())
	for _, path := range []string{"/", "/api/snapshot", "/api/events", "/health", "/app.js"} {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader("{}"))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d, want 405", method, path, res.StatusCode)
			}
		}
	}
	res, _ := http.Get(ts.URL + "/api/services/s1/scale")
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unknown path: %d", res.StatusCode)
	}
}

func TestPage(t *testing.T) {
	f := &fakeFetcher{}
	_, ts := newTestServer(t, f, files)
	for path, want := range map[string]string{
		"/":          "text/html; charset=utf-8",
		"/app.js":    "text/javascript; charset=utf-8",
		"/style.css": "text/css; charset=utf-8",
	} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != want {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
}

func TestPageWithoutBundleSaysHowToBuildIt(t *testing.T) {
	f := &fakeFetcher{}
	noBundle := fstest.MapFS{"index.html": files["index.html"], "style.css": files["style.css"], "dist/.gitkeep": {}}
	hub := NewHub(f, HubOptions{})
	srv := NewServer(hub, noBundle)
	if !srv.AssetsMissing {
		t.Error("AssetsMissing not set")
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	res, _ := http.Get(ts.URL + "/app.js")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || !strings.Contains(string(b), "nx run swarm-visualizer:bundle") {
		t.Errorf("%d %s", res.StatusCode, b)
	}
}

func (f *fakeFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Run polls once at start, then waits the idle interval; a first browser wakes it, and while
// someone watches it polls at the short interval.
func TestRunPollsFasterWhileWatched(t *testing.T) {
	f := &fakeFetcher{}
	f.set(state(1), nil)
	hub := NewHub(f, HubOptions{Interval: 10 * time.Millisecond, IdleInterval: time.Hour, Logf: t.Logf})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if !hub.WaitReady(ctx) {
		t.Fatal("no first poll")
	}
	time.Sleep(100 * time.Millisecond)
	if n := f.count(); n != 1 {
		t.Errorf("%d polls with nobody watching, want 1 (idle interval is an hour)", n)
	}
	_, _, unsubscribe, _ := hub.Subscribe()
	defer unsubscribe()
	deadline := time.Now().Add(10 * time.Second)
	for f.count() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.count(); n < 5 {
		t.Errorf("%d polls while watched, want several", n)
	}
}
