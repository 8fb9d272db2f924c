package health

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	statusServer := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(code)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/health"
	}
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(func() { close(release); hanging.Close() })

	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + refused.Addr().String() + "/health"
	refused.Close()

	tests := []struct {
		name string
		url  string
		want int
		out  string
	}{
		{"up", statusServer(http.StatusOK), 0, "healthy"},
		{"down", statusServer(http.StatusServiceUnavailable), 1, "503"},
		{"server error", statusServer(http.StatusInternalServerError), 1, "500"},
		{"connection refused", refusedURL, 1, "unhealthy"},
		{"timeout", hanging.URL + "/health", 1, "unhealthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if got := Check(tt.url, 200*time.Millisecond, &out); got != tt.want || !strings.Contains(out.String(), tt.out) {
				t.Fatalf("Check = %d, output %q; want %d, %q", got, out.String(), tt.want, tt.out)
			}
		})
	}
}

func TestRunPort(t *testing.T) {
	port := healthyPort(t)

	var out strings.Builder
	if got := Run("svc", nil, port, &out); got != 0 {
		t.Fatalf("default port: Run = %d (%q), want 0", got, out.String())
	}
	if got := Run("svc", []string{"-port", strconv.Itoa(port)}, 1, &out); got != 0 {
		t.Fatalf("-port wins over the default: Run = %d, want 0", got)
	}
	if got := Run("svc", []string{"-nope"}, port, &out); got != 1 {
		t.Fatalf("bad flag: Run = %d, want 1", got)
	}
}

func TestMainPort(t *testing.T) {
	port := strconv.Itoa(healthyPort(t))
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"flag", []string{"-port", port}, nil, 0},
		{"env", nil, map[string]string{"PORT": port}, 0},
		{"flag wins over env", []string{"-port", port}, map[string]string{"PORT": "1"}, 0},
		{"bad env", nil, map[string]string{"PORT": "x"}, 1},
		{"bad flag", []string{"-nope"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if got := Main("svc", tt.args, env(tt.env), 1, &out); got != tt.want {
				t.Fatalf("Main = %d (%q), want %d", got, out.String(), tt.want)
			}
		})
	}
}

// healthyPort serves 200 on /health (404 elsewhere) on a loopback port for the test's lifetime.
func healthyPort(t *testing.T) int {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}
