// Command accountservice serves fake accounts from an embedded BoltDB over HTTP.
//
// Usage:
//
//	accountservice [-port 6767] [-db accounts.db]
//	               [-greeting-file /config/greeting.txt]
//	               [-admin-token-file /run/secrets/admin_token]
//	accountservice healthcheck [-port 6767]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nx-swarm/accountservice/internal/dbclient"
	"github.com/nx-swarm/accountservice/internal/service"
	"github.com/nx-swarm/libs/go/common/health"
	"github.com/nx-swarm/libs/go/common/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const (
	defaultPort           = 6767
	defaultDBPath         = "accounts.db"
	defaultGreetingFile   = "/config/greeting.txt"
	defaultAdminTokenFile = "/run/secrets/admin_token"
	seedCount             = 100
	dbOpenTimeout         = time.Second
)

type config struct {
	port           int
	dbPath         string
	greetingFile   string
	adminTokenFile string
}

func main() {
	health.Dispatch("accountservice", defaultPort)

	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	server.ExitOnConfigError("accountservice", err)

	logger := log.New(os.Stdout, "", log.LstdFlags)
	ctx, stop := server.SignalContext()
	defer stop()

	if err := run(ctx, cfg, logger); err != nil {
		logger.Printf("accountservice: %v", err)
		os.Exit(1)
	}
	logger.Println("Stopped accountservice")
}

// parseConfig reads flags from args, with PORT, ACCOUNTS_DB, GREETING_FILE
// and ADMIN_TOKEN_FILE from getenv as defaults. Flags win over the
// environment.
func parseConfig(args []string, getenv func(string) string, errOut io.Writer) (config, error) {
	port, err := server.EnvPort(getenv, defaultPort)
	if err != nil {
		return config{}, err
	}
	dbPath := envOr(getenv, "ACCOUNTS_DB", defaultDBPath)
	greetingFile := envOr(getenv, "GREETING_FILE", defaultGreetingFile)
	adminTokenFile := envOr(getenv, "ADMIN_TOKEN_FILE", defaultAdminTokenFile)

	fs := flag.NewFlagSet("accountservice", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.IntVar(&port, "port", port, "HTTP port to listen on (env PORT)")
	fs.StringVar(&dbPath, "db", dbPath, "path of the BoltDB file (env ACCOUNTS_DB)")
	fs.StringVar(&greetingFile, "greeting-file", greetingFile, "file whose text GET /greeting answers, read per request (env GREETING_FILE)")
	fs.StringVar(&adminTokenFile, "admin-token-file", adminTokenFile, "file holding the bearer token of /admin/*, read per request (env ADMIN_TOKEN_FILE)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if port < 0 || port > 65535 {
		return config{}, fmt.Errorf("invalid port %d", port)
	}
	if dbPath == "" {
		return config{}, errors.New("empty database path")
	}
	if greetingFile == "" {
		return config{}, errors.New("empty greeting file path")
	}
	if adminTokenFile == "" {
		return config{}, errors.New("empty admin token file path")
	}
	return config{port: port, dbPath: dbPath, greetingFile: greetingFile, adminTokenFile: adminTokenFile}, nil
}

// envOr returns the environment variable key, or def when it is unset or empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// run starts the service and blocks until ctx is cancelled and the service
// has shut down.
func run(ctx context.Context, cfg config, logger *log.Logger) error {
	logger.Printf("Starting accountservice (version %s)", version)

	db, err := dbclient.Open(cfg.dbPath, dbOpenTimeout)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Printf("close database: %v", err)
		}
	}()
	if err := db.Seed(seedCount); err != nil {
		return fmt.Errorf("seed accounts: %w", err)
	}
	logger.Printf("Seeded %d fake accounts...", seedCount)
	logger.Printf("Greeting from %s, admin token from %s (both read per request)", cfg.greetingFile, cfg.adminTokenFile)

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.port))
	if err != nil {
		return err
	}
	logger.Printf("Starting HTTP service at %d", ln.Addr().(*net.TCPAddr).Port)

	host, _ := os.Hostname()
	router := service.NewRouter(db, service.Config{
		GreetingFile:   cfg.greetingFile,
		AdminTokenFile: cfg.adminTokenFile,
		Version:        version,
		Hostname:       host,
	}, logger)
	srv := server.New(router, logger)
	if err := server.Serve(ctx, srv, ln, server.DefaultShutdownTimeout, logger); err != nil {
		return err
	}
	logger.Println("HTTP service stopped, closing database")
	return nil
}
