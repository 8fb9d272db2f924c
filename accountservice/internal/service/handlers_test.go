package service

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	router := NewRouter(seededStore(t), nil)

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
	router := NewRouter(store, nil)

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
}
