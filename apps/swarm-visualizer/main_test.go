package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	// ":port" (how the container listens) is checked on 127.0.0.1.
	if code := healthcheck([]string{"-listen", ":" + port}); code != 0 {
		t.Errorf("healthy server: exit %d", code)
	}
	status = http.StatusServiceUnavailable
	if code := healthcheck([]string{"-listen", "127.0.0.1:" + port}); code != 1 {
		t.Errorf("unhealthy server: exit %d", code)
	}
	srv.Close()
	if code := healthcheck([]string{"-listen", ":" + port}); code != 1 {
		t.Errorf("no server: exit %d", code)
	}
	if code := healthcheck([]string{"-listen", "nonsense"}); code != 1 {
		t.Errorf("bad address: exit %d", code)
	}
}
