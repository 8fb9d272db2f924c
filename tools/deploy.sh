#!/usr/bin/env bash
# npm run deploy: bootstrap has run; deploy accountservice through the Nx task graph
# (build → image → deploy) and say where to curl.
#
# Engines whose kernel has IPVS use the defaults real users expect (ingress routing mesh, VIP).
# Where the local kernel has no IPVS the ingress mesh cannot answer, so this picks the `host`
# configuration (host-mode published port, dnsrr endpoint) and says so. Force either with
# NX_SWARM_CONFIGURATION=host|default.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

has_ipvs() {
  [[ -e /proc/net/ip_vs || -d /sys/module/ip_vs ]] && return 0
  local mods="/lib/modules/$(uname -r)"
  [[ -d "$mods" ]] && { grep -qs 'ip_vs\.ko' "$mods/modules.builtin" || find "$mods" -name 'ip_vs.ko*' -print -quit | grep -q .; }
}

config="${NX_SWARM_CONFIGURATION:-}"
if [[ -z "$config" ]]; then
  if [[ -z "${DOCKER_HOST:-}" ]] && ! has_ipvs; then
    config=host
    echo "deploy: this kernel has no IPVS, so the swarm ingress mesh and VIPs cannot work here;"
    echo "deploy: using --configuration=host (port 6767 published in host mode, dnsrr endpoint)."
  else
    config=default
  fi
fi

args=(run accountservice:deploy)
[[ "$config" != default ]] && args+=("--configuration=$config")
echo "deploy: nx ${args[*]}"
node_modules/.bin/nx "${args[@]}"

echo
echo "accountservice is deployed. Try:"
echo "  curl http://127.0.0.1:6767/accounts/10000"
