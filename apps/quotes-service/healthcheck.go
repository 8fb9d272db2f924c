package main

import (
	"fmt"
	"io"

	"github.com/nx-swarm/libs/go/common/health"
	"github.com/nx-swarm/libs/go/common/server"
)

// runHealthcheck implements "quotes-service healthcheck [-port N]" and returns the process exit code.
// The image is FROM scratch (no curl, no shell), so Docker's HEALTHCHECK runs the binary itself;
// the check is the workspace's shared one (libs/go/common/health).
func runHealthcheck(args []string, getenv func(string) string, out io.Writer) int {
	port, err := envPort(getenv)
	if err != nil {
		fmt.Fprintln(out, "unhealthy:", err)
		return 1
	}
	return health.Run("quotes-service", args, port, out)
}

// envPort is PORT from the environment, or the service's default port.
func envPort(getenv func(string) string) (int, error) {
	return server.EnvPort(getenv, defaultPort)
}
