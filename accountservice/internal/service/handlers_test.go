package service

import (
	"bytes"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nx-swarm/accountservice/internal/dbclient"
)

func seededStore(t *testing.T) *dbclient.BoltClient {
	t.Helper()
	c, err := dbclient.Open(filepath.Join(t.TempDir(), "accounts.db"), time.Second)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Seed(100); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return c
}

func TestRouter(t *testing.T) {
	router := NewRouter(seededStore(t), Config{}, nil)

	tests := []struct {
		name      string
		method    string
		target    string
		wantCode  int
		wantBody  string
		wantAllow string
	}{
		{"first account", http.MethodGet, "/accounts/10000", 200, `{"id":"10000","name":"Person_0"}`, ""},
		{"last account", http.MethodGet, "/accounts/10099", 200, `{"id":"10099","name":"Person_99"}`, ""},
		{"unknown id", http.MethodGet, "/accounts/12345", 404, `{"error":"account 12345 not found"}`, ""},
		{"twenty digits", http.MethodGet, "/accounts/12345678901234567890", 404, `{"error":"account 12345678901234567890 not found"}`, ""},
		{"letters", http.MethodGet, "/accounts/abc", 400, `{"error":"invalid account id: must be 1 to 20 digits"}`, ""},
		{"negative", http.MethodGet, "/accounts/-1", 400, `{"error":"invalid account id: must be 1 to 20 digits"}`, ""},
		{"too long", http.MethodGet, "/accounts/123456789012345678901", 400, `{"error":"invalid account id: must be 1 to 20 digits"}`, ""},
		{"escaped slash", http.MethodGet, "/accounts/1%2F2", 400, `{"error":"invalid account id: must be 1 to 20 digits"}`, ""},
		{"post account", http.MethodPost, "/accounts/10000", 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"delete account", http.MethodDelete, "/accounts/10000", 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"post health", http.MethodPost, "/health", 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"post greeting", http.MethodPost, "/greeting", 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"put whoami", http.MethodPut, "/admin/whoami", 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"other admin path", http.MethodGet, "/admin/", 404, `{"error":"not found"}`, ""},
		{"health", http.MethodGet, "/health", 200, `{"status":"UP"}`, ""},
		{"root", http.MethodGet, "/", 404, `{"error":"not found"}`, ""},
		{"accounts collection", http.MethodGet, "/accounts/", 404, `{"error":"not found"}`, ""},
		{"nested path", http.MethodGet, "/accounts/10000/extra", 404, `{"error":"not found"}`, ""},
		{"unknown path", http.MethodPost, "/nope", 404, `{"error":"not found"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))

			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestHealthDownAfterClose(t *testing.T) {
	store := seededStore(t)
	router := NewRouter(store, Config{}, nil)

	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}

	if rec := get("/health"); rec.Code != http.StatusOK || rec.Body.String() != `{"status":"UP"}` {
		t.Fatalf("before close: %d %s", rec.Code, rec.Body)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if rec := get("/health"); rec.Code != http.StatusServiceUnavailable || rec.Body.String() != `{"status":"DOWN"}` {
		t.Fatalf("after close: %d %s, want 503 {\"status\":\"DOWN\"}", rec.Code, rec.Body)
	}
	if rec := get("/accounts/10000"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("account after close: %d %s, want 503", rec.Code, rec.Body)
	}
	rec := httptest.NewRecorder()
	tokenFile := writeFile(t, "admin_token", "s3cret\n")
	req := httptest.NewRequest(http.MethodGet, "/admin/whoami", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	NewRouter(store, Config{AdminTokenFile: tokenFile}, nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != `{"error":"account store unavailable"}` {
		t.Fatalf("whoami after close: %d %s, want 503 account store unavailable", rec.Code, rec.Body)
	}
}

// writeFile writes content to a new file in a temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileSetup makes the file a case needs in dir: absent, a directory, or a
// regular file with the given content.
type fileSetup struct {
	absent bool
	isDir  bool
	body   string
}

func (f fileSetup) make(t *testing.T, path string) {
	t.Helper()
	switch {
	case f.absent:
	case f.isDir:
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
	default:
		if err := os.WriteFile(path, []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGreeting(t *testing.T) {
	store := seededStore(t)
	tests := []struct {
		name     string
		file     fileSetup
		method   string
		wantCode int
		wantBody string // <path> stands for the greeting file's path
		wantType string
	}{
		{"text with newline", fileSetup{body: "Hello from the swarm config\n"}, http.MethodGet, 200, "Hello from the swarm config", "text/plain; charset=utf-8"},
		{"surrounding space trimmed", fileSetup{body: " \n\t hi there \r\n\n"}, http.MethodGet, 200, "hi there", "text/plain; charset=utf-8"},
		{"inner lines kept", fileSetup{body: "line 1\nline 2\n"}, http.MethodGet, 200, "line 1\nline 2", "text/plain; charset=utf-8"},
		{"empty file", fileSetup{body: ""}, http.MethodGet, 200, "", "text/plain; charset=utf-8"},
		{"missing file", fileSetup{absent: true}, http.MethodGet, 404, `{"error":"greeting file <path> not found"}`, "application/json"},
		{"directory", fileSetup{isDir: true}, http.MethodGet, 500, `{"error":"cannot read greeting file: read <path>: is a directory"}`, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "greeting.txt")
			tt.file.make(t, path)
			router := NewRouter(store, Config{GreetingFile: path}, nil)

			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, httptest.NewRequest(tt.method, "/greeting", nil))

			want := strings.ReplaceAll(tt.wantBody, "<path>", path)
			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Body.String(); got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantType)
			}
		})
	}
}

// TestGreetingRotates checks that the file is read on each request, as a
// swarm config rotation needs: new content, then no file, then back.
func TestGreetingRotates(t *testing.T) {
	path := writeFile(t, "greeting.txt", "hello v1\n")
	router := NewRouter(seededStore(t), Config{GreetingFile: path}, nil)
	steps := []struct {
		write    *string
		remove   bool
		wantCode int
		wantBody string
	}{
		{nil, false, 200, "hello v1"},
		{ptr("hello v2\n"), false, 200, "hello v2"},
		{nil, true, 404, `{"error":"greeting file ` + path + ` not found"}`},
		{ptr("hello v3"), false, 200, "hello v3"},
	}
	for i, st := range steps {
		if st.write != nil {
			if err := os.WriteFile(path, []byte(*st.write), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if st.remove {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/greeting", nil))
		if rec.Code != st.wantCode || rec.Body.String() != st.wantBody {
			t.Errorf("step %d: %d %q, want %d %q", i, rec.Code, rec.Body, st.wantCode, st.wantBody)
		}
	}
}

func ptr(s string) *string { return &s }

func TestAdminWhoami(t *testing.T) {
	store := seededStore(t)
	const (
		token   = "s3cret-T0ken"
		okBody  = `{"service":"accountservice","version":"1.2.3","host":"task-host","accounts":100}`
		realm   = `Bearer realm="accountservice"`
		invalid = `Bearer realm="accountservice", error="invalid_token"`
	)
	tests := []struct {
		name     string
		file     fileSetup
		auth     string // Authorization header; empty means none
		wantCode int
		wantBody string // <path> stands for the token file's path
		wantWWW  string
	}{
		{"right token", fileSetup{body: token + "\n"}, "Bearer " + token, 200, okBody, ""},
		{"file without newline", fileSetup{body: token}, "Bearer " + token, 200, okBody, ""},
		{"file with CRLF", fileSetup{body: token + "\r\n"}, "Bearer " + token, 200, okBody, ""},
		{"scheme is case-insensitive", fileSetup{body: token + "\n"}, "bearer " + token, 200, okBody, ""},
		{"no token file", fileSetup{absent: true}, "", 503, `{"error":"admin endpoint disabled: no token at <path>"}`, ""},
		{"no token file, with a token", fileSetup{absent: true}, "Bearer " + token, 503, `{"error":"admin endpoint disabled: no token at <path>"}`, ""},
		{"empty token file", fileSetup{body: ""}, "Bearer ", 503, `{"error":"admin endpoint disabled: empty token at <path>"}`, ""},
		{"newline-only token file", fileSetup{body: "\n"}, "Bearer x", 503, `{"error":"admin endpoint disabled: empty token at <path>"}`, ""},
		{"token path is a directory", fileSetup{isDir: true}, "Bearer " + token, 500, `{"error":"cannot read admin token file: read <path>: is a directory"}`, ""},
		{"no Authorization", fileSetup{body: token + "\n"}, "", 401, `{"error":"missing bearer token"}`, realm},
		{"basic auth", fileSetup{body: token + "\n"}, "Basic " + token, 401, `{"error":"missing bearer token"}`, realm},
		{"bearer without token", fileSetup{body: token + "\n"}, "Bearer", 401, `{"error":"missing bearer token"}`, realm},
		{"bearer with blank token", fileSetup{body: token + "\n"}, "Bearer   ", 401, `{"error":"missing bearer token"}`, realm},
		{"raw token without scheme", fileSetup{body: token + "\n"}, token, 401, `{"error":"missing bearer token"}`, realm},
		{"wrong token", fileSetup{body: token + "\n"}, "Bearer nope", 401, `{"error":"invalid token"}`, invalid},
		{"prefix of the token", fileSetup{body: token + "\n"}, "Bearer " + token[:5], 401, `{"error":"invalid token"}`, invalid},
		{"token plus suffix", fileSetup{body: token + "\n"}, "Bearer " + token + "x", 401, `{"error":"invalid token"}`, invalid},
		{"other case", fileSetup{body: token + "\n"}, "Bearer " + strings.ToUpper(token), 401, `{"error":"invalid token"}`, invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "admin_token")
			tt.file.make(t, path)
			var logs bytes.Buffer
			router := NewRouter(store, Config{AdminTokenFile: path, Version: "1.2.3", Hostname: "task-host"}, log.New(&logs, "", 0))

			req := httptest.NewRequest(http.MethodGet, "/admin/whoami", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, req)

			want := strings.ReplaceAll(tt.wantBody, "<path>", path)
			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Body.String(); got != want {
				t.Errorf("body = %s, want %s", got, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantWWW {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantWWW)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			for where, text := range map[string]string{"body": rec.Body.String(), "log": logs.String(), "headers": headerText(rec.Header())} {
				if strings.Contains(text, token[:5]) {
					t.Errorf("the token shows in the %s: %q", where, text)
				}
			}
		})
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

// TestAdminTokenRotates checks that the token file is read on each request,
// as a swarm secret rotation needs: the old token stops working at once.
func TestAdminTokenRotates(t *testing.T) {
	path := writeFile(t, "admin_token", "old-token\n")
	router := NewRouter(seededStore(t), Config{AdminTokenFile: path}, nil)
	call := func(token string) int {
		req := httptest.NewRequest(http.MethodGet, "/admin/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := call("old-token"); got != 200 {
		t.Fatalf("old token before rotation: %d, want 200", got)
	}
	if err := os.WriteFile(path, []byte("new-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := call("old-token"); got != 401 {
		t.Errorf("old token after rotation: %d, want 401", got)
	}
	if got := call("new-token"); got != 200 {
		t.Errorf("new token after rotation: %d, want 200", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if got := call("new-token"); got != 503 {
		t.Errorf("after the secret is removed: %d, want 503", got)
	}
}
