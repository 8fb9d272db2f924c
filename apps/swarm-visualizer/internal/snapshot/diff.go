package snapshot

import (
	"reflect"
	"sort"
)

// Delta is the change of one keyed collection: elements that are new or changed (whole
// elements, in the order of the new snapshot) and the ids of elements that are gone.
type Delta[T any] struct {
	Upsert []T      `json:"upsert,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

func (d Delta[T]) empty() bool { return len(d.Upsert) == 0 && len(d.Remove) == 0 }

// Patch turns the snapshot with Seq From into the one with Seq To. The page applies it to the
// snapshot it holds, or fetches a fresh snapshot when its Seq is not From.
type Patch struct {
	From     uint64         `json:"from"`
	To       uint64         `json:"to"`
	Time     string         `json:"time"`
	Swarm    *Swarm         `json:"swarm,omitempty"`
	Nodes    Delta[Node]    `json:"nodes"`
	Services Delta[Service] `json:"services"`
	Tasks    Delta[Task]    `json:"tasks"`
	Networks Delta[Network] `json:"networks"`
}

// Empty says whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.Swarm == nil && p.Nodes.empty() && p.Services.empty() && p.Tasks.empty() && p.Networks.empty()
}

func diffKeyed[T any](old, cur []T, id func(T) string) Delta[T] {
	var d Delta[T]
	before := make(map[string]T, len(old))
	for _, e := range old {
		before[id(e)] = e
	}
	seen := make(map[string]bool, len(cur))
	for _, e := range cur {
		k := id(e)
		seen[k] = true
		if prev, ok := before[k]; !ok || !reflect.DeepEqual(prev, e) {
			d.Upsert = append(d.Upsert, e)
		}
	}
	for _, e := range old {
		if k := id(e); !seen[k] {
			d.Remove = append(d.Remove, k)
		}
	}
	sort.Strings(d.Remove)
	return d
}

// Diff returns the patch from old to cur. Seq and Time are not content: a patch between two
// polls that saw the same swarm is Empty. From is old.Seq and To is old.Seq+1; the caller gives
// cur that Seq when it publishes a non-empty patch.
func Diff(old, cur Snapshot) Patch {
	p := Patch{From: old.Seq, To: old.Seq + 1, Time: cur.Time.Format("2006-01-02T15:04:05.000Z07:00")}
	if old.Swarm != cur.Swarm {
		sw := cur.Swarm
		p.Swarm = &sw
	}
	p.Nodes = diffKeyed(old.Nodes, cur.Nodes, func(n Node) string { return n.ID })
	p.Services = diffKeyed(old.Services, cur.Services, func(s Service) string { return s.ID })
	p.Tasks = diffKeyed(old.Tasks, cur.Tasks, func(t Task) string { return t.ID })
	p.Networks = diffKeyed(old.Networks, cur.Networks, func(n Network) string { return n.ID })
	return p
}

func applyKeyed[T any](old []T, d Delta[T], id func(T) string, less func(a, b T) bool) []T {
	if d.empty() {
		return old
	}
	removed := make(map[string]bool, len(d.Remove))
	for _, k := range d.Remove {
		removed[k] = true
	}
	upserts := make(map[string]T, len(d.Upsert))
	for _, e := range d.Upsert {
		upserts[id(e)] = e
	}
	var out []T
	for _, e := range old {
		k := id(e)
		if removed[k] {
			continue
		}
		if u, ok := upserts[k]; ok {
			e = u
			delete(upserts, k)
		}
		out = append(out, e)
	}
	for _, e := range d.Upsert {
		if _, ok := upserts[id(e)]; ok {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// Apply applies a patch to a snapshot, as the page does. Apply(old, Diff(old, cur)) has cur's
// content; Seq becomes p.To. The result shares no slices with old.
func Apply(old Snapshot, p Patch) Snapshot {
	s := old
	s.Seq = p.To
	if p.Swarm != nil {
		s.Swarm = *p.Swarm
	}
	s.Nodes = applyKeyed(clone(old.Nodes), p.Nodes, func(n Node) string { return n.ID }, nodeLess)
	s.Services = applyKeyed(clone(old.Services), p.Services, func(v Service) string { return v.ID }, serviceLess)
	s.Tasks = applyKeyed(clone(old.Tasks), p.Tasks, func(t Task) string { return t.ID }, taskLess)
	s.Networks = applyKeyed(clone(old.Networks), p.Networks, func(n Network) string { return n.ID }, networkLess)
	return s
}

func clone[T any](in []T) []T {
	if in == nil {
		return nil
	}
	return append([]T(nil), in...)
}
