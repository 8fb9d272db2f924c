#!/usr/bin/env bash
# Prepares this machine for nx-swarm, idempotently, and says what it does.
#
#   tools/bootstrap.sh          npm packages, Go, the compiled plugin, a Docker Engine, a swarm,
#                               the my_network overlay
#   tools/bootstrap.sh --test   also what the integration tests use (docker-registry, htpasswd, file,
#                               chromium for the visualizer's browser test)
#
# On a fresh Debian/Ubuntu machine as root it installs what is missing and starts dockerd in the
# background (log: /var/log/nx-swarm-dockerd.log). On a laptop with Docker Desktop it only checks
# and initialises a single-node swarm when the engine is in none. It never changes the membership
# of an existing swarm.
set -euo pipefail

cd "$(dirname "$0")/.."
WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

APT_UPDATED=0
apt_install() {
  is_root || die "missing $* and not root: install it yourself (apt-get install $*) and run again"
  command -v apt-get >/dev/null || die "missing $* and no apt-get here: install it yourself and run again"
  if [[ $APT_UPDATED == 0 ]]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- npm packages ------------------------------------------------------------------------------
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages up to date"
fi

# --- Go ----------------------------------------------------------------------------------------
if ! command -v go >/dev/null; then
  apt_install golang-go ca-certificates
fi
say "Go: $(go version)"
export GOTOOLCHAIN=local

# --- the plugin, compiled, as users install it ------------------------------------------------
# Tasks then load plain JavaScript instead of transpiling the plugin (about 0.45 s per task here).
# Rebuilt only when packages/nx-swarm changed; a stale copy falls back to the source by itself.
node tools/plugin/install.mjs

# --- Docker Engine -----------------------------------------------------------------------------
engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! command -v docker >/dev/null; then
  apt_install docker.io
fi
if ! engine_answers; then
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    die "DOCKER_HOST=${DOCKER_HOST} does not answer; start that engine or unset DOCKER_HOST"
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  is_root || die "no Docker Engine answers and starting one needs root (sudo dockerd &, or start Docker Desktop)"
  LOG=/var/log/nx-swarm-dockerd.log
  say "starting dockerd in the background (log: $LOG)"
  # setsid + nohup: the engine outlives this script and the shell that ran it.
  setsid nohup dockerd >>"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if engine_answers; then break; fi
    sleep 0.5
  done
  engine_answers || { tail -n 20 "$LOG" >&2; die "dockerd did not answer within 60 s (log above)"; }
fi
say "Docker Engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

# --- Swarm -------------------------------------------------------------------------------------
state="$(docker info --format '{{.Swarm.LocalNodeState}}')"
case "$state" in
  inactive)
    say "docker swarm init --advertise-addr 127.0.0.1 (single-node swarm)"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    ;;
  active)
    say "engine is already in a swarm; leaving its membership alone"
    ;;
  *)
    die "swarm state is '$state'; fix it (docker swarm leave / docker swarm join) and run again"
    ;;
esac
if [[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != "true" ]]; then
  say "warning: this engine is a swarm worker, not a manager; deploys need DOCKER_HOST pointing at a manager"
else
  if ! docker network inspect my_network >/dev/null 2>&1; then
    say "creating the attachable overlay network my_network"
    docker network create --driver overlay --attachable my_network >/dev/null
  else
    say "network my_network exists"
  fi
fi

# --- Test tools --------------------------------------------------------------------------------
if [[ $WANT_TEST == 1 ]]; then
  missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v file >/dev/null || missing+=(file)
  command -v curl >/dev/null || missing+=(curl)
  # The visualizer's browser test drives Debian's chromium through playwright-core.
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi
  # Debian's package starts a registry on :5000 as a system service; the tests start their own.
  say "test tools: docker-registry, htpasswd, file, curl, chromium present"
fi

say "ready"
