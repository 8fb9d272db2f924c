package engine

import "time"

// The types below decode only the fields the visualizer shows. Everything else in the Engine's
// answers (container env, secrets and configs, mounts, labels, args, …) is never decoded, so it
// can't leak into a snapshot by accident: redaction by construction.

// Version is the answer of GET /version (unversioned).
type Version struct {
	Version       string `json:"Version"`
	APIVersion    string `json:"ApiVersion"`
	MinAPIVersion string `json:"MinAPIVersion"`
}

// Info is the part of GET /info the visualizer uses.
type Info struct {
	ID            string    `json:"ID"`
	Name          string    `json:"Name"`
	ServerVersion string    `json:"ServerVersion"`
	Swarm         SwarmInfo `json:"Swarm"`
}

// SwarmInfo is Info.Swarm.
type SwarmInfo struct {
	NodeID           string `json:"NodeID"`
	NodeAddr         string `json:"NodeAddr"`
	LocalNodeState   string `json:"LocalNodeState"` // inactive, pending, active, error, locked
	ControlAvailable bool   `json:"ControlAvailable"`
	Error            string `json:"Error"`
	Nodes            int    `json:"Nodes"`
	Managers         int    `json:"Managers"`
	Cluster          *struct {
		ID string `json:"ID"`
	} `json:"Cluster"`
}

// Node is an element of GET /nodes.
type Node struct {
	ID   string `json:"ID"`
	Spec struct {
		Name         string `json:"Name"`
		Role         string `json:"Role"`
		Availability string `json:"Availability"`
	} `json:"Spec"`
	Description struct {
		Hostname string `json:"Hostname"`
		Platform struct {
			Architecture string `json:"Architecture"`
			OS           string `json:"OS"`
		} `json:"Platform"`
		Resources struct {
			NanoCPUs    int64 `json:"NanoCPUs"`
			MemoryBytes int64 `json:"MemoryBytes"`
		} `json:"Resources"`
		Engine struct {
			EngineVersion string `json:"EngineVersion"`
		} `json:"Engine"`
	} `json:"Description"`
	Status struct {
		State   string `json:"State"`
		Message string `json:"Message"`
		Addr    string `json:"Addr"`
	} `json:"Status"`
	ManagerStatus *struct {
		Leader       bool   `json:"Leader"`
		Reachability string `json:"Reachability"`
		Addr         string `json:"Addr"`
	} `json:"ManagerStatus"`
}

// Port is a published port (service endpoint or task port status).
type Port struct {
	Protocol      string `json:"Protocol"`
	TargetPort    uint32 `json:"TargetPort"`
	PublishedPort uint32 `json:"PublishedPort"`
	PublishMode   string `json:"PublishMode"`
}

// Service is an element of GET /services?status=true.
type Service struct {
	ID        string    `json:"ID"`
	CreatedAt time.Time `json:"CreatedAt"`
	UpdatedAt time.Time `json:"UpdatedAt"`
	Spec      struct {
		Name string `json:"Name"`
		Mode struct {
			Replicated *struct {
				Replicas *uint64 `json:"Replicas"`
			} `json:"Replicated"`
			Global        *struct{} `json:"Global"`
			ReplicatedJob *struct{} `json:"ReplicatedJob"`
			GlobalJob     *struct{} `json:"GlobalJob"`
		} `json:"Mode"`
		TaskTemplate struct {
			ContainerSpec *struct {
				Image string `json:"Image"`
			} `json:"ContainerSpec"`
			Networks []struct {
				Target string `json:"Target"`
			} `json:"Networks"`
		} `json:"TaskTemplate"`
		EndpointSpec *struct {
			Mode string `json:"Mode"`
		} `json:"EndpointSpec"`
	} `json:"Spec"`
	Endpoint struct {
		Ports []Port `json:"Ports"`
	} `json:"Endpoint"`
	UpdateStatus *struct {
		State   string `json:"State"`
		Message string `json:"Message"`
	} `json:"UpdateStatus"`
	// ServiceStatus is present from API 1.41 when asked with ?status=true.
	ServiceStatus *struct {
		RunningTasks uint64 `json:"RunningTasks"`
		DesiredTasks uint64 `json:"DesiredTasks"`
	} `json:"ServiceStatus"`
}

// Task is an element of GET /tasks.
type Task struct {
	ID        string    `json:"ID"`
	ServiceID string    `json:"ServiceID"`
	NodeID    string    `json:"NodeID"`
	Slot      int       `json:"Slot"`
	CreatedAt time.Time `json:"CreatedAt"`
	UpdatedAt time.Time `json:"UpdatedAt"`
	Spec      struct {
		ContainerSpec *struct {
			Image string `json:"Image"`
		} `json:"ContainerSpec"`
	} `json:"Spec"`
	Status struct {
		Timestamp       time.Time `json:"Timestamp"`
		State           string    `json:"State"`
		Message         string    `json:"Message"`
		Err             string    `json:"Err"`
		ContainerStatus *struct {
			ContainerID string `json:"ContainerID"`
			ExitCode    int    `json:"ExitCode"`
		} `json:"ContainerStatus"`
		PortStatus struct {
			Ports []Port `json:"Ports"`
		} `json:"PortStatus"`
	} `json:"Status"`
	DesiredState string `json:"DesiredState"`
}

// Network is an element of GET /networks.
type Network struct {
	ID         string `json:"Id"`
	Name       string `json:"Name"`
	Driver     string `json:"Driver"`
	Scope      string `json:"Scope"`
	Attachable bool   `json:"Attachable"`
	Ingress    bool   `json:"Ingress"`
}

// Container is an element of GET /containers/json on the node the visualizer talks to. Only the
// swarm task id label is kept (see Client.Containers); other labels are dropped while decoding.
type Container struct {
	ID     string `json:"Id"`
	State  string `json:"State"`
	Status string `json:"Status"` // e.g. "Up 5 minutes (healthy)"
	TaskID string `json:"-"`
}

// State is one consistent-enough read of the swarm: what a poll returns.
type State struct {
	// At is when the read started.
	At      time.Time
	Version Version
	Info    Info
	// Manager is false when this engine can't see the swarm (not a manager, or not in a swarm);
	// Nodes, Services and Tasks are then empty and NotManager explains why.
	Manager    bool
	NotManager string
	Nodes      []Node
	Services   []Service
	Tasks      []Task
	Networks   []Network
	// Containers on this engine's node only (for task health); nil when not available.
	Containers []Container
}
