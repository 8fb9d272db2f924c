package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEngine serves canned answers on a unix socket and records every request.
type fakeEngine struct {
	mu       sync.Mutex
	requests []string
	answers  map[string]string // "METHOD /path" (path with version) → JSON
	status   map[string]int
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	key := r.Method + " " + r.URL.Path
	f.requests = append(f.requests, key+"?"+r.URL.RawQuery)
	body, ok := f.answers[r.URL.Path]
	status := f.status[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"page not found"}`))
		return
	}
	if status == 0 {
		status = 200
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (f *fakeEngine) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func startFake(t *testing.T, f *fakeEngine) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "viz-engine-") // short path: unix socket paths are limited to ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "unix://" + sock
}

const managerInfo = `{"ServerVersion":"20.10.24","Swarm":{"NodeID":"n1","LocalNodeState":"active","ControlAvailable":true,"Cluster":{"ID":"c1"}}}`

func manager() *fakeEngine {
	return &fakeEngine{answers: map[string]string{
		"/version":               `{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}`,
		"/v1.41/info":            managerInfo,
		"/v1.41/nodes":           `[{"ID":"n1","Spec":{"Role":"manager","Availability":"active"},"Description":{"Hostname":"vm"},"Status":{"State":"ready"}}]`,
		"/v1.41/services":        `[{"ID":"s1","Spec":{"Name":"acc","Mode":{"Replicated":{"Replicas":1}},"TaskTemplate":{"ContainerSpec":{"Image":"a:1","Env":["X=SECRET"]}}}}]`,
		"/v1.41/tasks":           `[{"ID":"t1","ServiceID":"s1","NodeID":"n1","Slot":1,"Status":{"State":"running"},"DesiredState":"running"}]`,
		"/v1.41/networks":        `[{"Id":"net1","Name":"my_network","Driver":"overlay","Scope":"swarm"}]`,
		"/v1.41/containers/json": `[{"Id":"c1","State":"running","Status":"Up 1 second (healthy)","Labels":{"com.docker.swarm.task.id":"t1","secret.label":"SECRET"}}]`,
	}}
}

func TestFetchManager(t *testing.T) {
	f := manager()
	c, err := New(startFake(t, f))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Manager || st.Version.APIVersion != "1.41" || st.Version.Version != "20.10.24" {
		t.Errorf("state = %+v", st)
	}
	if len(st.Nodes) != 1 || len(st.Services) != 1 || len(st.Tasks) != 1 || len(st.Networks) != 1 {
		t.Errorf("state = %+v", st)
	}
	if len(st.Containers) != 1 || st.Containers[0].TaskID != "t1" || st.Containers[0].Status != "Up 1 second (healthy)" {
		t.Errorf("containers = %+v", st.Containers)
	}

	want := []string{
		"GET /version?",
		"GET /v1.41/info?",
		"GET /v1.41/nodes?",
		"GET /v1.41/services?status=true",
		"GET /v1.41/tasks?",
		"GET /v1.41/networks?filters=%7B%22scope%22%3A%5B%22swarm%22%5D%7D",
		"GET /v1.41/containers/json?filters=%7B%22label%22%3A%5B%22com.docker.swarm.task.id%22%5D%7D",
	}
	if got := f.log(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The version is negotiated once.
	if _, err := c.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(f.log(), "\n"), "/version"); n != 1 {
		t.Errorf("GET /version %d times", n)
	}
	for _, r := range f.log() {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("non-GET request %q: the client must be read-only", r)
		}
	}
}

func TestFetchNegotiatesNewerEngines(t *testing.T) {
	f := &fakeEngine{answers: map[string]string{
		"/version":    `{"Version":"29.1.0","ApiVersion":"1.52","MinAPIVersion":"1.44"}`,
		"/v1.52/info": `{"Swarm":{"LocalNodeState":"inactive"}}`,
	}}
	c, _ := New(startFake(t, f))
	st, err := c.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.APIVersion() != "1.52" || st.Manager || !strings.Contains(st.NotManager, "not part of an active swarm") {
		t.Errorf("version %q, state %+v", c.APIVersion(), st)
	}
}

func TestFetchWorker(t *testing.T) {
	f := manager()
	f.answers["/v1.41/info"] = `{"Swarm":{"NodeID":"n2","LocalNodeState":"active","ControlAvailable":false}}`
	c, _ := New(startFake(t, f))
	st, err := c.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Manager || !strings.Contains(st.NotManager, "node.role==manager") {
		t.Errorf("state = %+v", st)
	}
	for _, r := range f.log() {
		if strings.Contains(r, "/nodes") || strings.Contains(r, "/tasks") {
			t.Errorf("a worker was asked %s (managers only)", r)
		}
	}
}

func TestFetchErrors(t *testing.T) {
	t.Run("API error carries the engine's message", func(t *testing.T) {
		f := manager()
		f.status = map[string]int{"/v1.41/nodes": 503}
		f.answers["/v1.41/nodes"] = `{"message":"This node is not a swarm manager."}`
		c, _ := New(startFake(t, f))
		_, err := c.Fetch(context.Background())
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 503 || err.Error() != "GET /nodes: 503 This node is not a swarm manager." {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no socket", func(t *testing.T) {
		c, _ := New("unix:///nonexistent/docker.sock")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := c.Fetch(ctx)
		if err == nil || !strings.Contains(err.Error(), "GET /version") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("the version is negotiated again after a failure", func(t *testing.T) {
		f := manager()
		c, _ := New(startFake(t, f))
		if _, err := c.Fetch(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.status = map[string]int{"/v1.41/info": 400}
		f.mu.Unlock()
		if _, err := c.Fetch(context.Background()); err == nil {
			t.Fatal("want an error")
		}
		if c.APIVersion() != "" {
			t.Errorf("version kept after a failed read: %q", c.APIVersion())
		}
	})
}

func TestNew(t *testing.T) {
	for host, wantErr := range map[string]string{
		"":                               "",
		"unix:///var/run/docker.sock":    "",
		"tcp://127.0.0.1:2375":           "",
		"http://127.0.0.1:2375":          "",
		"https://127.0.0.1:2376":         "unsupported scheme",
		"ssh://user@host":                "unsupported scheme",
		"unix://":                        "no socket path",
		"tcp://":                         "no host:port",
		"npipe:////./pipe/docker_engine": "unsupported scheme",
	} {
		c, err := New(host)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("New(%q): %v", host, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("New(%q) = %v, want error containing %q", host, err, wantErr)
		case wantErr == "" && host == "" && c.Host() != DefaultHost:
			t.Errorf("default host %q", c.Host())
		}
	}
}

// Health is a nicety: when the container list fails, the swarm is still shown.
func TestFetchWithoutContainers(t *testing.T) {
	f := manager()
	f.status = map[string]int{"/v1.41/containers/json": 500}
	c, _ := New(startFake(t, f))
	st, err := c.Fetch(context.Background())
	if err != nil || !st.Manager || len(st.Tasks) != 1 || st.Containers != nil {
		t.Errorf("err %v, state %+v", err, st)
	}
}
