#!/usr/bin/env bash
# Installs what is missing, builds Box Office in release mode and runs it.
# Without DATABASE_URL it starts its own PostgreSQL (the embedded default). Arguments are passed
# to the server: scripts/run.sh --help lists every setting.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
printf '\033[1m==> %s\033[0m\n' "Building Box Office (release)"
cargo leptos build --release --precompress
exec ./target/release/boxoffice "$@"
