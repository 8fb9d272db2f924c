// Package health is the `healthcheck` mode of a FROM scratch service image: the image has no curl
// or wget for Docker's HEALTHCHECK, so the service binary checks itself.
package health

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Timeout bounds one check; it stays under the images' HEALTHCHECK --timeout.
const Timeout = 2 * time.Second

// Run implements "SERVICE healthcheck [-port N]": GET http://127.0.0.1:PORT/health, with port as
// the default of -port. It returns the process exit code (0 healthy, 1 not) and prints one line.
func Run(name string, args []string, port int, out io.Writer) int {
	fs := flag.NewFlagSet(name+" healthcheck", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&port, "port", port, "port of the local service (env PORT)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	return Check("http://127.0.0.1:"+strconv.Itoa(port)+"/health", Timeout, out)
}

// Check GETs url and returns 0 on HTTP 200, 1 otherwise, printing a one-line reason to out.
func Check(url string, timeout time.Duration, out io.Writer) int {
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
