#!/usr/bin/env bash
# Baseline on the lab, with the docker CLI only: how a redeploy of accountservice (3 replicas, one
# per node, host-mode port 6767 behind the nginx edge) looks under a steady 100 req/s.
#
#   A. the tutorial's way: docker service rm + docker service create (new version)
#   B. docker service update --image (parallelism 1, stop-first, delay 1 s)
#
# Needs a lab that is up (lab.sh up). Prints one JSON object per run with the loadgen report and
# the time the docker command took; the figures go to docs/reliability.md. Removes its service.
#
#   bash tools/swarm-lab/baseline.sh [rounds]     (default 1 round of A then B, ~80 s)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-1}"
LAB="$(dirname "$0")/lab.sh"
eval "$(bash "$LAB" env)"
export GOTOOLCHAIN=local
SERVICE=nxlab-baseline
WORK="$(mktemp -d /tmp/nxlab-baseline.XXXXXX)"
trap 'docker service rm "$SERVICE" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

say() { printf 'baseline: %s\n' "$*" >&2; }

LOADGEN="$WORK/loadgen"
(cd tools/loadgen && CGO_ENABLED=0 go build -trimpath -o "$LOADGEN" .)

# Two versions of accountservice: v2 answers with another name, so the bodies show who served.
build_version() { # VERSION NAME_PREFIX
  local dir="$WORK/$1" src="$WORK/src-$1"
  mkdir -p "$dir" && cp -r accountservice "$src"
  sed -i "s/\"Person_\"/\"$2\"/" "$src/internal/dbclient/dbclient.go"
  (cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="-s -w -X main.version=$1" \
    -o "$dir/accountservice-linux-amd64" .)
  cp -r accountservice/Dockerfile accountservice/docker "$dir/"
  docker build -q -t "$LAB_REGISTRY/nxlab-baseline:$1" "$dir" >/dev/null 2>&1
  docker push -q "$LAB_REGISTRY/nxlab-baseline:$1" >/dev/null
  docker image inspect -f '{{index .RepoDigests 0}}' "$LAB_REGISTRY/nxlab-baseline:$1"
}
V1="$(build_version v1 Person_)"
V2="$(build_version v2 PersonV2_)"
say "v1 $V1"
say "v2 $V2"

create() { # IMAGE
  docker service create -d --quiet --name "$SERVICE" --replicas 3 --endpoint-mode dnsrr \
    --publish mode=host,target=6767,published=6767 \
    --update-parallelism 1 --update-order stop-first --update-delay 1s "$1" >/dev/null
}
wait_serving() { # 3 tasks running, the edge answers
  local i
  for ((i = 0; i < 300; i++)); do
    if [[ "$(docker service ps -q --filter desired-state=running "$SERVICE" 2>/dev/null | wc -l)" == 3 ]] &&
      [[ "$(docker service ls --filter name="$SERVICE" --format '{{.Replicas}}')" == 3/3 ]] &&
      curl -fs -m 2 "$LAB_EDGE_URL/accounts/10000" >/dev/null; then return 0; fi
    sleep 0.2
  done
  docker service ps --no-trunc "$SERVICE" >&2
  return 1
}
remove() {
  docker service rm "$SERVICE" >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 150; i++)); do
    [[ -z "$(docker ps -aq --filter label=com.docker.swarm.service.name=$SERVICE 2>/dev/null)" ]] && break
    sleep 0.2
  done
  sleep 2
}

# 100 req/s through the edge from 3 s before the command until 2 s after it returned (at most 45 s).
measure() { # NAME COMMAND...
  local name="$1"; shift
  rm -f "$WORK/stop"
  "$LOADGEN" -url "$LAB_EDGE_URL/accounts/10000" -rate 100 -duration 45s -bodies -stop-file "$WORK/stop" >"$WORK/load.json" &
  local lg=$!
  sleep 3
  local t0=$SECONDS started ended
  started="$(date +%s.%N)"
  "$@" >"$WORK/cmd.log" 2>&1 || say "$name: command failed: $(tail -n 3 "$WORK/cmd.log")"
  ended="$(date +%s.%N)"
  sleep 2
  touch "$WORK/stop"
  wait "$lg"
  printf '{"run":"%s","commandSeconds":%.1f,"load":%s}\n' "$name" "$(awk -v a="$started" -v b="$ended" 'BEGIN{print b-a}')" "$(tr -d '\n' <"$WORK/load.json")"
}

rm_create() { docker service rm "$SERVICE" >/dev/null && docker service create --quiet --name "$SERVICE" --replicas 3 \
  --endpoint-mode dnsrr --publish mode=host,target=6767,published=6767 "$V2" >/dev/null; }
update() { docker service update --quiet --image "$V2" "$SERVICE" >/dev/null; }

for ((r = 1; r <= ROUNDS; r++)); do
  say "round $r: A rm + create"
  remove; create "$V1"; wait_serving
  measure rm+create rm_create
  say "round $r: B service update (parallelism 1, stop-first, delay 1 s)"
  remove; create "$V1"; wait_serving
  measure update update
done
