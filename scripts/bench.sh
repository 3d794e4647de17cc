#!/usr/bin/env bash
# The flash-sale benchmark on this machine: builds the release server, starts it on a fresh
# embedded database (every commit on disk, rate limits off), and runs `boxoffice bench` against
# it with database access for the checks and pgbench. Not part of the tests: it measures.
#   scripts/bench.sh [bench options, e.g. --clients 200 --scenarios flash-sale,pgbench]
# Figures go to bench-results.json unless --out says otherwise; docs/PERFORMANCE.md explains them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BOXOFFICE_BINARY:-}" ]; then
  scripts/setup.sh
  printf '\033[1m==> %s\033[0m\n' "Building Box Office (release, with the benchmark)"
  # The load generator is the `bench` feature of the same binary; the site is not needed.
  LEPTOS_OUTPUT_NAME=boxoffice cargo build --release --features ssr,bench --bin boxoffice
fi
# Thousands of watchers need as many open connections, in the server and in the benchmark
# (10,000 live places in the waiting room: 10,000 in each, and more): raise the hard limit
# when we may (root), else take what it allows.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 65536 ]; then ulimit -Hn 65536 2>/dev/null || true; fi
ulimit -n "$(ulimit -Hn)"
# The waiting room's joins are limited per client address like sign-ups: off, as in a load test.
export BOXOFFICE_WAITING_ROOM_JOINS_PER_MINUTE=0
source scripts/fresh-server.sh
printf '\033[1m==> %s\033[0m\n' "Benchmarking $base"
BOXOFFICE_DATA_DIR="$data_dir" \
BOXOFFICE_BENCH_ADMIN_PASSWORD="$admin_password" \
  "$binary" bench --url "$base" --admin-email "$admin_email" "$@"
