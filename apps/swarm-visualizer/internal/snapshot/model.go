// Package snapshot turns what the Engine API says into the small model the page shows, and
// computes the difference between two models (what the server pushes to browsers). Pure: no I/O.
//
// Only what the page shows is in the model. Container env, secrets, configs, mounts and labels
// are never part of it (the engine package doesn't even decode them).
package snapshot

import (
	"sort"
	"strings"
	"time"

	"github.com/nx-swarm/apps/swarm-visualizer/internal/engine"
)

// Snapshot is the whole picture at one moment.
type Snapshot struct {
	// Seq increases by one each time the content changes (see Diff); Time is the poll time.
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Swarm    Swarm     `json:"swarm"`
	Nodes    []Node    `json:"nodes"`
	Services []Service `json:"services"`
	Tasks    []Task    `json:"tasks"`
	Networks []Network `json:"networks"`
}

// Swarm describes the engine the visualizer talks to.
type Swarm struct {
	// Engine is the engine's version; API the negotiated API version.
	Engine string `json:"engine,omitempty"`
	API    string `json:"api,omitempty"`
	NodeID string `json:"nodeId,omitempty"`
	// ClusterID is the swarm's id (managers only).
	ClusterID string `json:"clusterId,omitempty"`
	// Manager: this engine sees the whole swarm.
	Manager bool `json:"manager"`
	// Error: the engine could not be read, or it is not a manager; the page shows it.
	Error string `json:"error,omitempty"`
}

// Node is a swarm node.
type Node struct {
	ID            string  `json:"id"`
	Hostname      string  `json:"hostname"`
	Role          string  `json:"role"`         // manager, worker
	Leader        bool    `json:"leader"`       // the raft leader
	State         string  `json:"state"`        // ready, down, unknown, disconnected
	Availability  string  `json:"availability"` // active, pause, drain
	EngineVersion string  `json:"engineVersion"`
	Platform      string  `json:"platform"` // linux/x86_64
	Addr          string  `json:"addr,omitempty"`
	CPUs          float64 `json:"cpus,omitempty"`
	MemoryBytes   int64   `json:"memoryBytes,omitempty"`
	Message       string  `json:"message,omitempty"`
}

// Port is a published port.
type Port struct {
	Published uint32 `json:"published,omitempty"` // 0: not (yet) assigned
	Target    uint32 `json:"target"`
	Protocol  string `json:"protocol"` // tcp, udp, sctp
	Mode      string `json:"mode"`     // ingress, host
}

// Service is a swarm service.
type Service struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Mode    string `json:"mode"` // replicated, global, replicated-job, global-job
	Desired int    `json:"desired"`
	Running int    `json:"running"`
	// Image is the spec's image without the digest pin ("someprefix/accountservice:c-3f9a2b1c4d5e").
	Image        string   `json:"image"`
	Ports        []Port   `json:"ports,omitempty"`
	Networks     []string `json:"networks,omitempty"`
	EndpointMode string   `json:"endpointMode,omitempty"`
	// UpdateState: updating, paused, completed, rollback_started, rollback_paused, rollback_completed.
	UpdateState   string `json:"updateState,omitempty"`
	UpdateMessage string `json:"updateMessage,omitempty"`
	// LastError is the error of the service's most recent task when that task failed, was
	// rejected, or can't be scheduled (e.g. "no suitable node").
	LastError string `json:"lastError,omitempty"`
}

// Task is a task the page draws: one the swarm wants running, or one still on its way out.
type Task struct {
	ID          string `json:"id"`
	ServiceID   string `json:"serviceId"`
	ServiceName string `json:"serviceName"`
	NodeID      string `json:"nodeId,omitempty"` // empty: not scheduled yet
	Slot        int    `json:"slot,omitempty"`   // 0 for global services
	State       string `json:"state"`            // new … running, shutdown, failed, …
	Desired     string `json:"desired"`          // running, shutdown, …
	// Image: the task's image without digest; Tag its tag ("c-3f9a2b1c4d5e", "latest").
	Image string `json:"image"`
	Tag   string `json:"tag"`
	// Health: healthy, unhealthy, starting, none (no health check) or "" (unknown: the container
	// runs on another node, whose engine the visualizer doesn't talk to).
	Health  string `json:"health,omitempty"`
	Message string `json:"message,omitempty"`
	Err     string `json:"err,omitempty"`
	Ports   []Port `json:"ports,omitempty"`
	// Since is when the task reached its current state.
	Since time.Time `json:"since"`
}

// Network is a swarm-scoped network.
type Network struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Driver     string `json:"driver"`
	Attachable bool   `json:"attachable,omitempty"`
	Ingress    bool   `json:"ingress,omitempty"`
}

// terminal task states: the task is gone or going nowhere.
var terminal = map[string]bool{
	"complete": true, "shutdown": true, "failed": true, "rejected": true, "orphaned": true, "remove": true,
}

// Visible says whether the page draws a task: the swarm wants it running, or it hasn't reached
// a terminal state yet (an old task of a rolling update that is still stopping).
func Visible(desired, state string) bool {
	return desired == "running" || desired == "ready" || (state != "" && !terminal[state])
}

// StripDigest removes an "@sha256:…" pin from an image reference.
func StripDigest(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i]
	}
	return image
}

// Tag returns the tag of an image reference: its tag, "latest" when there is none, or the short
// digest ("@sha256:0123456789ab") for a reference pinned by digest only.
func Tag(image string) string {
	ref := StripDigest(image)
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[colon+1:]
	}
	if digest := image[len(ref):]; digest != "" {
		if len(digest) > 20 {
			digest = digest[:20] // "@sha256:" + 12 hex
		}
		return digest
	}
	return "latest"
}

// healthFromStatus reads the health from a container's status text ("Up 2 minutes (healthy)").
func healthFromStatus(status string) string {
	switch {
	case strings.Contains(status, "(healthy)"):
		return "healthy"
	case strings.Contains(status, "(unhealthy)"):
		return "unhealthy"
	case strings.Contains(status, "(health: starting)"):
		return "starting"
	default:
		return "none"
	}
}

func ports(in []engine.Port) []Port {
	if len(in) == 0 {
		return nil
	}
	out := make([]Port, 0, len(in))
	seen := map[Port]bool{}
	for _, p := range in {
		mode := p.PublishMode
		if mode == "" {
			mode = "ingress"
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port := Port{Published: p.PublishedPort, Target: p.TargetPort, Protocol: proto, Mode: mode}
		if seen[port] {
			continue // engines report a host-mode port once per address family
		}
		seen[port] = true
		out = append(out, port)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Target != out[j].Target {
			return out[i].Target < out[j].Target
		}
		if out[i].Published != out[j].Published {
			return out[i].Published < out[j].Published
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// Build makes a snapshot (Seq 0) from one engine read. pollErr is the error of the read, if any.
func Build(st engine.State, pollErr error) Snapshot {
	s := Snapshot{Time: st.At.UTC()}
	s.Swarm = Swarm{
		Engine: st.Version.Version,
		API:    st.Version.APIVersion,
		NodeID: st.Info.Swarm.NodeID,
	}
	if st.Info.Swarm.Cluster != nil {
		s.Swarm.ClusterID = st.Info.Swarm.Cluster.ID
	}
	switch {
	case pollErr != nil:
		s.Swarm.Error = "cannot read the Docker Engine: " + pollErr.Error()
		return s
	case !st.Manager:
		s.Swarm.Error = st.NotManager
		return s
	}
	s.Swarm.Manager = true

	for _, n := range st.Nodes {
		node := Node{
			ID:            n.ID,
			Hostname:      n.Description.Hostname,
			Role:          n.Spec.Role,
			State:         n.Status.State,
			Availability:  n.Spec.Availability,
			EngineVersion: n.Description.Engine.EngineVersion,
			Addr:          n.Status.Addr,
			CPUs:          float64(n.Description.Resources.NanoCPUs) / 1e9,
			MemoryBytes:   n.Description.Resources.MemoryBytes,
			Message:       n.Status.Message,
		}
		if n.Spec.Name != "" {
			node.Hostname = n.Spec.Name
		}
		if p := n.Description.Platform; p.OS != "" || p.Architecture != "" {
			node.Platform = p.OS + "/" + p.Architecture
		}
		if n.ManagerStatus != nil {
			node.Leader = n.ManagerStatus.Leader
		}
		s.Nodes = append(s.Nodes, node)
	}
	sort.Slice(s.Nodes, func(i, j int) bool { return nodeLess(s.Nodes[i], s.Nodes[j]) })

	networkNames := map[string]string{}
	for _, n := range st.Networks {
		networkNames[n.ID] = n.Name
		s.Networks = append(s.Networks, Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Attachable: n.Attachable, Ingress: n.Ingress})
	}
	sort.Slice(s.Networks, func(i, j int) bool { return networkLess(s.Networks[i], s.Networks[j]) })

	health := map[string]string{}
	for _, c := range st.Containers {
		if c.TaskID != "" {
			health[c.TaskID] = healthFromStatus(c.Status)
		}
	}

	serviceNames := map[string]string{}
	services := map[string]*Service{}
	for _, sv := range st.Services {
		out := Service{ID: sv.ID, Name: sv.Spec.Name}
		serviceNames[sv.ID] = sv.Spec.Name
		m := sv.Spec.Mode
		switch {
		case m.Replicated != nil:
			out.Mode = "replicated"
			if m.Replicated.Replicas != nil {
				out.Desired = int(*m.Replicated.Replicas)
			} else {
				out.Desired = 1
			}
		case m.Global != nil:
			out.Mode = "global"
		case m.ReplicatedJob != nil:
			out.Mode = "replicated-job"
		case m.GlobalJob != nil:
			out.Mode = "global-job"
		}
		if cs := sv.Spec.TaskTemplate.ContainerSpec; cs != nil {
			out.Image = StripDigest(cs.Image)
		}
		out.Ports = ports(sv.Endpoint.Ports)
		for _, n := range sv.Spec.TaskTemplate.Networks {
			name := networkNames[n.Target]
			if name == "" {
				name = n.Target
			}
			out.Networks = append(out.Networks, name)
		}
		sort.Strings(out.Networks)
		if sv.Spec.EndpointSpec != nil {
			out.EndpointMode = sv.Spec.EndpointSpec.Mode
		}
		if sv.UpdateStatus != nil {
			out.UpdateState = sv.UpdateStatus.State
			out.UpdateMessage = sv.UpdateStatus.Message
		}
		if sv.ServiceStatus != nil && out.Mode != "replicated" {
			out.Desired = int(sv.ServiceStatus.DesiredTasks)
		}
		services[sv.ID] = &out
	}

	// Running counts and last errors come from the tasks themselves (consistent with what the
	// page draws, whatever the API version).
	newest := map[string]engine.Task{}
	globalDesired := map[string]int{}
	for _, t := range st.Tasks {
		sv := services[t.ServiceID]
		if sv == nil {
			continue // its service was removed between the two reads
		}
		if t.DesiredState == "running" && t.Status.State == "running" {
			sv.Running++
		}
		if t.DesiredState == "running" {
			globalDesired[t.ServiceID]++
		}
		if cur, ok := newest[t.ServiceID]; !ok || t.Status.Timestamp.After(cur.Status.Timestamp) {
			newest[t.ServiceID] = t
		}
		if !Visible(t.DesiredState, t.Status.State) {
			continue
		}
		task := Task{
			ID:          t.ID,
			ServiceID:   t.ServiceID,
			ServiceName: serviceNames[t.ServiceID],
			NodeID:      t.NodeID,
			Slot:        t.Slot,
			State:       t.Status.State,
			Desired:     t.DesiredState,
			Message:     t.Status.Message,
			Err:         t.Status.Err,
			Ports:       ports(t.Status.PortStatus.Ports),
			Since:       t.Status.Timestamp.UTC(),
		}
		if cs := t.Spec.ContainerSpec; cs != nil {
			task.Image = StripDigest(cs.Image)
			task.Tag = Tag(cs.Image)
		}
		if h, ok := health[t.ID]; ok {
			task.Health = h
		}
		s.Tasks = append(s.Tasks, task)
	}
	for id, sv := range services {
		if sv.Mode == "global" && sv.Desired == 0 {
			sv.Desired = globalDesired[id]
		}
		if t, ok := newest[id]; ok && t.Status.Err != "" &&
			(t.Status.State == "failed" || t.Status.State == "rejected" || t.Status.State == "pending") {
			sv.LastError = t.Status.Err
		}
		s.Services = append(s.Services, *sv)
	}
	sort.Slice(s.Services, func(i, j int) bool { return serviceLess(s.Services[i], s.Services[j]) })
	sort.Slice(s.Tasks, func(i, j int) bool { return taskLess(s.Tasks[i], s.Tasks[j]) })
	return s
}

// The orders of a snapshot's lists (Build and Apply keep them; the page relies on them).

func nodeLess(a, b Node) bool {
	if (a.Role == "manager") != (b.Role == "manager") {
		return a.Role == "manager"
	}
	if a.Hostname != b.Hostname {
		return a.Hostname < b.Hostname
	}
	return a.ID < b.ID
}

func serviceLess(a, b Service) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}

func taskLess(a, b Task) bool {
	if a.ServiceName != b.ServiceName {
		return a.ServiceName < b.ServiceName
	}
	if a.Slot != b.Slot {
		return a.Slot < b.Slot
	}
	if a.NodeID != b.NodeID {
		return a.NodeID < b.NodeID
	}
	return a.ID < b.ID
}

func networkLess(a, b Network) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}
