package main

import (
	"bufio"
	"context"
	"io"
	"log"
	"net/http"
	"os"
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
		{"defaults", nil, nil, config{port: 6767, dbPath: "accounts.db", greetingFile: "/config/greeting.txt", adminTokenFile: "/run/secrets/admin_token"}, false},
		{"env", nil, map[string]string{"PORT": "7000", "ACCOUNTS_DB": "/data/accounts.db", "GREETING_FILE": "/etc/greeting", "ADMIN_TOKEN_FILE": "/run/secrets/tok"}, config{port: 7000, dbPath: "/data/accounts.db", greetingFile: "/etc/greeting", adminTokenFile: "/run/secrets/tok"}, false},
		{"flags", []string{"-port", "6799", "-db", "/tmp/a.db", "-greeting-file", "/tmp/g.txt", "-admin-token-file", "/tmp/t"}, nil, config{port: 6799, dbPath: "/tmp/a.db", greetingFile: "/tmp/g.txt", adminTokenFile: "/tmp/t"}, false},
		{"flags win over env", []string{"-port=6799", "-db=/tmp/a.db", "-greeting-file=/tmp/g.txt", "-admin-token-file=/tmp/t"}, map[string]string{"PORT": "7000", "ACCOUNTS_DB": "/data/accounts.db", "GREETING_FILE": "/etc/greeting", "ADMIN_TOKEN_FILE": "/run/secrets/tok"}, config{port: 6799, dbPath: "/tmp/a.db", greetingFile: "/tmp/g.txt", adminTokenFile: "/tmp/t"}, false},
		{"env for the files only", nil, map[string]string{"GREETING_FILE": "/etc/greeting", "ADMIN_TOKEN_FILE": "/run/secrets/tok"}, config{port: 6767, dbPath: "accounts.db", greetingFile: "/etc/greeting", adminTokenFile: "/run/secrets/tok"}, false},
		{"bad env port", nil, map[string]string{"PORT": "http"}, config{}, true},
		{"port out of range", []string{"-port", "70000"}, nil, config{}, true},
		{"unknown flag", []string{"-verbose"}, nil, config{}, true},
		{"stray argument", []string{"serve"}, nil, config{}, true},
		{"empty db", []string{"-db", ""}, nil, config{}, true},
		{"empty greeting file", []string{"-greeting-file", ""}, nil, config{}, true},
		{"empty admin token file", []string{"-admin-token-file="}, nil, config{}, true},
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
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "accounts.db")
	cfg := config{port: 0, dbPath: dbPath, greetingFile: filepath.Join(dir, "greeting.txt"), adminTokenFile: filepath.Join(dir, "admin_token")}
	pr, pw := io.Pipe()
	logger := log.New(pw, "", 0)

	for round := 1; round <= 2; round++ { // the second round re-seeds the same file
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, cfg, logger) }()

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
		if !strings.HasPrefix(seen[0], "Starting accountservice") || seen[1] != "Seeded 100 fake accounts..." ||
			seen[2] != "Greeting from "+cfg.greetingFile+", admin token from "+cfg.adminTokenFile+" (both read per request)" {
			t.Errorf("round %d: unexpected startup log %q", round, seen)
		}
		// Keep draining the log so run never blocks on it.
		go func() { _, _ = io.Copy(io.Discard, pr) }()

		base := "http://127.0.0.1:" + port
		// Round 1 starts without the config and secret files, round 2 with
		// them (as a deploy that adds them would).
		type check struct {
			path, token string
			wantCode    int
			wantBody    string
		}
		checks := []check{
			{"/accounts/10000", "", 200, `{"id":"10000","name":"Person_0"}`},
			{"/greeting", "", 404, `{"error":"greeting file ` + cfg.greetingFile + ` not found"}`},
			{"/admin/whoami", "t0ken", 503, `{"error":"admin endpoint disabled: no token at ` + cfg.adminTokenFile + `"}`},
		}
		if round == 2 {
			checks = []check{
				{"/accounts/10000", "", 200, `{"id":"10000","name":"Person_0"}`},
				{"/greeting", "", 200, "hello v1"},
				{"/admin/whoami", "", 401, `{"error":"missing bearer token"}`},
				{"/admin/whoami", "t0ken", 200, `{"service":"accountservice","version":"dev","host":"` + hostname(t) + `","accounts":100}`},
			}
		}
		for _, c := range checks {
			if code, body := httpGet(t, base+c.path, c.token); code != c.wantCode || body != c.wantBody {
				t.Errorf("round %d: GET %s = %d %s, want %d %s", round, c.path, code, body, c.wantCode, c.wantBody)
			}
		}
		if round == 2 { // rotate both files under the running service
			writeTestFile(t, cfg.greetingFile, "hello v2\n")
			writeTestFile(t, cfg.adminTokenFile, "t0ken-2\n")
			if code, body := httpGet(t, base+"/greeting", ""); code != 200 || body != "hello v2" {
				t.Errorf("greeting after rotation = %d %s, want 200 hello v2", code, body)
			}
			if code, _ := httpGet(t, base+"/admin/whoami", "t0ken"); code != 401 {
				t.Errorf("old token after rotation = %d, want 401", code)
			}
			if code, _ := httpGet(t, base+"/admin/whoami", "t0ken-2"); code != 200 {
				t.Errorf("new token after rotation = %d, want 200", code)
			}
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
			writeTestFile(t, cfg.greetingFile, "hello v1\n")
			writeTestFile(t, cfg.adminTokenFile, "t0ken\n")
			pw.Close()
			pr, pw = io.Pipe()
			logger.SetOutput(pw)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func hostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// httpGet GETs url, with a bearer token unless token is empty, and returns
// the status and body.
func httpGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
