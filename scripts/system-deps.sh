#!/usr/bin/env bash
# Install the Debian packages the tests start for real: PostgreSQL and Redis (production
# topology), the Prometheus Pushgateway (metrics) and Chromium (browser tests).
# Idempotent: installs only what is missing. Needs root (CI and these machines run as root);
# without root it prints what is missing and leaves it to you.
set -euo pipefail

declare -A BINARY=(
  [postgresql]=/usr/lib/postgresql/15/bin/postgres
  [redis-server]=/usr/bin/redis-server
  [prometheus-pushgateway]=/usr/bin/prometheus-pushgateway
  [chromium]=/usr/bin/chromium
)
missing=()
for package in "${!BINARY[@]}"; do
  [[ -x "${BINARY[$package]}" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "system-deps: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts packaged services on install; the tests start their own on loopback ports.
for service in postgresql redis-server prometheus-pushgateway; do
  (service "$service" stop || true) >/dev/null 2>&1
done
