#!/usr/bin/env bash
# Installs what hindsight and its tests need on a fresh Debian machine with Node 20 and npm:
# the system packages (redis-server, postgresql, nginx, chromium), the npm packages, the helm
# binary, and the build. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v prometheus >/dev/null || need+=(prometheus)
# The exporters the chart runs as sidecars (metrics.*), which the lab runs as these binaries.
for exporter in prometheus-redis-exporter prometheus-postgres-exporter prometheus-nginx-exporter; do
  command -v "$exporter" >/dev/null || need+=("$exporter")
done
if [ "${HINDSIGHT_SKIP_BROWSER:-}" != 1 ]; then
  command -v chromium >/dev/null || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${need[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/install-helm.sh

echo "setup: building"
npx tsc -b
chmod +x packages/cli/dist/bin.js
# `npx hindsight`: npm links the committed bin shim at install; a node_modules installed before
# the shim existed lacks the link, made here as npm makes it.
if [ ! -e node_modules/.bin/hindsight ]; then
  ln -s ../hindsight/bin/hindsight.js node_modules/.bin/hindsight
fi
npm run --silent build:web --if-present
