package snapshot

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nx-swarm/apps/swarm-visualizer/internal/engine"
)

// fixture decodes testdata/engine.json with the engine package's types, as the client does.
func fixture(t *testing.T) engine.State {
	t.Helper()
	b, err := os.ReadFile("testdata/engine.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Info       engine.Info      `json:"info"`
		Nodes      []engine.Node    `json:"nodes"`
		Services   []engine.Service `json:"services"`
		Tasks      []engine.Task    `json:"tasks"`
		Networks   []engine.Network `json:"networks"`
		Containers []struct {
			engine.Container
			TaskID string `json:"TaskID"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	st := engine.State{
		At:      time.Date(2026, 11, 25, 12, 0, 5, 0, time.UTC),
		Version: engine.Version{Version: "20.10.24+dfsg1", APIVersion: "1.41"},
		Info:    raw.Info, Manager: true,
		Nodes: raw.Nodes, Services: raw.Services, Tasks: raw.Tasks, Networks: raw.Networks,
	}
	for _, c := range raw.Containers {
		c.Container.TaskID = c.TaskID
		st.Containers = append(st.Containers, c.Container)
	}
	return st
}

func TestBuild(t *testing.T) {
	s := Build(fixture(t), nil)

	if s.Swarm != (Swarm{Engine: "20.10.24+dfsg1", API: "1.41", NodeID: "n1", ClusterID: "cluster1", Manager: true}) {
		t.Errorf("swarm = %+v", s.Swarm)
	}

	t.Run("nodes: managers first, role, leader, state, availability, engine, platform", func(t *testing.T) {
		if len(s.Nodes) != 2 {
			t.Fatalf("nodes = %+v", s.Nodes)
		}
		m, w := s.Nodes[0], s.Nodes[1]
		if m.ID != "n1" || m.Role != "manager" || !m.Leader || m.State != "ready" || m.Availability != "active" ||
			m.EngineVersion != "20.10.24+dfsg1" || m.Platform != "linux/x86_64" || m.CPUs != 2 {
			t.Errorf("manager = %+v", m)
		}
		if w.ID != "n2" || w.Role != "worker" || w.Leader || w.Platform != "linux/aarch64" || w.EngineVersion != "27.3.1" {
			t.Errorf("worker = %+v", w)
		}
	})

	byID := map[string]Task{}
	for _, x := range s.Tasks {
		byID[x.ID] = x
	}

	t.Run("tasks: desired running, or still on their way out; finished ones and orphans are not drawn", func(t *testing.T) {
		var ids []string
		for _, x := range s.Tasks {
			ids = append(ids, x.ID)
		}
		// Sorted by service name, slot, node, id.
		want := "t-new t-old t-2 t-3 t-bad t-viz"
		if strings.Join(ids, " ") != want {
			t.Errorf("tasks = %v, want %s", ids, want)
		}
	})

	t.Run("task fields: service name, slot, state, image without digest, tag, health, ports", func(t *testing.T) {
		old, nw := byID["t-old"], byID["t-new"]
		if old.ServiceName != "accountservice" || old.Slot != 1 || old.State != "running" || old.Desired != "shutdown" ||
			old.Tag != "c-aaaaaaaaaaaa" || old.Health != "healthy" || old.NodeID != "n1" {
			t.Errorf("old = %+v", old)
		}
		if nw.Image != "someprefix/accountservice:c-bbbbbbbbbbbb" || nw.Tag != "c-bbbbbbbbbbbb" || nw.Health != "starting" || nw.State != "starting" {
			t.Errorf("new = %+v", nw)
		}
		if h := byID["t-3"].Health; h != "unhealthy" {
			t.Errorf("t-3 health %q", h)
		}
		if h := byID["t-viz"].Health; h != "none" {
			t.Errorf("t-viz (no health check) health %q", h)
		}
		if h := byID["t-2"].Health; h != "" {
			t.Errorf("t-2 runs on another node: health should be unknown, got %q", h)
		}
		if p := byID["t-2"].Ports; len(p) != 1 || p[0] != (Port{Published: 6767, Target: 6767, Protocol: "tcp", Mode: "host"}) {
			t.Errorf("t-2 ports %+v", p)
		}
		if b := byID["t-bad"]; b.NodeID != "" || b.Tag != "@sha256:fedcba987654" || !strings.Contains(b.Err, "no suitable node") {
			t.Errorf("t-bad = %+v", b)
		}
	})

	t.Run("services: mode, desired/running from tasks, image, ports, networks, update state, last error", func(t *testing.T) {
		if len(s.Services) != 3 {
			t.Fatalf("services = %+v", s.Services)
		}
		acc, bad, viz := s.Services[0], s.Services[1], s.Services[2]
		if acc.Name != "accountservice" || acc.Mode != "replicated" || acc.Desired != 3 || acc.Running != 2 ||
			acc.Image != "someprefix/accountservice:c-bbbbbbbbbbbb" || acc.EndpointMode != "dnsrr" ||
			acc.UpdateState != "updating" || acc.LastError != "" {
			t.Errorf("accountservice = %+v", acc)
		}
		if len(acc.Ports) != 1 || acc.Ports[0] != (Port{Published: 6767, Target: 6767, Protocol: "tcp", Mode: "host"}) {
			t.Errorf("accountservice ports = %+v", acc.Ports)
		}
		if len(acc.Networks) != 1 || acc.Networks[0] != "my_network" {
			t.Errorf("accountservice networks = %v", acc.Networks)
		}
		if bad.Name != "broken" || bad.Running != 0 || bad.Desired != 1 || !strings.HasPrefix(bad.LastError, "no suitable node") {
			t.Errorf("broken = %+v", bad)
		}
		if viz.Mode != "global" || viz.Desired != 1 || viz.Running != 1 || viz.Ports[0].Mode != "ingress" {
			t.Errorf("visualizer = %+v", viz)
		}
	})

	t.Run("networks", func(t *testing.T) {
		if len(s.Networks) != 2 || s.Networks[0].Name != "ingress" || !s.Networks[0].Ingress || s.Networks[1].Name != "my_network" || !s.Networks[1].Attachable {
			t.Errorf("networks = %+v", s.Networks)
		}
	})
}

// Nothing that might be a secret reaches the snapshot: env, args, secrets, configs, mounts,
// labels and network options in the engine's answers are not even decoded.
func TestBuildRedacts(t *testing.T) {
	b, err := json.Marshal(Build(fixture(t), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"SECRET", "DB_PASSWORD", "token", "Env", "Labels", "labels", "Mounts", "/srv"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("snapshot JSON contains %q:\n%s", secret, b)
		}
	}
}

func TestBuildWithoutSwarm(t *testing.T) {
	t.Run("engine unreachable", func(t *testing.T) {
		s := Build(engine.State{}, errors.New("dial unix /var/run/docker.sock: connect: no such file or directory"))
		if s.Swarm.Manager || !strings.Contains(s.Swarm.Error, "cannot read the Docker Engine: dial unix") || s.Nodes != nil || s.Tasks != nil {
			t.Errorf("%+v", s)
		}
	})
	t.Run("worker node", func(t *testing.T) {
		st := engine.State{NotManager: "this engine's node is a swarm worker: only a manager node sees the whole swarm"}
		st.Info.Swarm.NodeID = "n2"
		s := Build(st, nil)
		if s.Swarm.Manager || s.Swarm.NodeID != "n2" || !strings.Contains(s.Swarm.Error, "only a manager") {
			t.Errorf("%+v", s.Swarm)
		}
	})
}

func TestTag(t *testing.T) {
	for in, want := range map[string]string{
		"someprefix/accountservice:c-3f9a2b1c4d5e":               "c-3f9a2b1c4d5e",
		"someprefix/accountservice:c-3f9a2b1c4d5e@sha256:abcdef": "c-3f9a2b1c4d5e",
		"127.0.0.1:5000/accountservice":                          "latest",
		"127.0.0.1:5000/accountservice:1.2":                      "1.2",
		"alpine":                                                 "latest",
		"alpine@sha256:0123456789abcdef0123":                     "@sha256:0123456789ab",
	} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
	if got := StripDigest("a/b:c@sha256:12"); got != "a/b:c" {
		t.Errorf("StripDigest = %q", got)
	}
}

func TestVisible(t *testing.T) {
	for _, tc := range []struct {
		desired, state string
		want           bool
	}{
		{"running", "running", true},
		{"running", "pending", true},
		{"running", "failed", true}, // until the swarm replaces it
		{"shutdown", "running", true},
		{"shutdown", "shutdown", false},
		{"shutdown", "failed", false},
		{"shutdown", "complete", false},
		{"remove", "rejected", false},
	} {
		if got := Visible(tc.desired, tc.state); got != tc.want {
			t.Errorf("Visible(%q, %q) = %v", tc.desired, tc.state, got)
		}
	}
}
