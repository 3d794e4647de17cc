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
# Thousands of watchers need as many open connections, in the server and in the benchmark.
ulimit -n "$(ulimit -Hn)"
source scripts/fresh-server.sh
printf '\033[1m==> %s\033[0m\n' "Benchmarking $base"
BOXOFFICE_DATA_DIR="$data_dir" \
BOXOFFICE_BENCH_ADMIN_PASSWORD="$admin_password" \
  "$binary" bench --url "$base" --admin-email "$admin_email" "$@"
