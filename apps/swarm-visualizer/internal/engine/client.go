// Package engine is a read-only client for the Docker Engine API, over a unix socket (or plain
// TCP for development), using only the standard library.
//
// Read-only by construction: every request goes through Client.get, which only ever issues
// GET requests; there is no code path that sends POST, PUT or DELETE.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultHost is used when DOCKER_HOST is empty.
const DefaultHost = "unix:///var/run/docker.sock"

// maxBody bounds what the client reads from one answer (a big swarm's /tasks is a few MB).
const maxBody = 64 << 20

// Client talks to one engine.
type Client struct {
	host string
	base string // scheme://authority used in request URLs
	http *http.Client

	mu      sync.Mutex
	version string // negotiated API version ("1.41"); empty until Negotiate succeeds
}

// APIError is a non-2xx answer from the engine.
type APIError struct {
	Path    string
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.Path, e.Status, e.Message)
}

// New returns a client for a DOCKER_HOST-style address: unix:///path/to/docker.sock,
// tcp://host:port or http://host:port (plain HTTP; TLS is not supported). Empty means DefaultHost.
func New(host string) (*Client, error) {
	if host == "" {
		host = DefaultHost
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("DOCKER_HOST %q: %w", host, err)
	}
	c := &Client{host: host}
	transport := &http.Transport{
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
	}
	switch u.Scheme {
	case "unix":
		socket := u.Path
		if socket == "" {
			return nil, fmt.Errorf("DOCKER_HOST %q: no socket path", host)
		}
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socket)
		}
		c.base = "http://docker"
	case "tcp", "http":
		if u.Host == "" {
			return nil, fmt.Errorf("DOCKER_HOST %q: no host:port", host)
		}
		c.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("DOCKER_HOST %q: unsupported scheme %q (use unix:// or tcp://; TLS is not supported)", host, u.Scheme)
	}
	c.http = &http.Client{Transport: transport, Timeout: 30 * time.Second}
	return c, nil
}

// Host is the address the client was made for.
func (c *Client) Host() string { return c.host }

// APIVersion is the negotiated API version, empty before the first successful Negotiate.
func (c *Client) APIVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// get is the only function that sends requests. path is unversioned ("/nodes"); when versioned
// is true the negotiated version is prefixed ("/v1.41/nodes").
func (c *Client) get(ctx context.Context, path string, query url.Values, versioned bool, out any) error {
	p := path
	if versioned {
		v := c.APIVersion()
		if v == "" {
			return errors.New("engine: API version not negotiated")
		}
		p = "/v" + v + path
	}
	target := c.base + p
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	body := io.LimitReader(res.Body, maxBody)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(body, 4096))
		msg := strings.TrimSpace(string(b))
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		return &APIError{Path: path, Status: res.StatusCode, Message: msg}
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("GET %s: decoding the answer: %w", path, err)
	}
	return nil
}

// Negotiate asks the engine for its API version (unversioned GET /version) and uses it for all
// further requests. The engine decides rather than a pinned version: engines 29.x refuse API
// versions below 1.44, while Debian's 20.10 speaks 1.41.
func (c *Client) Negotiate(ctx context.Context) (Version, error) {
	var v Version
	if err := c.get(ctx, "/version", nil, false, &v); err != nil {
		return v, err
	}
	if v.APIVersion == "" {
		return v, errors.New("GET /version: the engine did not report an ApiVersion")
	}
	c.mu.Lock()
	c.version = v.APIVersion
	c.mu.Unlock()
	return v, nil
}

// Info is GET /info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	err := c.get(ctx, "/info", nil, true, &out)
	return out, err
}

// Nodes is GET /nodes (managers only).
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var out []Node
	err := c.get(ctx, "/nodes", nil, true, &out)
	return out, err
}

// Services is GET /services?status=true (managers only). ServiceStatus is filled from API 1.41.
func (c *Client) Services(ctx context.Context) ([]Service, error) {
	var out []Service
	err := c.get(ctx, "/services", url.Values{"status": {"true"}}, true, &out)
	return out, err
}

// Tasks is GET /tasks (managers only): every task the swarm still remembers, including the
// task history kept per slot.
func (c *Client) Tasks(ctx context.Context) ([]Task, error) {
	var out []Task
	err := c.get(ctx, "/tasks", nil, true, &out)
	return out, err
}

// Networks is GET /networks, swarm-scoped networks only.
func (c *Client) Networks(ctx context.Context) ([]Network, error) {
	var out []Network
	err := c.get(ctx, "/networks", url.Values{"filters": {`{"scope":["swarm"]}`}}, true, &out)
	return out, err
}

// Containers is GET /containers/json limited to swarm task containers on this engine's node,
// for their health (the task API doesn't carry it). Only the task id label is kept.
func (c *Client) Containers(ctx context.Context) ([]Container, error) {
	var raw []struct {
		ID     string            `json:"Id"`
		State  string            `json:"State"`
		Status string            `json:"Status"`
		Labels map[string]string `json:"Labels"`
	}
	q := url.Values{"filters": {`{"label":["com.docker.swarm.task.id"]}`}}
	if err := c.get(ctx, "/containers/json", q, true, &raw); err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(raw))
	for _, r := range raw {
		out = append(out, Container{ID: r.ID, State: r.State, Status: r.Status, TaskID: r.Labels["com.docker.swarm.task.id"]})
	}
	return out, nil
}

// Fetch reads everything the visualizer shows. It negotiates the API version on first use (and
// again after a failure, in case the engine was replaced). Services are read before tasks so that
// every task's service is known.
func (c *Client) Fetch(ctx context.Context) (State, error) {
	st := State{At: time.Now()}
	var err error
	if c.APIVersion() == "" {
		if st.Version, err = c.Negotiate(ctx); err != nil {
			return st, err
		}
	} else {
		st.Version.APIVersion = c.APIVersion()
	}
	if st.Info, err = c.Info(ctx); err != nil {
		c.forgetVersion()
		return st, err
	}
	if st.Version.Version == "" {
		st.Version.Version = st.Info.ServerVersion
	}
	switch {
	case st.Info.Swarm.LocalNodeState != "active":
		st.NotManager = fmt.Sprintf("this engine is not part of an active swarm (state %q)", st.Info.Swarm.LocalNodeState)
		if st.Info.Swarm.Error != "" {
			st.NotManager += ": " + st.Info.Swarm.Error
		}
		return st, nil
	case !st.Info.Swarm.ControlAvailable:
		st.NotManager = "this engine's node is a swarm worker: only a manager node sees the whole swarm (deploy with the constraint node.role==manager)"
		return st, nil
	}
	st.Manager = true
	if st.Nodes, err = c.Nodes(ctx); err != nil {
		return st, err
	}
	if st.Services, err = c.Services(ctx); err != nil {
		return st, err
	}
	if st.Tasks, err = c.Tasks(ctx); err != nil {
		return st, err
	}
	if st.Networks, err = c.Networks(ctx); err != nil {
		return st, err
	}
	// Health is a nicety: a failure here must not blank the page.
	if cs, err := c.Containers(ctx); err == nil {
		st.Containers = cs
	}
	return st, nil
}

func (c *Client) forgetVersion() {
	c.mu.Lock()
	c.version = ""
	c.mu.Unlock()
}
