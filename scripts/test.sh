#!/usr/bin/env bash
# Installs what is missing and runs every test: unit, PostgreSQL integration, REST API fuzzing
# (schemathesis), end-to-end, and the short chaos run on a cluster (scripts/chaos.sh --short).
# Integration tests use DATABASE_URL when set, else a private PostgreSQL cluster of their own;
# the end-to-end tests run the release server on the embedded default in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup.sh --for-tests

step "Unit and integration tests"
# The release profile shares compiled dependencies with the release build below. leptos reads
# LEPTOS_OUTPUT_NAME at compile time and cargo-leptos sets it (output-name in Cargo.toml): set
# the same here, or each step would rebuild the leptos crates the other one built.
# `bench` too: the load generator's own unit tests run here.
LEPTOS_OUTPUT_NAME=boxoffice cargo test --release --features ssr,bench --tests

step "The load generator for the chaos run (the library above, linked with the bench feature)"
source scripts/bench-binary.sh
export BOXOFFICE_BENCH_BINARY="$bench_binary"

step "Release build (server and WASM)"
cargo leptos build --release --precompress

step "REST API fuzzing (schemathesis against the OpenAPI document of a live server)"
scripts/api-fuzz.sh

step "End-to-end tests (Playwright, Chromium)"
(cd end2end && npx playwright test)

step "Chaos: an instance killed, then PostgreSQL crashed, in the middle of a sale (a cluster of its own)"
scripts/chaos.sh --short
