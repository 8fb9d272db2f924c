// Package health is the `healthcheck` mode of a FROM scratch service image: the image has no curl
// or wget for Docker's HEALTHCHECK, so the service binary checks itself.
package health

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/nx-swarm/libs/go/common/server"
)

// Timeout bounds one check; it stays under the images' HEALTHCHECK --timeout.
const Timeout = 2 * time.Second

// Dispatch runs the `healthcheck` mode and exits when the process was started as
// "NAME healthcheck [-port N]"; otherwise it returns. Call it first thing in main.
func Dispatch(name string, defaultPort int) {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(Main(name, os.Args[2:], os.Getenv, defaultPort, os.Stdout))
	}
}

// Main is a service's whole `healthcheck` mode: the port from PORT (defaultPort when unset), -port
// in args wins. It returns the exit code.
func Main(name string, args []string, getenv func(string) string, defaultPort int, out io.Writer) int {
	port, err := server.EnvPort(getenv, defaultPort)
	if err != nil {
		fmt.Fprintln(out, "unhealthy:", err)
		return 1
	}
	return Run(name, args, port, out)
}

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
