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

echo "== Go tests (nx run-many -t test for the Go projects)"
$NX run-many -t test --exclude=nx-swarm --outputStyle=stream
# The integration tests' Go fixtures are no Nx projects (the plugin excludes test/fixtures/**) and
# stand alone: not in the root go.work, so they build with GOWORK=off.
for mod in $(find packages/nx-swarm/test/fixtures -name go.mod | sort); do
  dir=$(dirname "$mod")
  if compgen -G "$dir/*_test.go" >/dev/null; then
    echo "go test ./... in $dir"
    (cd "$dir" && GOWORK=off go test -count=1 ./...)
  fi
done

echo "== lint: eslint (Nx's flat configs) and prettier --check (npm run lint; npm run format fixes the style)"
npm run --silent lint

echo "== plugin unit tests (no daemon)"
# jest through nx:run-commands; --skip-nx-cache: a cache hit would leave no report.
$NX run nx-swarm:test --outputStyle=stream --skip-nx-cache --json --outputFile="$PWD/$RESULTS/nx-swarm-unit.json"

echo "== executor docs match their schema.json"
node --test tools/gen-executor-docs.test.mjs
node tools/gen-executor-docs.mjs --check

echo "== the compiled-plugin install (tools/plugin) and the closing summary"
node --test tools/plugin/install.test.mjs
node --test tools/test-summary.test.mjs

echo "== publishable package (nx run nx-swarm:build)"
$NX run nx-swarm:build --outputStyle=stream

echo "== integration tests (real Docker Engine, swarm, registry, Go), two lanes at once:"
echo "   integration-host (this machine's engine) and integration-lab (the lab's engines; jest.lanes.js)"
# Each lane writes its jest report to $RESULTS (the outputFile in project.json).
$NX run nx-swarm:integration --outputStyle=stream

node tools/test-summary.mjs "$RESULTS" nx-swarm-unit.json nx-swarm-integration.json nx-swarm-lab.json
