#!/usr/bin/env bash
# The flash-sale benchmark through HAProxy against one instance and against three, side by side
# in one run, on one cluster (scripts/cluster.sh: two PostgreSQL nodes, synchronous
# replication). Not part of the tests: it measures. Figures in docs/PERFORMANCE.md.
#   scripts/cluster-bench.sh [bench options, e.g. --clients 1000 --seats 10000]
# Writes cluster-bench-1.json and cluster-bench-3.json unless BOXOFFICE_CLUSTER_BENCH_OUT names
# another prefix. Uses its own cluster on ports from BOXOFFICE_CHAOS_PORT (default 7600).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-binary.sh
port="${BOXOFFICE_CHAOS_PORT:-7600}"
out="${BOXOFFICE_CLUSTER_BENCH_OUT:-cluster-bench}"
work=$(mktemp -d "${TMPDIR:-/tmp}/boxoffice-cluster-bench.XXXXXXXX")
chmod 755 "$work"
cluster() { BOXOFFICE_CLUSTER_DIR="$work/cluster" BOXOFFICE_CLUSTER_PORT="$port" scripts/cluster.sh "$@"; }
trap 'cluster down --purge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

# A load test: the crowd is one address, so every limit is off.
export BOXOFFICE_CLUSTER_IP_RATE=0 BOXOFFICE_AUTH_RATE_PER_MINUTE=0 BOXOFFICE_LOGIN_RATE_PER_MINUTE=0 \
  BOXOFFICE_BOOKING_RATE_PER_SECOND=0 BOXOFFICE_EVENT_STREAMS_PER_IP=0
cluster up --nodes 2 --instances 3
# shellcheck disable=SC1091
source "$work/cluster/secrets.env"
for instances in 1 3; do
  # HAProxy's port+5 reaches instance 1 alone; its main port all three.
  url="http://127.0.0.1:$port"; [ "$instances" = 1 ] && url="http://127.0.0.1:$((port + 5))"
  printf '\033[1m==> %s\033[0m\n' "Flash sale through HAProxy, $instances instance(s)"
  # HAProxy marks a backend up after two good checks: wait for this front's own.
  for _ in $(seq 60); do curl -fsS -o /dev/null "$url/readyz" && break; sleep 0.5; done
  DATABASE_URL="postgresql://boxoffice:$app_password@127.0.0.1:$((port + 10))/boxoffice" \
  BOXOFFICE_BENCH_ADMIN_PASSWORD="$admin_password" \
    "$bench_binary" bench --url "$url" --admin-email "$admin_email" --scenarios flash-sale \
    --out "$out-$instances.json" "$@"
done
