package main

import (
	"encoding/json"
	"net/http"
)

// about is what GET / answers: which service, which build, which container (the hostname of a
// swarm task is its container id, so repeated calls show the load spreading over the replicas).
type about struct {
	Service string `json:"service"`
	Version string `json:"version"`
	Host    string `json:"host"`
}

// quoteResponse is GET /api/quote's body: the tutorial's quote, ipAddress and language, plus the
// author, the serving host and the strength that was applied.
type quoteResponse struct {
	Quote     string `json:"quote"`
	Author    string `json:"author"`
	Language  string `json:"language"`
	IPAddress string `json:"ipAddress"`
	Host      string `json:"host"`
	Strength  int    `json:"strength"`
}

// instance identifies the serving task.
type instance struct {
	host, ipAddress, version string
	// pick returns a random index in [0, n).
	pick func(n int) int
}

// newHandler routes the service's endpoints. Every response is JSON.
func newHandler(in instance) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "UP"})
	})
	mux.HandleFunc("GET /api/quote", func(w http.ResponseWriter, r *http.Request) {
		strength, err := parseStrength(r.URL.Query().Get("strength"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		burn(strength)
		q := quotes[in.pick(len(quotes))]
		writeJSON(w, http.StatusOK, quoteResponse{
			Quote:     q.Text,
			Author:    q.Author,
			Language:  "en",
			IPAddress: in.ipAddress,
			Host:      in.host,
			Strength:  strength,
		})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, about{Service: serviceName, Version: in.version, Host: in.host})
	})
	// Any other GET is a JSON 404; other methods get the mux's 405 with an Allow header.
	mux.HandleFunc("GET /", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
