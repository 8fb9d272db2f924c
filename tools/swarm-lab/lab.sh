#!/usr/bin/env bash
# A multi-node Docker Swarm on one machine, for the reliability tests (issue #6).
#
#   lab.sh up [--managers 1|3] [--auth]   start (or complete) the lab, idempotent; prints the env
#   lab.sh down                           stop what `up` started (by pid), remove netns, bridge,
#                                         iptables rules and all lab data
#   lab.sh status                         what runs, node list, registry and edge health
#   lab.sh env                            the `export …` lines (DOCKER_HOST, registry, edge)
#   lab.sh kill NODE                      crash one engine: SIGKILL its dockerd, containerd, shims
#                                         and containers (a node dying), leaves its data
#   lab.sh start NODE                     start a killed/stopped engine again (it rejoins)
#   lab.sh solo                           start nxsolo, a one-node swarm of its own (not joined to
#                                         the lab's), for the single-node engine-kill test; idempotent
#   lab.sh next                           start nxnext, a one-node swarm of its own on a newer Docker
#                                         Engine (Debian trixie's docker.io, API >= 1.44; fetched
#                                         into $LAB_NEXT_DIR on first use); idempotent
#   lab.sh registry-stop | registry-start stop / start the lab registry (its data stays)
#   lab.sh edge-reload                    rewrite the nginx config and reload it
#
# Layout (defaults; override with the LAB_* variables below):
#   bridge nxlab0 192.168.213.1/24 in the root namespace, FORWARD accepts nxlab0 → nxlab0
#   nodes  nxlab1 (manager) 192.168.213.11, nxlab2 .12, nxlab3 .13: each its own network and UTS
#          namespace (`nsenter --net=/var/run/netns/NODE`, not `ip netns exec`), its own dockerd with
#          its own data-root, exec-root, socket, pidfile, config file, docker0 range and cgroup parent
#   solo   nxsolo 192.168.213.14, built the same way, started only by `lab.sh solo`: a single-node
#          swarm whose engine a test may kill without taking the machine's own engine down
#   next   nxnext 192.168.213.15, the same again with trixie's dockerd (and this machine's
#          containerd, runc and docker CLI), started only by `lab.sh next`: what most users run
#   registry  Debian's docker-registry on 192.168.213.1:5213 (every engine: --insecure-registry)
#   edge      Debian's nginx on 127.0.0.1:16767 → port 6767 on every node (host-mode publishing),
#             next upstream on connection errors and timeouts
#   ssh       Debian's sshd in the manager's namespace on 192.168.213.11:2222 (key only, LogLevel
#             VERBOSE, sessions get DOCKER_HOST=the manager's socket) and a bastion sshd in nxlab2's
#             namespace on 192.168.213.12:22 (ProxyJump); keys, known_hosts and an ssh_config with
#             the aliases nxlab-mgr (through the bastion) and nxlab-mgr-direct in $LAB_DATA/ssh
#   tls       socat mutual-TLS front door on 192.168.213.11:2376 → the manager's socket; openssl-made
#             CA, server and client certificates (DOCKER_CERT_PATH=$LAB_DATA/tls/client)
#
# Everything lives in $LAB_DATA (data, logs) and $LAB_RUN (sockets, pids); `down` removes both.
# Traffic stays on loopback and the bridge: the namespaces have no default route.
set -euo pipefail

LAB_NET_PREFIX="${LAB_NET_PREFIX:-192.168.213}"        # /24 on the bridge, only addresses we create
LAB_BRIDGE="${LAB_BRIDGE:-nxlab0}"
LAB_DATA="${LAB_DATA:-/var/lib/nx-swarm-lab}"
LAB_RUN="${LAB_RUN:-/run/nx-swarm-lab}"
LAB_REGISTRY_PORT="${LAB_REGISTRY_PORT:-5213}"
LAB_EDGE_PORT="${LAB_EDGE_PORT:-16767}"                # on 127.0.0.1
LAB_EDGE_TARGET="${LAB_EDGE_TARGET:-6767}"             # the host-mode published port on each node
LAB_SWARM_POOL="${LAB_SWARM_POOL:-10.213.0.0/16}"      # overlay subnets of the lab swarm
LAB_SSH_PORT="${LAB_SSH_PORT:-2222}"                   # the manager's sshd, in its namespace
LAB_TLS_PORT="${LAB_TLS_PORT:-2376}"                   # the manager's mutual-TLS front door
NODES=(nxlab1 nxlab2 nxlab3)
SOLO=nxsolo                                            # a one-node swarm of its own (lab.sh solo)
NEXT=nxnext                                            # the same on a newer engine (lab.sh next)
ALL_NODES=("${NODES[@]}" "$SOLO" "$NEXT")
LAB_NEXT_DIR="${LAB_NEXT_DIR:-/opt/nx-swarm/engine-next}"   # trixie's docker.io, unpacked (dpkg -x)
LAB_NEXT_SUITE="${LAB_NEXT_SUITE:-trixie}"
MANAGER=nxlab1
BASTION=nxlab2                                         # the ProxyJump sshd (port 22 in its namespace)

BRIDGE_ADDR="$LAB_NET_PREFIX.1"
REGISTRY="$BRIDGE_ADDR:$LAB_REGISTRY_PORT"
EDGE_URL="http://127.0.0.1:$LAB_EDGE_PORT"

say() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

node_index() { local i; for i in "${!ALL_NODES[@]}"; do [[ "${ALL_NODES[$i]}" == "$1" ]] && { echo $((i + 1)); return; }; done; die "unknown node $1 (nodes: ${ALL_NODES[*]})"; }
node_addr() { echo "$LAB_NET_PREFIX.$((10 + $(node_index "$1")))"; }
node_sock() { echo "$LAB_RUN/$1/docker.sock"; }
node_pidfile() { echo "$LAB_RUN/$1/docker.pid"; }
node_exec_root() { echo "$LAB_RUN/$1/exec"; }
node_docker() { local n="$1"; shift; docker -H "unix://$(node_sock "$n")" "$@"; }
veth_host() { echo "v$1"; }                            # vnxlab1 (≤ 15 chars)

# --- processes we started, by pid --------------------------------------------------------------
# A pid counts as ours only when its command line still contains the marker we started it with
# (guards against pid reuse after a reboot or a crash).
pid_alive_with() { # PID MARKER
  local pid="$1" marker="$2"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  # Not `| grep -q`: under pipefail, grep exiting at the first match can SIGPIPE the writer (false).
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *"$marker"* ]]
}
pidfile_pid() { [[ -s "$1" ]] && tr -dc '0-9' <"$1" || true; }
stop_pid() { # PID MARKER NAME [SECONDS]  SIGTERM, wait, SIGKILL
  local pid="$1" marker="$2" name="$3" secs="${4:-20}" i
  pid_alive_with "$pid" "$marker" || return 0
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do pid_alive_with "$pid" "$marker" || return 0; sleep 0.1; done
  say "$name did not stop within ${secs}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive_with "$pid" "$marker" || return 0; sleep 0.1; done
}

# --- packages ----------------------------------------------------------------------------------
APT_UPDATED=0
ensure_cmd() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null || die "$1 is missing and there is no apt-get: install $2"
  if [[ $APT_UPDATED == 0 ]]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $2 (for $1)"
  # Package scripts must not start services (nginx would take port 80): a temporary policy-rc.d,
  # only when none exists, removed right after.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && ours=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$2" >/dev/null || {
    [[ $ours == 1 ]] && rm -f $policy
    die "apt-get install $2 failed"
  }
  [[ $ours == 1 ]] && rm -f $policy
  command -v "$1" >/dev/null || die "$2 installed but $1 is still missing"
}

ensure_packages() {
  ensure_cmd ip iproute2
  ensure_cmd iptables iptables
  ensure_cmd nsenter util-linux
  ensure_cmd unshare util-linux
  ensure_cmd dockerd docker.io
  ensure_cmd docker docker.io
  ensure_cmd docker-registry docker-registry
  ensure_cmd nginx nginx
  if [[ "${LAB_AUTH:-0}" == 1 ]]; then ensure_cmd htpasswd apache2-utils; fi
  ensure_cmd sshd openssh-server
  ensure_cmd ssh openssh-client
  ensure_cmd ssh-keygen openssh-client
  ensure_cmd socat socat
  ensure_cmd openssl openssl
}

# --- network -----------------------------------------------------------------------------------
ensure_bridge() {
  if ! ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then
    say "bridge $LAB_BRIDGE $BRIDGE_ADDR/24"
    ip link add "$LAB_BRIDGE" type bridge
  fi
  [[ "$(ip addr show dev "$LAB_BRIDGE")" == *"inet $BRIDGE_ADDR/24"* ]] || ip addr add "$BRIDGE_ADDR/24" dev "$LAB_BRIDGE"
  ip link set "$LAB_BRIDGE" up
  # The root dockerd sets FORWARD to DROP; bridged traffic goes through it (br_netfilter).
  iptables -C FORWARD -i "$LAB_BRIDGE" -o "$LAB_BRIDGE" -j ACCEPT 2>/dev/null ||
    { say "iptables -I FORWARD -i $LAB_BRIDGE -o $LAB_BRIDGE -j ACCEPT"; iptables -I FORWARD -i "$LAB_BRIDGE" -o "$LAB_BRIDGE" -j ACCEPT; }
}

ensure_netns() { # NODE
  local n="$1" addr veth
  addr="$(node_addr "$n")"; veth="$(veth_host "$n")"
  [[ -e "/var/run/netns/$n" ]] || { say "netns $n ($addr)"; ip netns add "$n"; }
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip link add "$veth" type veth peer name eth0 netns "$n"
  fi
  ip link set "$veth" master "$LAB_BRIDGE"
  ip link set "$veth" up
  nsenter --net="/var/run/netns/$n" sh -c "
    ip link set lo up
    ip addr show dev eth0 | grep -qF 'inet $addr/24' || ip addr add $addr/24 dev eth0
    ip link set eth0 up"
}

# --- registry ----------------------------------------------------------------------------------
ensure_registry() {
  local dir="$LAB_DATA/registry" pidfile="$LAB_RUN/registry.pid" pid
  mkdir -p "$dir/storage" "$LAB_DATA/logs"
  pid="$(pidfile_pid "$pidfile")"
  if pid_alive_with "$pid" "$dir/config.yml"; then return 0; fi
  {
    printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/storage"
    printf 'http:\n  addr: %s\n  headers:\n    X-Content-Type-Options: [nosniff]\n' "$REGISTRY"
    if [[ "${LAB_AUTH:-0}" == 1 ]]; then
      printf 'auth:\n  htpasswd:\n    realm: nx-swarm-lab\n    path: %s\n' "$dir/htpasswd"
    fi
  } >"$dir/config.yml"
  if [[ "${LAB_AUTH:-0}" == 1 && ! -s "$dir/htpasswd" ]]; then
    local pass; pass="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
    htpasswd -Bbn nxlab "$pass" >"$dir/htpasswd"
    printf '%s\n' "$pass" >"$dir/password"
    chmod 600 "$dir/password"
  fi
  say "registry on $REGISTRY (docker-registry, data $dir/storage)"
  setsid docker-registry serve "$dir/config.yml" >>"$LAB_DATA/logs/registry.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local i
  # Alive = the process exists (kill -0). Its command line is not checked here: right after the
  # fork it can still be the shell's, before the exec (a race that made CI fail with an empty log).
  for ((i = 0; i < 300; i++)); do
    curl_ok "http://$REGISTRY/v2/" && return 0
    kill -0 "$(pidfile_pid "$pidfile")" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$LAB_DATA/logs/registry.log" >&2 || true
  die "the registry did not answer on $REGISTRY"
}

# HTTP status of a GET on loopback or a lab address, with bash only (no curl on a fresh machine).
http_status() { # URL
  local url="${1#http://}" hostport path host port
  hostport="${url%%/*}"; path="/${url#*/}"; [[ "$url" == */* ]] || path=/
  host="${hostport%:*}"; port="${hostport##*:}"
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$2" "$0:$1" >&3
    IFS=" " read -r _ code _ <&3 && echo "$code"' "$host" "$port" "$path" 2>/dev/null || echo 0
}
# 200 or 401 (auth on) means it answers.
curl_ok() { local code; code="$(http_status "$1")"; [[ "$code" == 200 || "$code" == 401 ]]; }

# A docker config dir for the lab registry's credentials (never touches ~/.docker).
ensure_docker_config() {
  local dir="$LAB_DATA/docker-config"
  mkdir -p "$dir"
  if [[ "${LAB_AUTH:-0}" == 1 ]]; then
    local auth; auth="$(printf 'nxlab:%s' "$(cat "$LAB_DATA/registry/password")" | base64 -w0)"
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$auth" >"$dir/config.json"
  else
    printf '{"auths":{}}\n' >"$dir/config.json"
  fi
  chmod 600 "$dir/config.json"
}

# --- engines -----------------------------------------------------------------------------------
engine_answers() { node_docker "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

node_dockerd() { # NODE: the dockerd binary this node runs
  if [[ "$1" == "$NEXT" ]]; then echo "$LAB_NEXT_DIR/usr/sbin/dockerd"; else echo dockerd; fi
}

start_engine() { # NODE
  local n="$1" idx run data exec_root sock pidfile cfg pid i dockerd proxy=""
  dockerd="$(node_dockerd "$n")"
  [[ "$n" == "$NEXT" ]] && proxy="\"userland-proxy-path\": \"$LAB_NEXT_DIR/usr/sbin/docker-proxy\","

  idx="$(node_index "$n")"; run="$LAB_RUN/$n"; data="$LAB_DATA/$n"
  exec_root="$(node_exec_root "$n")"; sock="$(node_sock "$n")"; pidfile="$(node_pidfile "$n")"
  pid="$(pidfile_pid "$pidfile")"
  if pid_alive_with "$pid" "$data/daemon.json" && engine_answers "$n"; then return 0; fi
  if pid_alive_with "$pid" "$data/daemon.json"; then
    for ((i = 0; i < 300; i++)); do engine_answers "$n" && return 0; sleep 0.1; done
    die "dockerd of $n (pid $pid) runs but does not answer on $sock; see $LAB_DATA/logs/$n-dockerd.log"
  fi
  mkdir -p "$run" "$data/docker" "$exec_root" "$LAB_DATA/logs"
  # Our own config file: /etc/docker/daemon.json (the root engine's) is never read.
  cat >"$data/daemon.json" <<EOF
{
  "data-root": "$data/docker",
  "exec-root": "$exec_root",
  "pidfile": "$pidfile",
  "hosts": ["unix://$sock"],
  "bip": "172.29.$idx.1/24",
  "default-address-pools": [{ "base": "172.28.0.0/16", "size": 24 }],
  "cgroup-parent": "/$n",
  "insecure-registries": ["$REGISTRY"],
  "labels": ["nxlab.node=$n"],$proxy
  "log-level": "info",
  "max-concurrent-uploads": 2
}
EOF
  rm -f "$sock"
  say "dockerd $n (netns $n, $(node_addr "$n"), socket $sock)"
  # unshare --uts: a hostname of its own, so `docker node ls` tells the nodes apart.
  # nsenter --net: the namespace's network only (ip netns exec would remount /sys).
  setsid unshare --uts -- nsenter --net="/var/run/netns/$n" -- \
    sh -c "hostname $n && exec $dockerd --config-file $data/daemon.json" \
    >>"$LAB_DATA/logs/$n-dockerd.log" 2>&1 </dev/null &
  for ((i = 0; i < 600; i++)); do
    if engine_answers "$n"; then
      pid_alive_with "$(pidfile_pid "$pidfile")" "$data/daemon.json" && return 0
    fi
    sleep 0.1
  done
  tail -n 30 "$LAB_DATA/logs/$n-dockerd.log" >&2 || true
  die "dockerd of $n did not answer on $sock within 60 s (log above)"
}

swarm_state() { node_docker "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

# After a restart, an engine answers before its swarm agent runs again: tasks scheduled on it until
# then are rejected ("cannot create a swarm scoped network when swarm is not active"). A node that
# was in the swarm is up once its state is active again (30 s at most, then a warning).
wait_swarm_active() { # NODE
  local n="$1" i state
  for ((i = 0; i < 300; i++)); do
    state="$(swarm_state "$n")"
    [[ "$state" == active || "$state" == inactive ]] && return 0
    sleep 0.1
  done
  say "warning: the swarm on $n is still $state after 30 s; see $LAB_DATA/logs/$n-dockerd.log"
}

ensure_swarm() {
  local managers="$1" n state token_w token_m i
  state="$(swarm_state "$MANAGER")"
  if [[ "$state" != active ]]; then
    say "swarm init on $MANAGER ($(node_addr "$MANAGER"), overlay pool $LAB_SWARM_POOL)"
    node_docker "$MANAGER" swarm init --advertise-addr "$(node_addr "$MANAGER")" \
      --listen-addr "$(node_addr "$MANAGER"):2377" --default-addr-pool "$LAB_SWARM_POOL" >/dev/null
  fi
  token_w="$(node_docker "$MANAGER" swarm join-token -q worker)"
  token_m="$(node_docker "$MANAGER" swarm join-token -q manager)"
  for n in "${NODES[@]}"; do
    [[ "$n" == "$MANAGER" ]] && continue
    state="$(swarm_state "$n")"
    [[ "$state" == active || "$state" == pending ]] && continue
    local role=worker token="$token_w"
    if [[ "$managers" == 3 ]]; then role=manager; token="$token_m"; fi
    say "swarm join $n as $role"
    node_docker "$n" swarm join --token "$token" --advertise-addr "$(node_addr "$n")" \
      --listen-addr "$(node_addr "$n"):2377" "$(node_addr "$MANAGER"):2377" >/dev/null
  done
  # Wait until every node is Ready.
  for ((i = 0; i < 300; i++)); do
    local ready
    ready="$(node_docker "$MANAGER" node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$' || true)"
    [[ "$ready" -ge "${#NODES[@]}" ]] && return 0
    sleep 0.2
  done
  node_docker "$MANAGER" node ls >&2 || true
  die "not every node is Ready after 60 s"
}

# --- edge --------------------------------------------------------------------------------------
write_edge_config() {
  local dir="$LAB_RUN/nginx" n
  mkdir -p "$dir" "$LAB_DATA/logs"
  {
    cat <<EOF
# nx-swarm lab edge: generated by tools/swarm-lab/lab.sh, do not edit
user root;
worker_processes 1;
pid $LAB_RUN/nginx.pid;
error_log $LAB_DATA/logs/nginx-error.log warn;
events { worker_connections 1024; }
http {
  # Which node answered each request, and the upstream attempts when one refused.
  log_format edge '\$msec|\$status|\$upstream_addr|\$upstream_status|\$request_time';
  access_log $LAB_DATA/logs/edge-access.log edge;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  upstream lab_nodes {
EOF
    for n in "${NODES[@]}"; do
      printf '    server %s:%s max_fails=1 fail_timeout=2s;\n' "$(node_addr "$n")" "$LAB_EDGE_TARGET"
    done
    cat <<EOF
  }
  server {
    listen 127.0.0.1:$LAB_EDGE_PORT;
    location = /_edge/health { return 200 "edge ok\n"; }
    location / {
      proxy_pass http://lab_nodes;
      # A host-mode swarm has no routing mesh: a node without a running task refuses the
      # connection. Try the next node on connection errors and timeouts, never give up early.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 0;
      proxy_next_upstream_timeout 5s;
      proxy_connect_timeout 1s;
      proxy_read_timeout 5s;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  } >"$dir/nginx.conf.new"
  mv "$dir/nginx.conf.new" "$dir/nginx.conf"
}

ensure_edge() {
  local conf="$LAB_RUN/nginx/nginx.conf" pid
  write_edge_config
  nginx -t -q -c "$conf" -p "$LAB_RUN/nginx" 2>&1 | grep -v 'the "user" directive' >&2 || true
  pid="$(pidfile_pid "$LAB_RUN/nginx.pid")"
  if pid_alive_with "$pid" "$conf"; then
    kill -HUP "$pid"
    return 0
  fi
  say "nginx edge on 127.0.0.1:$LAB_EDGE_PORT → :$LAB_EDGE_TARGET on every node"
  nginx -c "$conf" -p "$LAB_RUN/nginx" 2>>"$LAB_DATA/logs/nginx-error.log" </dev/null
  local i
  for ((i = 0; i < 50; i++)); do
    pid_alive_with "$(pidfile_pid "$LAB_RUN/nginx.pid")" "$conf" && return 0
    sleep 0.1
  done
  die "nginx did not start (see $LAB_DATA/logs/nginx-error.log)"
}

# --- ssh front door ----------------------------------------------------------------------------
SSH_DIR="$LAB_DATA/ssh"
sshd_conf() { echo "$SSH_DIR/sshd-$1.conf"; }     # mgr | bastion
sshd_pidfile() { echo "$LAB_RUN/sshd-$1.pid"; }
sshd_log() { echo "$LAB_DATA/logs/sshd-$1.log"; }

write_sshd_config() { # ROLE NODE PORT
  local role="$1" n="$2" port="$3"
  {
    echo "# nx-swarm lab sshd ($role): generated by tools/swarm-lab/lab.sh, do not edit"
    echo "Port $port"
    echo "ListenAddress $(node_addr "$n")"
    echo "HostKey $SSH_DIR/host_${role}_ed25519"
    echo "PidFile $(sshd_pidfile "$role")"
    echo "AuthorizedKeysFile $SSH_DIR/authorized_keys"
    echo "AuthenticationMethods publickey"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "PermitRootLogin prohibit-password"
    echo "UsePAM no"
    echo "StrictModes no"
    echo "LogLevel VERBOSE"        # one 'Accepted publickey' line per login: the tests count them
    echo "X11Forwarding no"
    echo "PrintMotd no"
    echo "MaxSessions 32"
    echo "MaxStartups 32:30:64"
    if [[ "$role" == mgr ]]; then
      # The session's docker CLI talks to the lab manager, not to the root engine.
      echo "SetEnv DOCKER_HOST=unix://$(node_sock "$MANAGER")"
      # -L only (sshd shares one permission for TCP and unix-socket forwards): nx-swarm's kept
      # connection forwards a socket to the engine's. A test forwards to a missing path to see the
      # refusal a locked-down manager (AllowTcpForwarding no) gives.
      echo "AllowTcpForwarding local"
      echo "AllowStreamLocalForwarding local"
    else
      # A bastion: forwards to the manager's sshd only, runs nothing.
      echo "AllowTcpForwarding yes"
      echo "PermitOpen $(node_addr "$MANAGER"):$LAB_SSH_PORT"
      echo "ForceCommand /bin/false"
    fi
  } >"$(sshd_conf "$role")"
}

ensure_ssh_files() {
  mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR"
  local k
  for k in host_mgr_ed25519 host_bastion_ed25519 id_ed25519; do
    [[ -s "$SSH_DIR/$k" ]] || ssh-keygen -q -t ed25519 -N '' -C "nxlab-$k" -f "$SSH_DIR/$k"
  done
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
  {
    printf '[%s]:%s %s\n' "$(node_addr "$MANAGER")" "$LAB_SSH_PORT" "$(cut -d' ' -f1,2 "$SSH_DIR/host_mgr_ed25519.pub")"
    printf '%s %s\n' "$(node_addr "$BASTION")" "$(cut -d' ' -f1,2 "$SSH_DIR/host_bastion_ed25519.pub")"
  } >"$SSH_DIR/known_hosts"
  local alias host port jump
  {
    echo "# The lab's ssh aliases: ssh -F $SSH_DIR/ssh_config nxlab-mgr, or copy into ~/.ssh/config"
    for alias in nxlab-bastion nxlab-mgr nxlab-mgr-direct; do
      case "$alias" in
        nxlab-bastion) host="$(node_addr "$BASTION")"; port=22; jump= ;;
        nxlab-mgr) host="$(node_addr "$MANAGER")"; port="$LAB_SSH_PORT"; jump=nxlab-bastion ;;
        nxlab-mgr-direct) host="$(node_addr "$MANAGER")"; port="$LAB_SSH_PORT"; jump= ;;
      esac
      echo "Host $alias"
      echo "  HostName $host"
      echo "  Port $port"
      echo "  User root"
      echo "  IdentityFile $SSH_DIR/id_ed25519"
      echo "  IdentitiesOnly yes"
      echo "  UserKnownHostsFile $SSH_DIR/known_hosts"
      echo "  StrictHostKeyChecking yes"
      [[ -n "$jump" ]] && echo "  ProxyJump $jump"
    done
  } >"$SSH_DIR/ssh_config"
  chmod 600 "$SSH_DIR"/id_ed25519 "$SSH_DIR"/host_*_ed25519 "$SSH_DIR/ssh_config"
}

tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

start_sshd() { # ROLE NODE PORT
  local role="$1" n="$2" port="$3" conf pid i
  conf="$(sshd_conf "$role")"
  write_sshd_config "$role" "$n" "$port"
  pid="$(pidfile_pid "$(sshd_pidfile "$role")")"
  if pid_alive_with "$pid" "$conf"; then kill -HUP "$pid"; return 0; fi
  mkdir -p /run/sshd && chmod 755 /run/sshd           # sshd's privilege-separation directory
  /usr/sbin/sshd -t -f "$conf" || die "sshd ($role) rejects $conf"
  say "sshd $role on $(node_addr "$n"):$port (netns $n, log $(sshd_log "$role"))"
  # -D: stays in the foreground (so its pid is the one we keep); -E: its log.
  setsid nsenter --net="/var/run/netns/$n" -- /usr/sbin/sshd -D -f "$conf" -E "$(sshd_log "$role")" </dev/null >/dev/null 2>&1 &
  for ((i = 0; i < 50; i++)); do   # sshd writes its PidFile itself (with -D it does not fork)
    tcp_open "$(node_addr "$n")" "$port" && return 0
    sleep 0.1
  done
  tail -n 20 "$(sshd_log "$role")" >&2 || true
  die "sshd $role did not listen on $(node_addr "$n"):$port"
}

ensure_ssh() {
  ensure_ssh_files
  start_sshd bastion "$BASTION" 22
  start_sshd mgr "$MANAGER" "$LAB_SSH_PORT"
}

# --- mutual-TLS front door -----------------------------------------------------------------------
TLS_DIR="$LAB_DATA/tls"
tls_sign() { # NAME CN EXTENSIONS  (a key + certificate signed by the lab CA)
  local name="$1" cn="$2" ext="$3"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" \
    -keyout "$TLS_DIR/$name-key.pem" -out "$TLS_DIR/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$TLS_DIR/$name.ext"
  openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca-key.pem" -CAcreateserial \
    -days 30 -extfile "$TLS_DIR/$name.ext" -out "$TLS_DIR/$name-cert.pem" 2>/dev/null
  rm -f "$TLS_DIR/$name.csr" "$TLS_DIR/$name.ext"
}

ensure_tls_files() {
  [[ -s "$TLS_DIR/client/key.pem" ]] && return 0
  mkdir -p "$TLS_DIR/client" && chmod 700 "$TLS_DIR"
  say "TLS: CA, server (IP:$(node_addr "$MANAGER")) and client certificates (openssl) in $TLS_DIR"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=nxlab-ca \
    -keyout "$TLS_DIR/ca-key.pem" -out "$TLS_DIR/ca.pem" 2>/dev/null
  tls_sign server nxlab1 "subjectAltName=IP:$(node_addr "$MANAGER")
extendedKeyUsage=serverAuth"
  tls_sign client nxlab-client "extendedKeyUsage=clientAuth"
  # The docker CLI's layout: DOCKER_CERT_PATH holds ca.pem, cert.pem, key.pem.
  cp "$TLS_DIR/ca.pem" "$TLS_DIR/client/ca.pem"
  mv "$TLS_DIR/client-cert.pem" "$TLS_DIR/client/cert.pem"
  mv "$TLS_DIR/client-key.pem" "$TLS_DIR/client/key.pem"
  chmod 600 "$TLS_DIR"/*.pem "$TLS_DIR"/client/*.pem
}

tls_marker() { echo "cert=$TLS_DIR/server-cert.pem"; }

ensure_tls() {
  local pid i
  ensure_tls_files
  pid="$(pidfile_pid "$LAB_RUN/socat-tls.pid")"
  pid_alive_with "$pid" "$(tls_marker)" && return 0
  say "mutual TLS on $(node_addr "$MANAGER"):$LAB_TLS_PORT (socat → $(node_sock "$MANAGER"))"
  setsid nsenter --net="/var/run/netns/$MANAGER" -- socat \
    "OPENSSL-LISTEN:$LAB_TLS_PORT,bind=$(node_addr "$MANAGER"),reuseaddr,fork,$(tls_marker),key=$TLS_DIR/server-key.pem,cafile=$TLS_DIR/ca.pem,verify=1" \
    "UNIX-CONNECT:$(node_sock "$MANAGER")" </dev/null >>"$LAB_DATA/logs/socat-tls.log" 2>&1 &
  echo $! >"$LAB_RUN/socat-tls.pid"
  for ((i = 0; i < 50; i++)); do
    tcp_open "$(node_addr "$MANAGER")" "$LAB_TLS_PORT" && return 0
    sleep 0.1
  done
  die "socat did not listen on $(node_addr "$MANAGER"):$LAB_TLS_PORT (see $LAB_DATA/logs/socat-tls.log)"
}

# The processes a forking server (sshd sessions, socat connections) started, by parent pid.
children_of() { local p; for p in /proc/[0-9]*; do [[ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" == "$1" ]] && echo "${p#/proc/}"; done; return 0; }

stop_front_doors() {
  local role pid c
  for role in mgr bastion; do
    pid="$(pidfile_pid "$(sshd_pidfile "$role")")"
    if pid_alive_with "$pid" "$(sshd_conf "$role")"; then
      for c in $(children_of "$pid"); do kill -TERM "$c" 2>/dev/null || true; done
      stop_pid "$pid" "$(sshd_conf "$role")" "sshd $role" 10
    fi
  done
  pid="$(pidfile_pid "$LAB_RUN/socat-tls.pid")"
  if pid_alive_with "$pid" "$(tls_marker)"; then
    for c in $(children_of "$pid"); do kill -TERM "$c" 2>/dev/null || true; done
    stop_pid "$pid" "$(tls_marker)" "socat tls" 10
  fi
}

# --- env / status ------------------------------------------------------------------------------
print_env() {
  local n
  echo "export DOCKER_HOST=unix://$(node_sock "$MANAGER")"
  echo "export LAB_REGISTRY=$REGISTRY"
  echo "export LAB_EDGE_URL=$EDGE_URL"
  echo "export LAB_DOCKER_CONFIG=$LAB_DATA/docker-config"
  for n in "${NODES[@]}"; do
    echo "export LAB_SOCK_$n=unix://$(node_sock "$n")   # $(node_addr "$n")"
  done
  echo "# over ssh (aliases in $SSH_DIR/ssh_config; nxlab-mgr jumps through the bastion):"
  echo "#   DOCKER_HOST=ssh://nxlab-mgr with that file as ~/.ssh/config (or HOME=DIR with DIR/.ssh/config)"
  echo "# over mutual TLS:"
  echo "#   DOCKER_HOST=tcp://$(node_addr "$MANAGER"):$LAB_TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$TLS_DIR/client"
  if [[ -s "$LAB_DATA/registry/password" ]]; then
    echo "# registry auth on: user nxlab, password in $LAB_DATA/registry/password;"
    echo "# credentials for the executors: export DOCKER_CONFIG=$LAB_DATA/docker-config"
  fi
}

# Machine-readable state for the tests.
write_state() {
  local managers="$1" n first=1
  {
    printf '{\n  "managers": %s,\n  "manager": "%s",\n' "$managers" "$MANAGER"
    printf '  "dockerHost": "unix://%s",\n  "registry": "%s",\n  "edgeUrl": "%s",\n' "$(node_sock "$MANAGER")" "$REGISTRY" "$EDGE_URL"
    printf '  "edgePort": %s,\n  "edgeTarget": %s,\n' "$LAB_EDGE_PORT" "$LAB_EDGE_TARGET"
    printf '  "registryAuth": %s,\n  "dockerConfig": "%s",\n' "$([[ "${LAB_AUTH:-0}" == 1 ]] && echo true || echo false)" "$LAB_DATA/docker-config"
    printf '  "ssh": { "dir": "%s", "config": "%s", "identity": "%s", "knownHosts": "%s", "alias": "nxlab-mgr", "directAlias": "nxlab-mgr-direct",\n' \
      "$SSH_DIR" "$SSH_DIR/ssh_config" "$SSH_DIR/id_ed25519" "$SSH_DIR/known_hosts"
    printf '           "host": "%s", "port": %s, "log": "%s", "bastion": "%s", "bastionLog": "%s" },\n' \
      "$(node_addr "$MANAGER")" "$LAB_SSH_PORT" "$(sshd_log mgr)" "$(node_addr "$BASTION")" "$(sshd_log bastion)"
    printf '  "tls": { "host": "tcp://%s:%s", "certPath": "%s", "caKey": "%s" },\n  "nodes": [\n' \
      "$(node_addr "$MANAGER")" "$LAB_TLS_PORT" "$TLS_DIR/client" "$TLS_DIR/ca-key.pem"
    for n in "${NODES[@]}"; do
      [[ $first == 1 ]] || printf ',\n'
      first=0
      printf '    { "name": "%s", "address": "%s", "dockerHost": "unix://%s" }' "$n" "$(node_addr "$n")" "$(node_sock "$n")"
    done
    printf '\n  ]\n}\n'
  } >"$LAB_RUN/lab.json"
}

cmd_status() {
  local n pid rc=0
  [[ -d "$LAB_RUN" ]] || { echo "lab: down"; return 3; }
  for n in "${NODES[@]}"; do
    pid="$(pidfile_pid "$(node_pidfile "$n")")"
    if pid_alive_with "$pid" "$LAB_DATA/$n/daemon.json" && engine_answers "$n"; then
      echo "engine $n: up (pid $pid, $(node_addr "$n"), swarm $(swarm_state "$n"))"
    else
      echo "engine $n: DOWN"; rc=1
    fi
  done
  if pid_alive_with "$(pidfile_pid "$LAB_RUN/registry.pid")" "$LAB_DATA/registry/config.yml" && curl_ok "http://$REGISTRY/v2/"; then
    echo "registry: up ($REGISTRY)"
  else
    echo "registry: DOWN"; rc=1
  fi
  if pid_alive_with "$(pidfile_pid "$LAB_RUN/nginx.pid")" "$LAB_RUN/nginx/nginx.conf" && curl_ok "$EDGE_URL/_edge/health"; then
    echo "edge: up ($EDGE_URL)"
  else
    echo "edge: DOWN"; rc=1
  fi
  if pid_alive_with "$(pidfile_pid "$(sshd_pidfile mgr)")" "$(sshd_conf mgr)" && pid_alive_with "$(pidfile_pid "$(sshd_pidfile bastion)")" "$(sshd_conf bastion)" \
    && tcp_open "$(node_addr "$MANAGER")" "$LAB_SSH_PORT"; then
    echo "ssh: up ($(node_addr "$MANAGER"):$LAB_SSH_PORT, bastion $(node_addr "$BASTION"):22)"
  else
    echo "ssh: DOWN"; rc=1
  fi
  if pid_alive_with "$(pidfile_pid "$LAB_RUN/socat-tls.pid")" "cert=$TLS_DIR/server-cert.pem" && tcp_open "$(node_addr "$MANAGER")" "$LAB_TLS_PORT"; then
    echo "tls: up ($(node_addr "$MANAGER"):$LAB_TLS_PORT)"
  else
    echo "tls: DOWN"; rc=1
  fi
  node_docker "$MANAGER" node ls 2>/dev/null || true
  return $rc
}

# --- kill / down -------------------------------------------------------------------------------
# The containerd shims and container inits of one engine: the inits from containerd's state
# (init.pid), the shims by their command line, which names this engine's containerd socket (a path
# only this lab uses). So we signal exactly that engine's processes, by pid.
engine_task_pids() { # NODE
  local exec_root state p
  exec_root="$(node_exec_root "$1")"; state="$exec_root/containerd/daemon"
  if [[ -d "$state" ]]; then
    find "$state" -maxdepth 4 -name init.pid -type f -exec cat {} + 2>/dev/null | tr -dc '0-9\n' || true
  fi
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    pid_alive_with "$p" "-address $exec_root/containerd/containerd.sock" && echo "$p"
  done
  return 0
}

kill_engine() { # NODE  (crash: SIGKILL, no clean-up)
  local n="$1" pid cpid p
  pid="$(pidfile_pid "$(node_pidfile "$n")")"
  cpid="$(pidfile_pid "$(node_exec_root "$n")/containerd/containerd.pid")"
  local tasks; tasks="$(engine_task_pids "$n")"
  say "kill $n: SIGKILL dockerd ${pid:-?}, containerd ${cpid:-?}, $(echo "$tasks" | grep -c . || true) shim/task processes"
  pid_alive_with "$pid" "$LAB_DATA/$n/daemon.json" && kill -KILL "$pid" 2>/dev/null || true
  pid_alive_with "$cpid" "$(node_exec_root "$n")" && kill -KILL "$cpid" 2>/dev/null || true
  for p in $tasks; do [[ -d /proc/$p ]] && kill -KILL "$p" 2>/dev/null || true; done
  # docker-proxy processes of that engine run in its network namespace.
  for p in $(ip netns pids "$n" 2>/dev/null); do
    pid_alive_with "$p" docker-proxy && kill -KILL "$p" 2>/dev/null || true
  done
}

stop_engine() { # NODE  (clean: SIGTERM, the engine stops its containers)
  local n="$1" pid cpid p
  pid="$(pidfile_pid "$(node_pidfile "$n")")"
  stop_pid "$pid" "$LAB_DATA/$n/daemon.json" "dockerd $n" 40
  cpid="$(pidfile_pid "$(node_exec_root "$n")/containerd/containerd.pid")"
  stop_pid "$cpid" "$(node_exec_root "$n")" "containerd $n" 10
  for p in $(engine_task_pids "$n"); do [[ -d /proc/$p ]] && kill -KILL "$p" 2>/dev/null || true; done
  for p in $(ip netns pids "$n" 2>/dev/null); do
    pid_alive_with "$p" docker-proxy && kill -KILL "$p" 2>/dev/null || true
  done
}

unmount_under() { # DIR  (overlay mounts, netns bind mounts left by a killed engine)
  local dir="$1" m
  [[ -d "$dir" ]] || return 0
  awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

cmd_down() {
  local n
  say "down"
  if [[ -f "$LAB_RUN/nginx.pid" ]]; then
    stop_pid "$(pidfile_pid "$LAB_RUN/nginx.pid")" "$LAB_RUN/nginx/nginx.conf" nginx 10
  fi
  stop_front_doors
  for n in "${ALL_NODES[@]}"; do stop_engine "$n"; done
  if [[ -f "$LAB_RUN/registry.pid" ]]; then
    stop_pid "$(pidfile_pid "$LAB_RUN/registry.pid")" "$LAB_DATA/registry/config.yml" registry 10
  fi
  for n in "${ALL_NODES[@]}"; do
    ip link del "$(veth_host "$n")" 2>/dev/null || true
    if [[ -e "/var/run/netns/$n" ]]; then ip netns del "$n" 2>/dev/null || say "could not delete netns $n"; fi
  done
  if ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then ip link del "$LAB_BRIDGE"; fi
  while iptables -C FORWARD -i "$LAB_BRIDGE" -o "$LAB_BRIDGE" -j ACCEPT 2>/dev/null; do
    iptables -D FORWARD -i "$LAB_BRIDGE" -o "$LAB_BRIDGE" -j ACCEPT
  done
  # Cgroups the engines created under their cgroup parent (empty once the tasks are gone).
  for n in "${ALL_NODES[@]}"; do
    find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$n/*" -depth -exec rmdir {} + 2>/dev/null || true
    find /sys/fs/cgroup -maxdepth 2 -type d -name "$n" -exec rmdir {} + 2>/dev/null || true
  done
  unmount_under "$LAB_RUN"
  unmount_under "$LAB_DATA"
  rm -rf "$LAB_RUN" "$LAB_DATA"
  say "down: done"
}

cmd_up() {
  local managers="${LAB_MANAGERS:-1}"
  [[ "$managers" == 1 || "$managers" == 3 ]] || die "--managers must be 1 or 3"
  [[ "$(id -u)" == 0 ]] || die "the lab needs root (network namespaces, bridge, iptables, dockerd)"
  local started=$SECONDS n
  ensure_packages
  mkdir -p "$LAB_RUN" "$LAB_DATA/logs"
  ensure_bridge
  for n in "${NODES[@]}"; do ensure_netns "$n"; done
  ensure_registry
  ensure_docker_config
  for n in "${NODES[@]}"; do start_engine "$n" & done
  local failed=0
  for n in "${NODES[@]}"; do wait -n || failed=1; done
  [[ $failed == 0 ]] || die "an engine did not start (logs in $LAB_DATA/logs)"
  ensure_swarm "$managers"
  ensure_edge
  ensure_ssh
  ensure_tls
  write_state "$managers"
  say "up in $((SECONDS - started)) s; state in $LAB_RUN/lab.json"
  print_env
}

# nxsolo: the same kind of engine as the lab's nodes, in a one-node swarm of its own (its own
# overlay pool), so a test can crash a single-node swarm's engine while the machine's engine and
# the lab's swarm carry on. Needs the lab's bridge and registry (lab.sh up first).
cmd_solo() {
  one_node_swarm "$SOLO" "${LAB_SOLO_POOL:-10.214.0.0/16}"
  echo "export DOCKER_HOST=unix://$(node_sock "$SOLO")   # $SOLO, $(node_addr "$SOLO")"
}

# A node of its own on the lab's bridge, in a one-node swarm of its own (NODE OVERLAY-POOL).
one_node_swarm() {
  local n="$1" pool="$2" i
  [[ "$(id -u)" == 0 ]] || die "$n needs root"
  [[ -f "$LAB_RUN/lab.json" ]] || die "the lab is down: run lab.sh up first ($n uses its bridge and registry)"
  ensure_bridge
  ensure_netns "$n"
  start_engine "$n"
  if [[ "$(swarm_state "$n")" != active ]]; then
    say "swarm init on $n ($(node_addr "$n"), a one-node swarm of its own)"
    node_docker "$n" swarm init --advertise-addr "$(node_addr "$n")" \
      --listen-addr "$(node_addr "$n"):2377" --default-addr-pool "$pool" >/dev/null
  fi
  for ((i = 0; i < 300; i++)); do
    [[ "$(node_docker "$n" node ls --format '{{.Status}}' 2>/dev/null)" == Ready ]] && break
    sleep 0.2
  done
}

# The newer engine: Debian trixie's docker.io, found in that suite's package index (so a point
# release's new version is picked up), checked against the index's SHA256 and unpacked with dpkg -x.
# Its dockerd needs glibc >= 2.34 (bookworm has 2.36) and uses this machine's containerd and runc.
ensure_next_engine() {
  local bin="$LAB_NEXT_DIR/usr/sbin/dockerd" base="http://deb.debian.org/debian" tmp entry file sum
  if [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1; then return 0; fi
  ensure_cmd curl curl; ensure_cmd xz xz-utils; ensure_cmd dpkg dpkg
  tmp="$(mktemp -d)"
  say "fetching docker.io from Debian $LAB_NEXT_SUITE into $LAB_NEXT_DIR"
  curl -fsS --max-time 120 -o "$tmp/Packages.xz" "$base/dists/$LAB_NEXT_SUITE/main/binary-amd64/Packages.xz" ||
    die "could not fetch the $LAB_NEXT_SUITE package index from $base (the newer engine for lab.sh next)"
  entry="$(xz -dc "$tmp/Packages.xz" | awk 'BEGIN { RS = "" } /^Package: docker\.io\n/ && !found { print; found = 1 }')"  # no exit: xz would get SIGPIPE (pipefail)
  file="$(sed -n 's/^Filename: //p' <<<"$entry")"; sum="$(sed -n 's/^SHA256: //p' <<<"$entry")"
  [[ -n "$file" && -n "$sum" ]] || die "no docker.io in Debian $LAB_NEXT_SUITE's package index"
  curl -fsS --max-time 300 -o "$tmp/docker.io.deb" "$base/$file" || die "could not fetch $base/$file"
  echo "$sum  $tmp/docker.io.deb" | sha256sum -c --quiet - || die "$file does not match the SHA256 of the package index"
  rm -rf "$LAB_NEXT_DIR.tmp" && mkdir -p "$LAB_NEXT_DIR.tmp" && dpkg -x "$tmp/docker.io.deb" "$LAB_NEXT_DIR.tmp"
  rm -rf "$LAB_NEXT_DIR" && mv "$LAB_NEXT_DIR.tmp" "$LAB_NEXT_DIR" && rm -rf "$tmp"
  "$bin" --version >/dev/null 2>&1 || die "$bin does not run on this machine: $("$bin" --version 2>&1 | head -n 3)"
  say "$("$bin" --version)"
}

# nxnext: like nxsolo, on the newer engine.
cmd_next() {
  [[ -f "$LAB_RUN/lab.json" ]] || die "the lab is down: run lab.sh up first (nxnext uses its bridge and registry)"
  ensure_next_engine
  one_node_swarm "$NEXT" "${LAB_NEXT_POOL:-10.215.0.0/16}"
  echo "export DOCKER_HOST=unix://$(node_sock "$NEXT")   # $NEXT, $(node_addr "$NEXT"), $(node_docker "$NEXT" version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}')"
}

# Daemons started here must not inherit the caller's file descriptors: under
# `flock /tmp/nx-swarm-engine.lock lab.sh up`, a dockerd holding fd 3 would hold the lock forever.
close_inherited_fds() {
  local fd target
  for fd in /proc/$$/fd/*; do
    fd="${fd##*/}"
    [[ "$fd" =~ ^[0-9]+$ && "$fd" -gt 2 && "$fd" != 255 ]] || continue
    target="$(readlink "/proc/$$/fd/$fd" 2>/dev/null)" || continue
    [[ "$target" == "$(readlink -f "$0")" ]] && continue
    eval "exec $fd>&-" 2>/dev/null || true
  done
}

main() {
  local cmd="${1:-}"; shift || true
  close_inherited_fds
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --managers) LAB_MANAGERS="$2"; shift 2 ;;
      --auth) LAB_AUTH=1; shift ;;
      *) break ;;
    esac
  done
  # The settings of an existing lab win (so `up` stays idempotent and `env` right).
  if [[ -f "$LAB_RUN/lab.json" && "$cmd" != down ]]; then
    grep -q '"registryAuth": true' "$LAB_RUN/lab.json" && LAB_AUTH=1
    LAB_MANAGERS="$(sed -n 's/.*"managers": \([0-9]*\).*/\1/p' "$LAB_RUN/lab.json")"
  fi
  case "$cmd" in
    up) cmd_up ;;
    down) [[ "$(id -u)" == 0 ]] || die "down needs root"; cmd_down ;;
    status) cmd_status ;;
    env) [[ -f "$LAB_RUN/lab.json" ]] || die "the lab is down (lab.sh up)"; print_env ;;
    kill) kill_engine "${1:?node}" ;;
    start) start_engine "${1:?node}"; wait_swarm_active "$1"; say "$1 up" ;;
    solo) cmd_solo ;;
    next) cmd_next ;;
    registry-stop) stop_pid "$(pidfile_pid "$LAB_RUN/registry.pid")" "$LAB_DATA/registry/config.yml" registry 10 ;;
    registry-start) ensure_registry ;;
    edge-reload) ensure_edge ;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; [[ -z "$cmd" ]] && exit 2; die "unknown command $cmd" ;;
  esac
}

main "$@"
