package service

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/nx-swarm/libs/go/common/server"
)

// Generous bound for things that should happen "at once"; the tests never
// wait for it unless something is broken.
const patience = 5 * time.Second

// slowHandler blocks requests carrying ?slow until release is closed.
func slowHandler(next http.Handler, started chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("slow") {
			started <- struct{}{}
			<-release
		}
		next.ServeHTTP(w, r)
	})
}

type result struct {
	code int
	body string
	err  error
}

func get(client *http.Client, url string) result {
	resp, err := client.Get(url)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{code: resp.StatusCode, body: string(b), err: err}
}

func TestServeGracefulShutdown(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	var released bool
	defer func() {
		if !released {
			close(release)
		}
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := server.New(slowHandler(NewRouter(seededStore(t), Config{}, nil), started, release), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, srv, ln, patience, nil) }()

	client := &http.Client{Timeout: 2 * patience}
	if r := get(client, "http://"+addr+"/health"); r.err != nil || r.code != http.StatusOK {
		t.Fatalf("health before shutdown: %+v", r)
	}

	inflight := make(chan result, 1)
	go func() { inflight <- get(client, "http://"+addr+"/accounts/10000?slow") }()
	select {
	case <-started:
	case <-time.After(patience):
		t.Fatal("slow request never reached the handler")
	}

	cancel() // what SIGTERM does in main

	// The listener must close promptly: new connections are refused.
	deadline := time.Now().Add(patience)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Still draining: Serve must not return while a request is in flight.
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	case r := <-inflight:
		t.Fatalf("in-flight request finished before release: %+v", r)
	default:
	}

	close(release)
	released = true

	select {
	case r := <-inflight:
		if r.err != nil || r.code != http.StatusOK || r.body != `{"id":"10000","name":"Person_0"}` {
			t.Fatalf("in-flight request = %+v, want 200 Person_0", r)
		}
	case <-time.After(patience):
		t.Fatal("in-flight request did not complete")
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	case <-time.After(patience):
		t.Fatal("Serve did not return after the in-flight request finished")
	}

	if r := get(&http.Client{Timeout: time.Second}, "http://"+addr+"/health"); r.err == nil {
		t.Fatalf("request after shutdown succeeded: %+v", r)
	}
}

func TestServeShutdownDeadline(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(slowHandler(NewRouter(seededStore(t), Config{}, nil), started, release), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, srv, ln, 50*time.Millisecond, nil) }()

	go get(&http.Client{Timeout: patience}, "http://"+ln.Addr().String()+"/health?slow")
	select {
	case <-started:
	case <-time.After(patience):
		t.Fatal("slow request never reached the handler")
	}
	cancel()

	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(patience):
		t.Fatal("Serve did not give up after its shutdown deadline")
	}
}

func TestServeListenerError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails immediately on a closed listener.
	err = server.Serve(context.Background(), server.New(http.NotFoundHandler(), nil), ln, time.Second, nil)
	if err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}
