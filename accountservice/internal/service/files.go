package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
)

// greeting answers the trimmed text of the greeting file (a swarm config),
// read on every request so that a rotated config shows at once.
func (h *handlers) greeting(w http.ResponseWriter, _ *http.Request) {
	b, err := os.ReadFile(h.cfg.GreetingFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		writeError(w, http.StatusNotFound, fmt.Sprintf("greeting file %s not found", h.cfg.GreetingFile))
		return
	case err != nil:
		h.logf("read greeting file: %v", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("cannot read greeting file: %v", err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(strings.TrimSpace(string(b))))
}

type whoami struct {
	Service  string `json:"service"`
	Version  string `json:"version"`
	Host     string `json:"host"`
	Accounts int    `json:"accounts"`
}

// whoami is the admin endpoint: small facts about this replica, behind the
// bearer token of the admin token file (a swarm secret), read on every
// request. The token is never logged nor written to a response.
func (h *handlers) whoami(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !h.authorizeAdmin(w, r) {
		return
	}
	n, err := h.store.Count()
	if err != nil {
		h.logf("count accounts: %v", err)
		writeError(w, http.StatusServiceUnavailable, "account store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, whoami{
		Service:  serviceName,
		Version:  h.cfg.Version,
		Host:     h.cfg.Hostname,
		Accounts: n,
	})
}

// authorizeAdmin checks the request's bearer token against the admin token
// file. It writes the error response and returns false when the request may
// not pass: 503 without a usable token file, 401 without the right token.
func (h *handlers) authorizeAdmin(w http.ResponseWriter, r *http.Request) bool {
	path := h.cfg.AdminTokenFile
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		writeError(w, http.StatusServiceUnavailable, "admin endpoint disabled: no token at "+path)
		return false
	case err != nil:
		// The error names the path and the cause, never the content.
		h.logf("read admin token file: %v", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("cannot read admin token file: %v", err))
		return false
	}
	want := strings.TrimRight(string(b), "\r\n")
	if want == "" {
		writeError(w, http.StatusServiceUnavailable, "admin endpoint disabled: empty token at "+path)
		return false
	}
	got, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+serviceName+`"`)
		writeError(w, http.StatusUnauthorized, "missing bearer token")
		return false
	}
	if !tokensEqual(got, want) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+serviceName+`", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid token")
		return false
	}
	return true
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header
// value; the scheme is case-insensitive (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// tokensEqual compares in constant time. Hashing first makes the time
// independent of the lengths too.
func tokensEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
