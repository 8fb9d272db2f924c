package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

const healthcheckTimeout = 2 * time.Second

// runHealthcheck implements "quotes-service healthcheck [-port N]" and returns the exit code. The
// image is FROM scratch (no curl, no shell), so Docker's HEALTHCHECK runs the binary itself.
func runHealthcheck(args []string, getenv func(string) string, out io.Writer) int {
	port, err := envPort(getenv)
	if err != nil {
		fmt.Fprintln(out, "unhealthy:", err)
		return 1
	}
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&port, "port", port, "port of the local service (env PORT)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	return checkHealth("http://127.0.0.1:"+strconv.Itoa(port)+"/health", healthcheckTimeout, out)
}

// checkHealth GETs url: 0 on HTTP 200, else 1, with a one-line reason on out.
func checkHealth(url string, timeout time.Duration, out io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(out, "unhealthy:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(out, "unhealthy:", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(out, "unhealthy: %s returned %s\n", url, resp.Status)
		return 1
	}
	fmt.Fprintln(out, "healthy")
	return 0
}
