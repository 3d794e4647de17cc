#!/usr/bin/env bash
# Property-based tests of the REST API with schemathesis: starts the release server on a free
# port with a fresh embedded database (rate limits off), signs in as the seeded admin, and
# runs schemathesis against /api/v1/openapi.json. Fails on any 5xx and on any answer that
# does not match the document (status, content type, headers, body schema), and when invalid
# input is accepted. Needs target/release/boxoffice and the venv that setup.sh --for-tests makes.
#   scripts/api-fuzz.sh [extra schemathesis options]
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${BOXOFFICE_VENV:-$HOME/.cache/boxoffice/venv}"
binary="${BOXOFFICE_BINARY:-${CARGO_TARGET_DIR:-target}/release/boxoffice}"
examples="${API_FUZZ_EXAMPLES:-25}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
work=$(mktemp -d)
data_dir="${TMPDIR:-/tmp}/boxoffice-api-fuzz-$$"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work" "$data_dir"
}
trap cleanup EXIT

# The embedded default (no DATABASE_URL) in a data folder of its own; limits off, as in a
# load test, so the fuzzer is not throttled.
env -u DATABASE_URL \
  BOXOFFICE_DATA_DIR="$data_dir" \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  BOXOFFICE_AUTH_RATE_PER_MINUTE=0 \
  BOXOFFICE_LOGIN_RATE_PER_MINUTE=0 \
  BOXOFFICE_BOOKING_RATE_PER_SECOND=0 \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$binary" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server stopped" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/server.log"; echo "the server never got ready" >&2; exit 1; }

# The first start prints the seeded admin's password once; an admin can call every endpoint.
credentials=$(sed -n 's/^Admin login (shown once): \(.*\) \/ \(.*\)$/\1 \2/p' "$work/server.log")
read -r email password <<<"$credentials"
login=$(jq -n --arg email "$email" --arg password "$password" '{email: $email, password: $password}')
curl -fsS -c "$work/cookies" -H 'content-type: application/json' -d "$login" "$base/api/v1/auth/login" >/dev/null
session=$(awk '$6 == "boxoffice_session" { print $7 }' "$work/cookies")
[ -n "$session" ] || { echo "could not sign in as the admin" >&2; exit 1; }

# Logging out would end the session the rest of the run uses: the integration tests cover it.
# positive_data_acceptance is off: a request can match the schema and still be refused
# by a business rule (seats taken, a start time in the past), which is right.
BOXOFFICE_FUZZ_SESSION="$session" \
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/v1/openapi.json" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --exclude-path /api/v1/auth/logout \
  --max-examples "$examples" \
  --seed "${API_FUZZ_SEED:-20261101}" \
  --request-timeout 10 \
  --no-color \
  "$@"
