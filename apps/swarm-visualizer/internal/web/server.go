package web

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"time"
)

// Server is the HTTP side: GET only.
type Server struct {
	hub    *Hub
	assets fs.FS
	// Heartbeat is the interval of SSE keep-alive comments (default 15 s).
	Heartbeat time.Duration
	// AssetsMissing is set when the page bundle (app.js) is not in assets.
	AssetsMissing bool
}

// NewServer serves the page from assets (index.html, style.css, dist/app.js).
func NewServer(hub *Hub, assets fs.FS) *Server {
	s := &Server{hub: hub, assets: assets, Heartbeat: 15 * time.Second}
	if _, err := fs.Stat(assets, "dist/app.js"); err != nil {
		s.AssetsMissing = true
	}
	return s
}

// Handler returns the routes. Only GET (and HEAD) exist: any other method gets 405.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.file("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /app.js", s.file("dist/app.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /style.css", s.file("style.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /api/snapshot", s.snapshot)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("GET /health", s.health)
	return secure(mux)
}

func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) file(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(s.assets, name)
		if err != nil {
			msg := name + " is not in this binary"
			if name == "dist/app.js" {
				msg = "the page bundle (web/dist/app.js) was not built into this binary: run `nx run swarm-visualizer:bundle` (or `nx run swarm-visualizer:build`) before go build"
			}
			http.Error(w, msg, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if !s.hub.WaitReady(ctx) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no poll of the engine yet"})
		return
	}
	snap, _ := s.hub.Snapshot()
	writeJSON(w, http.StatusOK, snap)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	h := s.hub.Health(time.Now())
	status := http.StatusOK
	if !h.OK {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

// events streams "snapshot" (first) and "patch" events as Server-Sent Events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	s.hub.WaitReady(ctx) // best effort: a subscriber before the first poll gets it as an event
	cancel()

	first, events, unsubscribe, err := s.hub.Subscribe()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer unsubscribe()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// retry: how soon the browser reconnects after the stream ends.
	if _, err := w.Write(append([]byte("retry: 1000\n\n"), first...)); err != nil {
		return
	}
	flusher.Flush()

	beat := time.NewTicker(s.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, open := <-events:
			if !open {
				return // dropped as too slow; the browser reconnects
			}
			if _, err := w.Write(ev); err != nil {
				return
			}
			flusher.Flush()
		case <-beat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
