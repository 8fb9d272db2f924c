// swarm-visualizer shows a Docker Swarm live in the browser: nodes with their tasks, services with
// running/desired replicas and published ports. It reads the Engine API (GET only) over the
// Docker socket, polls, diffs, and pushes the changes to the page over Server-Sent Events.
//
//	swarm-visualizer [-listen :6969] [-interval 1s]   serve (DOCKER_HOST selects the engine)
//	swarm-visualizer healthcheck [-listen :6969]      exit 0 when the server is healthy (for HEALTHCHECK)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nx-swarm/apps/swarm-visualizer/internal/engine"
	"github.com/nx-swarm/apps/swarm-visualizer/internal/web"
	assets "github.com/nx-swarm/apps/swarm-visualizer/web"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "healthcheck" {
		os.Exit(healthcheck(args[1:]))
	}
	if err := serve(args); err != nil {
		log.Fatal(err)
	}
}

func serve(args []string) error {
	fl := flag.NewFlagSet("swarm-visualizer", flag.ExitOnError)
	listen := fl.String("listen", envOr("VIZ_LISTEN", ":6969"), "address to listen on (env VIZ_LISTEN)")
	interval := fl.Duration("interval", 1*time.Second, "poll interval while a browser is connected")
	idle := fl.Duration("idle-interval", 10*time.Second, "poll interval while nobody is watching")
	_ = fl.Parse(args)

	client, err := engine.New(os.Getenv("DOCKER_HOST"))
	if err != nil {
		return err
	}
	hub := web.NewHub(client, web.HubOptions{Interval: *interval, IdleInterval: *idle})
	srv := web.NewServer(hub, assets.Files)
	if srv.AssetsMissing {
		log.Printf("warning: this binary has no page bundle (web/dist/app.js); run `nx run swarm-visualizer:bundle` before go build")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go hub.Run(ctx)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler: srv.Handler(),
		// Requests end with the process: open event streams return at once on SIGTERM.
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: /api/events streams for as long as the browser stays.
	}
	log.Printf("swarm-visualizer on http://%s (engine %s)", ln.Addr(), client.Host())
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Open event streams never finish by themselves: close them rather than wait.
	if err := httpSrv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	_ = httpSrv.Close()
	return nil
}

// healthcheck asks this container's own server for /health. The image is FROM scratch: no curl or
// wget, so the binary checks itself.
func healthcheck(args []string) int {
	fl := flag.NewFlagSet("healthcheck", flag.ExitOnError)
	listen := fl.String("listen", envOr("VIZ_LISTEN", ":6969"), "address the server listens on")
	_ = fl.Parse(args)
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	res, err := c.Get("http://" + net.JoinHostPort(host, port) + "/health")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "healthcheck: %d %s\n", res.StatusCode, strings.TrimSpace(string(body)))
		return 1
	}
	return 0
}
