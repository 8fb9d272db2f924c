#!/usr/bin/env bash
# Every test: unit (jest, no daemon), Go tests, the plugin's publishable build, then the
# integration suites against the real engine, swarm, registry and Go toolchain.
# Run through `npm test`, which bootstraps first.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
NX=node_modules/.bin/nx
RESULTS=tmp/test-results
rm -rf "$RESULTS" && mkdir -p "$RESULTS"

echo "== unit tests and go test (nx run-many -t test)"
$NX run-many -t test --outputStyle=stream

echo "== publishable package (nx run nx-swarm:build)"
$NX run nx-swarm:build --outputStyle=stream

echo "== integration tests (real Docker Engine, swarm, registry, Go)"
$NX run nx-swarm:integration --outputStyle=stream --skip-nx-cache

node tools/test-summary.mjs "$RESULTS"
