// Package server starts an HTTP service and drains it gracefully: what a swarm task needs between
// SIGTERM and the stop grace period.
package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// DefaultShutdownTimeout leaves headroom under Docker swarm's default 10 s stop grace period
// before SIGKILL.
const DefaultShutdownTimeout = 8 * time.Second

// EnvPort reads PORT from getenv, or returns def when it is unset.
func EnvPort(getenv func(string) string, def int) (int, error) {
	v := getenv("PORT")
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("invalid PORT %q", v)
	}
	return p, nil
}

// ExitOnConfigError ends the process when parsing the command line failed: exit 0 after -h, else
// the reason and exit 2. A nil error returns.
func ExitOnConfigError(name string, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(2)
}

// SignalContext is cancelled by the first SIGTERM (docker service update/rm) or SIGINT; after it,
// default handling is back, so a second signal kills.
func SignalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// New returns an http.Server for h with production timeouts. Taking the handler as a parameter
// lets tests wrap it.
func New(h http.Handler, logger *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          logger,
	}
}

// Serve serves srv on ln until ctx is cancelled, then shuts down gracefully: the listener is
// closed at once, idle connections are closed, and in-flight requests get up to shutdownTimeout
// to finish. It returns nil after a clean shutdown.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, shutdownTimeout time.Duration, logger *log.Logger) error {
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()

	select {
	case err := <-errCh:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	if logger != nil {
		logger.Printf("Shutting down HTTP service (waiting up to %s for in-flight requests)", shutdownTimeout)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		<-errCh
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errCh; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
