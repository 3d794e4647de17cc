#!/usr/bin/env bash
# Installs what building and running Box Office needs, skipping whatever is already there.
#   scripts/setup.sh              for running the app
#   scripts/setup.sh --for-tests  also Chromium for the end-to-end tests, and the cluster's packages
#   scripts/setup.sh --for-cluster  also what scripts/cluster.sh runs: Patroni, etcd, HAProxy
# Everything comes from Debian, crates.io, npm or the Rust toolchain distribution.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
for_tests="" for_cluster=""
case "${1:-}" in
  --for-tests) for_tests=1 for_cluster=1 ;; # the short chaos run starts a cluster
  --for-cluster) for_cluster=1 ;;
esac

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "Installing needs root: $*" >&2; exit 1
  fi
}

# Mirrors the search in src/server/embedded_pg.rs: initdb and postgres side by side.
postgres_binaries_found() {
  local dir
  local IFS=:
  for dir in $PATH $(pg_config --bindir 2>/dev/null || true) /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && return 0
  done
  return 1
}

# --- Debian packages -------------------------------------------------------------------------
packages=()
command -v cc >/dev/null || packages+=(build-essential)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
# The postgresql package brings the server binaries and the unprivileged `postgres` user that
# the embedded database runs as when we are root.
if ! postgres_binaries_found || { [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; }; then
  packages+=(postgresql)
fi
[ -n "$for_tests" ] && [ ! -x /usr/bin/chromium ] && packages+=(chromium)
# schemathesis runs in a Python venv; curl and jq drive the API in scripts/api-fuzz.sh.
if [ -n "$for_tests" ]; then
  python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3 python3-venv)
  command -v curl >/dev/null || packages+=(curl)
  command -v jq >/dev/null || packages+=(jq)
fi
if [ -n "$for_cluster" ]; then
  command -v patroni >/dev/null || packages+=(patroni)
  command -v etcd >/dev/null || packages+=(etcd-server)
  command -v haproxy >/dev/null || packages+=(haproxy)
  command -v curl >/dev/null || packages+=(curl)
fi
if [ ${#packages[@]} -gt 0 ]; then
  step "Installing Debian packages: ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

# --- Rust toolchain (pinned in rust-toolchain.toml, with the wasm32 target) ------------------
command -v rustup >/dev/null || { echo "rustup is required: see https://rustup.rs" >&2; exit 1; }
channel=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup target list --installed --toolchain "$channel" 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "Installing Rust $channel with the wasm32 target"
  rustup toolchain install "$channel" --profile minimal \
    --target wasm32-unknown-unknown --component rustfmt --component clippy
fi

# --- cargo-leptos (pinned) ---------------------------------------------------------------------
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  step "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes, once)"
  # Thin LTO settings: the same tool, built in two thirds of the time and half the memory.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# --- wasm-bindgen CLI at exactly the version in Cargo.lock --------------------------------------
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wasm_bindgen_version\$"; then
  step "Installing wasm-bindgen-cli $wasm_bindgen_version"
  # Not --locked: its lockfile can name crates newer than the registry mirror has.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

# --- npm tools: tailwind, wasm-opt (binaryen), Playwright's test runner -----------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "Installing npm packages"
  # `npm install`, not `npm ci`: npm records the platform-specific optional tailwind binaries
  # without versions, which `npm ci` rejects as out of sync; install still follows the lockfile.
  npm install --no-audit --no-fund --loglevel=error
fi

# --- schemathesis (PyPI, pinned) in a venv, for the API fuzzing step of the tests --------------
SCHEMATHESIS_VERSION=4.32.5
venv="${BOXOFFICE_VENV:-$HOME/.cache/boxoffice/venv}"
if [ -n "$for_tests" ] && ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  step "Installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
