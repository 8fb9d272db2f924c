package snapshot

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func node(id, host, role string) Node {
	return Node{ID: id, Hostname: host, Role: role, State: "ready", Availability: "active", EngineVersion: "20.10.24", Platform: "linux/x86_64"}
}

func svc(id, name string, desired, running int) Service {
	return Service{ID: id, Name: name, Mode: "replicated", Desired: desired, Running: running, Image: "someprefix/" + name + ":c-aaaaaaaaaaaa"}
}

func task(id, service string, slot int, state string) Task {
	return Task{ID: id, ServiceID: "s-" + service, ServiceName: service, NodeID: "n1", Slot: slot, State: state, Desired: "running",
		Image: "someprefix/" + service + ":c-aaaaaaaaaaaa", Tag: "c-aaaaaaaaaaaa", Health: "healthy", Since: t0}
}

func base() Snapshot {
	return Snapshot{
		Seq:      7,
		Time:     t0,
		Swarm:    Swarm{Engine: "20.10.24", API: "1.41", NodeID: "n1", Manager: true},
		Nodes:    []Node{node("n1", "vm", "manager")},
		Services: []Service{svc("s-acc", "acc", 1, 1)},
		Tasks:    []Task{task("t1", "acc", 1, "running")},
		Networks: []Network{{ID: "net1", Name: "my_network", Driver: "overlay", Attachable: true}},
	}
}

// with returns a deep copy of base() changed by f.
func with(f func(s *Snapshot)) Snapshot {
	s := base()
	s.Nodes = append([]Node(nil), s.Nodes...)
	s.Services = append([]Service(nil), s.Services...)
	s.Tasks = append([]Task(nil), s.Tasks...)
	s.Networks = append([]Network(nil), s.Networks...)
	f(&s)
	s.Seq = 0
	s.Time = t0.Add(time.Second)
	return s
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		cur  Snapshot
		want Patch // From/To/Time are checked separately
	}{
		{
			name: "nothing changed: empty, even though the poll time moved",
			cur:  with(func(s *Snapshot) {}),
			want: Patch{},
		},
		{
			name: "scale 1 to 3: two tasks arrive and the service's counts change",
			cur: with(func(s *Snapshot) {
				s.Services[0].Desired, s.Services[0].Running = 3, 1
				s.Tasks = append(s.Tasks, task("t2", "acc", 2, "starting"), task("t3", "acc", 3, "preparing"))
			}),
			want: Patch{
				Services: Delta[Service]{Upsert: []Service{{ID: "s-acc", Name: "acc", Mode: "replicated", Desired: 3, Running: 1, Image: "someprefix/acc:c-aaaaaaaaaaaa"}}},
				Tasks:    Delta[Task]{Upsert: []Task{task("t2", "acc", 2, "starting"), task("t3", "acc", 3, "preparing")}},
			},
		},
		{
			name: "a task changes state: the whole task is sent",
			cur: with(func(s *Snapshot) {
				s.Tasks[0].Desired = "shutdown"
			}),
			want: Patch{Tasks: Delta[Task]{Upsert: []Task{func() Task { x := task("t1", "acc", 1, "running"); x.Desired = "shutdown"; return x }()}}},
		},
		{
			name: "rolling update step: the old task leaves, a new one with the new tag arrives",
			cur: with(func(s *Snapshot) {
				n := task("t9", "acc", 1, "running")
				n.Image, n.Tag = "someprefix/acc:c-bbbbbbbbbbbb", "c-bbbbbbbbbbbb"
				s.Tasks = []Task{n}
				s.Services[0].Image = "someprefix/acc:c-bbbbbbbbbbbb"
				s.Services[0].UpdateState = "updating"
			}),
			want: Patch{
				Services: Delta[Service]{Upsert: []Service{{ID: "s-acc", Name: "acc", Mode: "replicated", Desired: 1, Running: 1, Image: "someprefix/acc:c-bbbbbbbbbbbb", UpdateState: "updating"}}},
				Tasks: Delta[Task]{
					Upsert: []Task{func() Task {
						n := task("t9", "acc", 1, "running")
						n.Image, n.Tag = "someprefix/acc:c-bbbbbbbbbbbb", "c-bbbbbbbbbbbb"
						return n
					}()},
					Remove: []string{"t1"},
				},
			},
		},
		{
			name: "a service is removed with its tasks",
			cur: with(func(s *Snapshot) {
				s.Services, s.Tasks = nil, nil
			}),
			want: Patch{Services: Delta[Service]{Remove: []string{"s-acc"}}, Tasks: Delta[Task]{Remove: []string{"t1"}}},
		},
		{
			name: "a node is drained and a worker joins",
			cur: with(func(s *Snapshot) {
				s.Nodes[0].Availability = "drain"
				s.Nodes = append(s.Nodes, node("n2", "worker1", "worker"))
			}),
			want: Patch{Nodes: Delta[Node]{Upsert: []Node{
				func() Node { n := node("n1", "vm", "manager"); n.Availability = "drain"; return n }(),
				node("n2", "worker1", "worker"),
			}}},
		},
		{
			name: "published ports change",
			cur: with(func(s *Snapshot) {
				s.Services[0].Ports = []Port{{Published: 6767, Target: 6767, Protocol: "tcp", Mode: "host"}}
			}),
			want: Patch{Services: Delta[Service]{Upsert: []Service{{ID: "s-acc", Name: "acc", Mode: "replicated", Desired: 1, Running: 1,
				Image: "someprefix/acc:c-aaaaaaaaaaaa", Ports: []Port{{Published: 6767, Target: 6767, Protocol: "tcp", Mode: "host"}}}}}},
		},
		{
			name: "the engine becomes unreachable: swarm changes, everything else is removed",
			cur:  Snapshot{Time: t0.Add(time.Second), Swarm: Swarm{Error: "cannot read the Docker Engine: dial unix: no such file"}},
			want: Patch{
				Swarm:    &Swarm{Error: "cannot read the Docker Engine: dial unix: no such file"},
				Nodes:    Delta[Node]{Remove: []string{"n1"}},
				Services: Delta[Service]{Remove: []string{"s-acc"}},
				Tasks:    Delta[Task]{Remove: []string{"t1"}},
				Networks: Delta[Network]{Remove: []string{"net1"}},
			},
		},
		{
			name: "a network appears",
			cur: with(func(s *Snapshot) {
				s.Networks = append([]Network{{ID: "net0", Name: "backend", Driver: "overlay"}}, s.Networks...)
			}),
			want: Patch{Networks: Delta[Network]{Upsert: []Network{{ID: "net0", Name: "backend", Driver: "overlay"}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := base()
			p := Diff(old, tc.cur)
			if p.From != 7 || p.To != 8 {
				t.Errorf("From/To = %d/%d, want 7/8", p.From, p.To)
			}
			if p.Time == "" {
				t.Errorf("Time is empty")
			}
			got := p
			got.From, got.To, got.Time = 0, 0, ""
			if !reflect.DeepEqual(got, tc.want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(tc.want, "", " ")
				t.Fatalf("Diff:\n got %s\nwant %s", gj, wj)
			}
			if reflect.DeepEqual(tc.want, Patch{}) != p.Empty() {
				t.Errorf("Empty() = %v", p.Empty())
			}
			// Applying the patch gives the new content.
			applied := Apply(old, p)
			if applied.Seq != 8 {
				t.Errorf("Apply: Seq = %d, want 8", applied.Seq)
			}
			want := tc.cur
			want.Seq, want.Time = 8, old.Time
			if !reflect.DeepEqual(normalize(applied), normalize(want)) {
				aj, _ := json.MarshalIndent(applied, "", " ")
				wj, _ := json.MarshalIndent(want, "", " ")
				t.Fatalf("Apply(old, Diff(old, cur)):\n got %s\nwant %s", aj, wj)
			}
		})
	}
}

// normalize makes empty and nil slices equal (a removed-everything list may be either).
func normalize(s Snapshot) Snapshot {
	if len(s.Nodes) == 0 {
		s.Nodes = nil
	}
	if len(s.Services) == 0 {
		s.Services = nil
	}
	if len(s.Tasks) == 0 {
		s.Tasks = nil
	}
	if len(s.Networks) == 0 {
		s.Networks = nil
	}
	return s
}

func TestApplyDoesNotModifyItsInput(t *testing.T) {
	old := base()
	cur := with(func(s *Snapshot) { s.Tasks[0].State = "shutdown"; s.Nodes[0].State = "down" })
	_ = Apply(old, Diff(old, cur))
	if !reflect.DeepEqual(old, base()) {
		t.Fatalf("Apply changed its input: %+v", old)
	}
}

func TestApplyKeepsOrder(t *testing.T) {
	old := base()
	cur := with(func(s *Snapshot) {
		// New elements that sort before and after the existing ones.
		s.Tasks = []Task{task("t0", "aaa", 1, "running"), s.Tasks[0], task("tz", "zzz", 1, "running")}
		s.Services = []Service{svc("s-aaa", "aaa", 1, 1), s.Services[0], svc("s-zzz", "zzz", 1, 1)}
		s.Nodes = append(s.Nodes, node("n0", "a-worker", "worker"))
	})
	got := Apply(old, Diff(old, cur))
	var ids []string
	for _, x := range got.Tasks {
		ids = append(ids, x.ID)
	}
	if !reflect.DeepEqual(ids, []string{"t0", "t1", "tz"}) {
		t.Errorf("task order %v", ids)
	}
	var names []string
	for _, x := range got.Services {
		names = append(names, x.Name)
	}
	if !reflect.DeepEqual(names, []string{"aaa", "acc", "zzz"}) {
		t.Errorf("service order %v", names)
	}
	if got.Nodes[0].Role != "manager" || got.Nodes[1].Hostname != "a-worker" {
		t.Errorf("node order: managers first, then by hostname: %+v", got.Nodes)
	}
}

// A chain of polls: applying every patch in turn always reproduces the latest snapshot.
func TestPatchChain(t *testing.T) {
	steps := []func(s *Snapshot){
		func(s *Snapshot) {},
		func(s *Snapshot) { s.Services[0].Desired = 3 },
		func(s *Snapshot) {
			s.Services[0].Desired = 3
			s.Tasks = append(s.Tasks, task("t2", "acc", 2, "starting"), task("t3", "acc", 3, "starting"))
		},
		func(s *Snapshot) {
			s.Services[0].Desired, s.Services[0].Running = 3, 3
			s.Tasks = append(s.Tasks, task("t2", "acc", 2, "running"), task("t3", "acc", 3, "running"))
		},
		func(s *Snapshot) { // rolling: slot 1 replaced
			s.Services[0].Desired, s.Services[0].Running = 3, 3
			n := task("t4", "acc", 1, "running")
			n.Tag = "c-bbbbbbbbbbbb"
			s.Tasks = []Task{n, task("t2", "acc", 2, "running"), task("t3", "acc", 3, "running")}
		},
		func(s *Snapshot) { s.Services, s.Tasks = nil, nil },
	}
	client := base()
	server := base()
	for i, f := range steps {
		next := with(f)
		p := Diff(server, next)
		if p.Empty() {
			continue
		}
		if p.From != client.Seq {
			t.Fatalf("step %d: patch from %d, client at %d", i, p.From, client.Seq)
		}
		next.Seq = p.To
		server = next
		// The patch travels as JSON, like to the browser.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var decoded Patch
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		client = Apply(client, decoded)
		want := server
		want.Time = client.Time
		if !reflect.DeepEqual(normalize(client), normalize(want)) {
			t.Fatalf("step %d: client %+v\nserver %+v", i, client, server)
		}
	}
	if server.Seq != 12 {
		t.Errorf("Seq after 5 changes = %d, want 12", server.Seq)
	}
}
