# Sourced by scripts that run the load generator against a cluster (chaos.sh, cluster-bench.sh):
# sets bench_binary to a `boxoffice` built with the bench feature, building it when
# BOXOFFICE_BENCH_BINARY does not name one.
bench_binary="${BOXOFFICE_BENCH_BINARY:-}"
if [ -z "$bench_binary" ]; then
  printf '\033[1m==> %s\033[0m\n' "Building the load generator (release, bench feature)"
  LEPTOS_OUTPUT_NAME=boxoffice cargo build --release --features ssr,bench --bin boxoffice
  # Its own name: the cargo-leptos build puts the plain server back at target/release/boxoffice.
  bench_binary=target/release/boxoffice-bench
  cp target/release/boxoffice "$bench_binary"
fi
