// Package service holds the HTTP API of accountservice.
package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/nx-swarm/accountservice/internal/dbclient"
)

// AccountStore is what the handlers need from the database.
type AccountStore interface {
	QueryAccount(id string) (dbclient.Account, error)
	Count() (int, error)
	IsOpen() bool
}

// Config is what the handlers need besides the store.
type Config struct {
	// GreetingFile is the text GET /greeting answers (a swarm config).
	GreetingFile string
	// AdminTokenFile holds the bearer token of the admin endpoints (a swarm
	// secret). Without the file the admin endpoints answer 503.
	AdminTokenFile string
	// Version and Hostname are shown by GET /admin/whoami.
	Version  string
	Hostname string
}

const (
	serviceName = "accountservice"
	maxIDLen    = 20
)

// NewRouter returns the service's routes. Unknown paths get a JSON 404 and
// known paths called with the wrong method a JSON 405 with an Allow header.
func NewRouter(store AccountStore, cfg Config, logger *log.Logger) http.Handler {
	h := &handlers{store: store, cfg: cfg, log: logger}
	mux := http.NewServeMux()
	// "GET" patterns also match HEAD.
	mux.HandleFunc("GET /accounts/{accountId}", h.getAccount)
	mux.HandleFunc("/accounts/{accountId}", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET /health", h.health)
	mux.HandleFunc("/health", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET /greeting", h.greeting)
	mux.HandleFunc("/greeting", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET /admin/whoami", h.whoami)
	mux.HandleFunc("/admin/whoami", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/", notFound)
	return mux
}

type handlers struct {
	store AccountStore
	cfg   Config
	log   *log.Logger
}

func (h *handlers) logf(format string, args ...any) {
	if h.log != nil {
		h.log.Printf(format, args...)
	}
}

func (h *handlers) getAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("accountId")
	if !validID(id) {
		writeError(w, http.StatusBadRequest, "invalid account id: must be 1 to 20 digits")
		return
	}
	acc, err := h.store.QueryAccount(id)
	switch {
	case errors.Is(err, dbclient.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("account %s not found", id))
	case err != nil:
		h.logf("query account %s: %v", id, err)
		writeError(w, http.StatusServiceUnavailable, "account store unavailable")
	default:
		writeJSON(w, http.StatusOK, acc)
	}
}

type healthStatus struct {
	Status string `json:"status"`
}

func (h *handlers) health(w http.ResponseWriter, _ *http.Request) {
	if h.store.IsOpen() {
		writeJSON(w, http.StatusOK, healthStatus{Status: "UP"})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, healthStatus{Status: "DOWN"})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "not found")
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

// validID reports whether id matches ^[0-9]{1,20}$.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// writeJSON writes v as a compact JSON body (no trailing newline).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
