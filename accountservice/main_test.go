package main

import (
	"bufio"
	"context"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr bool
	}{
		{"defaults", nil, nil, config{port: 6767, dbPath: "accounts.db"}, false},
		{"env", nil, map[string]string{"PORT": "7000", "ACCOUNTS_DB": "/data/accounts.db"}, config{port: 7000, dbPath: "/data/accounts.db"}, false},
		{"flags", []string{"-port", "6799", "-db", "/tmp/a.db"}, nil, config{port: 6799, dbPath: "/tmp/a.db"}, false},
		{"flags win over env", []string{"-port=6799", "-db=/tmp/a.db"}, map[string]string{"PORT": "7000", "ACCOUNTS_DB": "/data/accounts.db"}, config{port: 6799, dbPath: "/tmp/a.db"}, false},
		{"bad env port", nil, map[string]string{"PORT": "http"}, config{}, true},
		{"port out of range", []string{"-port", "70000"}, nil, config{}, true},
		{"unknown flag", []string{"-verbose"}, nil, config{}, true},
		{"stray argument", []string{"serve"}, nil, config{}, true},
		{"empty db", []string{"-db", ""}, nil, config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, envMap(tt.env), io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRun starts the whole service on an ephemeral port, queries it, and
// stops it the way a SIGTERM would.
func TestRun(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "accounts.db")
	pr, pw := io.Pipe()
	logger := log.New(pw, "", 0)

	for round := 1; round <= 2; round++ { // the second round re-seeds the same file
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, config{port: 0, dbPath: dbPath}, logger) }()

		lines := bufio.NewScanner(pr)
		var port string
		var seen []string
		for port == "" && lines.Scan() {
			line := lines.Text()
			seen = append(seen, line)
			if p, ok := strings.CutPrefix(line, "Starting HTTP service at "); ok {
				port = p
			}
		}
		if port == "" {
			cancel()
			t.Fatalf("round %d: no listening line; log: %q", round, seen)
		}
		if !strings.HasPrefix(seen[0], "Starting accountservice") || seen[1] != "Seeded 100 fake accounts..." {
			t.Errorf("round %d: unexpected startup log %q", round, seen)
		}
		// Keep draining the log so run never blocks on it.
		go func() { _, _ = io.Copy(io.Discard, pr) }()

		resp, err := http.Get("http://127.0.0.1:" + port + "/accounts/10000")
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `{"id":"10000","name":"Person_0"}` {
			t.Errorf("round %d: GET /accounts/10000 = %d %s", round, resp.StatusCode, body)
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: run = %v", round, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: run did not stop", round)
		}
		if round == 1 {
			pw.Close()
			pr, pw = io.Pipe()
			logger.SetOutput(pw)
		}
	}
}
