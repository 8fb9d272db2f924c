// Command quotes-service serves random quotes over HTTP: the tutorial's second service, deployed
// beside accountservice on the my_network overlay, reachable only by its service name. Scaffolded
// by nx g nx-swarm:go-service.
//
// Usage:
//
//	quotes-service [-port 8080]
//	quotes-service healthcheck [-port 8080]
//
// It serves GET /api/quote?strength=N (a random quote, with the host that served it), GET / (who
// am I) and GET /health, and on SIGTERM (docker service update/rm) stops
// accepting connections and lets in-flight requests finish before it exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/nx-swarm/libs/go/common/health"
	"github.com/nx-swarm/libs/go/common/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const (
	serviceName = "quotes-service"
	defaultPort = 8080
	// shutdownTimeout stays under swarm's default 10 s stop grace period.
	shutdownTimeout = 8 * time.Second
)

func main() {
	health.Dispatch(serviceName, defaultPort)

	port, err := parsePort(os.Args[1:], os.Getenv, os.Stderr)
	server.ExitOnConfigError(serviceName, err)

	logger := log.New(os.Stdout, "", log.LstdFlags)
	ctx, stop := server.SignalContext()
	defer stop()

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		logger.Printf("%s: %v", serviceName, err)
		os.Exit(1)
	}
	logger.Printf("Starting %s (version %s) on port %d", serviceName, version, ln.Addr().(*net.TCPAddr).Port)

	host := hostname()
	in := instance{host: host, ipAddress: ipAddress(host, net.InterfaceAddrs), version: version, pick: rand.IntN}
	if err := serve(ctx, ln, newHandler(in), logger); err != nil {
		logger.Printf("%s: %v", serviceName, err)
		os.Exit(1)
	}
	logger.Printf("Stopped %s", serviceName)
}

// parsePort reads -port from args, with PORT from getenv as the default. The flag wins.
func parsePort(args []string, getenv func(string) string, errOut io.Writer) (int, error) {
	port, err := server.EnvPort(getenv, defaultPort)
	if err != nil {
		return 0, err
	}
	fs := flag.NewFlagSet(serviceName, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.IntVar(&port, "port", port, "HTTP port to listen on (env PORT)")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if port < 0 || port > 65535 {
		return 0, fmt.Errorf("invalid port %d", port)
	}
	return port, nil
}

// serve answers HTTP on ln until ctx is cancelled, then shuts down gracefully (libs/go/common/server):
// no new connections, in-flight requests get up to shutdownTimeout to finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *log.Logger) error {
	return server.Serve(ctx, server.New(h, logger), ln, shutdownTimeout, logger)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
