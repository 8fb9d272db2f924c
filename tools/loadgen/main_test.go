package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestSummarizeOutageWindow(t *testing.T) {
	ms10 := 10 * time.Millisecond
	rs := []result{
		{due: 0, ok: true, latency: ms10},
		{due: 10 * time.Millisecond, errKind: "connection refused"},
		{due: 20 * time.Millisecond, errKind: "connection refused"},
		{due: 30 * time.Millisecond, ok: true, latency: ms10},
		{due: 40 * time.Millisecond, errKind: "HTTP 503"},
		{due: 50 * time.Millisecond, ok: true, latency: 3 * ms10},
	}
	rep := summarize(rs, "u", 100)
	if rep.Sent != 6 || rep.OK != 3 || rep.Failed != 3 {
		t.Fatalf("counts: %+v", rep)
	}
	if rep.LongestOutageMs != 20 {
		t.Fatalf("longest outage = %v, want 20", rep.LongestOutageMs)
	}
	if rep.Errors["connection refused"] != 2 || rep.Errors["HTTP 503"] != 1 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	if rep.LatencyMaxMs != 30 {
		t.Fatalf("max latency %v", rep.LatencyMaxMs)
	}
}

func TestRunCountsFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write([]byte("v1"))
	}))
	defer srv.Close()
	rs := run(context.Background(), &http.Client{Timeout: time.Second}, srv.URL, 200, 200*time.Millisecond, true, "")
	rep := summarize(rs, srv.URL, 200)
	if rep.Sent != 40 || rep.OK+rep.Failed != 40 || rep.Failed != 20 {
		t.Fatalf("unexpected %+v", rep)
	}
	if rep.Bodies["v1"] != 20 {
		t.Fatalf("bodies %v", rep.Bodies)
	}
}
