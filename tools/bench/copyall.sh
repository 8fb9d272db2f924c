#!/usr/bin/env bash
# The tutorial's copyall.sh (Go microservices, part 5), kept as the benchmark baseline.
# Adapted only where this machine forces it:
#   - CGO_ENABLED=0 static build, and our FROM scratch Dockerfile (no image can be pulled here;
#     the tutorial used iron/base);
#   - a host-mode published port (this kernel has no IPVS, so the ingress mesh does not answer).
# Everything else is as the tutorial does it: build everything, docker build, service rm, service create.
set -e
cd "$(dirname "$0")/../.."
export GOOS=linux GOARCH=amd64 CGO_ENABLED=0 GOTOOLCHAIN=local
SERVICE="${SERVICE:-accountservice}"
PORT="${PORT:-6767}"

cd accountservice; go build -o accountservice-linux-amd64; echo built `pwd`; cd ..
export GOOS=linux
docker build -t someprefix/accountservice accountservice/
docker service rm "$SERVICE" || true
docker service create --name="$SERVICE" --replicas=1 --network=my_network \
  --publish "mode=host,target=6767,published=$PORT" someprefix/accountservice
