package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nx-swarm/libs/go/common/health"
)

func TestHandler(t *testing.T) {
	h := newHandler(instance{host: "host-1", ipAddress: "host-1/10.0.0.5", version: "1.2.3", pick: func(int) int { return 2 }})
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, `{"service":"quotes-service","version":"1.2.3","host":"host-1"}`},
		{"GET", "/api/quote", 200, `{"quote":"Premature optimization is the root of all evil.","author":"Donald Knuth","language":"en","ipAddress":"host-1/10.0.0.5","host":"host-1","strength":0}`},
		{"GET", "/api/quote?strength=3", 200, `{"quote":"Premature optimization is the root of all evil.","author":"Donald Knuth","language":"en","ipAddress":"host-1/10.0.0.5","host":"host-1","strength":3}`},
		{"GET", "/api/quote?strength=11", 400, `{"error":"strength must be a whole number from 0 to 10"}`},
		{"GET", "/api/quote?strength=-1", 400, `{"error":"strength must be a whole number from 0 to 10"}`},
		{"GET", "/api/quote?strength=x", 400, `{"error":"strength must be a whole number from 0 to 10"}`},
		{"POST", "/api/quote", 405, ``},
		{"GET", "/health", 200, `{"status":"UP"}`},
		{"HEAD", "/health", 200, ``},
		{"GET", "/nope", 404, `{"error":"not found"}`},
		{"POST", "/health", 405, ``},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.body != "" {
				if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
					t.Fatalf("body %s, want %s", got, tt.body)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type %q", ct)
				}
			}
		})
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    int
		wantErr string
	}{
		{"default", nil, "", 8080, ""},
		{"env", nil, "9000", 9000, ""},
		{"flag wins over env", []string{"-port", "9100"}, "9000", 9100, ""},
		{"bad env", nil, "x", 0, `invalid PORT "x"`},
		{"out of range", []string{"-port", "70000"}, "", 0, "invalid port 70000"},
		{"extra argument", []string{"serve"}, "", 0, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "PORT" {
					return tt.env
				}
				return ""
			}
			got, err := parsePort(tt.args, getenv, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestCheckHealth(t *testing.T) {
	up := httptest.NewServer(newHandler(instance{host: "h", version: "v", pick: func(int) int { return 0 }}))
	defer up.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name, url string
		code      int
		out       string
	}{
		{"healthy", up.URL + "/health", 0, "healthy"},
		{"503", down.URL + "/health", 1, "503"},
		{"nothing listening", closed.URL + "/health", 1, "unhealthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := health.Check(tt.url, time.Second, &out); code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Fatalf("code %d, output %q; want %d, %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
}

// TestGracefulShutdown cancels the context (what SIGTERM does) while a request is in flight: the
// request still completes, new connections are refused, and serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		writeJSON(w, http.StatusOK, map[string]string{"done": "yes"})
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, mux, log.New(io.Discard, "", 0)) }()

	url := "http://" + ln.Addr().String()
	type result struct {
		status int
		body   map[string]string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		got <- result{status: resp.StatusCode, body: body, err: err}
	}()

	<-started
	cancel()
	// The listener closes promptly; the in-flight request is still waiting.
	deadline := time.Now().Add(2 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)

	r := <-got
	if r.err != nil || r.status != 200 || r.body["done"] != "yes" {
		t.Fatalf("in-flight request: %+v", r)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
}
