#!/usr/bin/env bash
# Property-based tests of the REST API with schemathesis: starts the release server on a free
# port with a fresh embedded database (rate limits off) and runs schemathesis against
# /api/v1/openapi.json twice: signed in as the seeded admin, then as a customer registered
# first. Its stateful phase follows the document's links (a show's id to a hold, a hold's id
# to confirm, cancel and read it), so confirm and cancel are fuzzed on real bookings. Fails on
# any 5xx, on any answer that does not match the document (status, content type, headers,
# body schema), and when invalid input is accepted. Then runs every check of
# tests/invariants.sql against the fuzzed database and fails on any row one returns.
# The seed is new each run and printed first; API_FUZZ_SEED=<seed> replays a run.
# API_FUZZ_INVARIANTS names another file of checks.
# Needs target/release/boxoffice, psql, and the venv that setup.sh --for-tests makes.
#   scripts/api-fuzz.sh [extra schemathesis options]
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${BOXOFFICE_VENV:-$HOME/.cache/boxoffice/venv}"
examples="${API_FUZZ_EXAMPLES:-25}"
seed="${API_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
invariants="${API_FUZZ_INVARIANTS:-tests/invariants.sql}"
[ -s "$invariants" ] || { echo "no invariants to check: $invariants is missing or empty" >&2; exit 1; }
echo "schemathesis seed: $seed (replay this run with API_FUZZ_SEED=$seed)"

source scripts/fresh-server.sh

# Signs in with POST $1 and body $2; prints the session cookie.
session_from() {
  local jar="$work/cookies-$RANDOM"
  curl -fsS -c "$jar" -H 'content-type: application/json' -d "$2" "$base$1" >/dev/null
  awk '$6 == "boxoffice_session" { print $7 }' "$jar"
}
admin_session=$(session_from /api/v1/auth/login \
  "$(jq -n --arg email "$admin_email" --arg password "$admin_password" '{email: $email, password: $password}')")
[ -n "$admin_session" ] || { echo "could not sign in as the admin" >&2; exit 1; }
customer_session=$(session_from /api/v1/auth/register \
  "$(jq -n --arg email "fuzz-customer-$seed@example.com" '{email: $email, name: "Fuzz Customer", password: "fuzzing customer password"}')")
[ -n "$customer_session" ] || { echo "could not register a customer" >&2; exit 1; }

# Logging out would end the session the rest of the run uses, and a seat feed is an endless
# stream (as is a waiting-room place stream) that no request timeout can tell from a hang: the
# integration tests cover them.
# positive_data_acceptance is off: a request can match the schema and still be refused
# by a business rule (seats taken, a start time in the past), which is right.
fuzz() {
  local who=$1 session=$2
  shift 2
  printf '\n==> schemathesis as the %s (seed %s)\n' "$who" "$seed"
  BOXOFFICE_FUZZ_SESSION="$session" \
  "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/v1/openapi.json" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --exclude-path /api/v1/auth/logout \
    --exclude-path '/api/v1/shows/{id}/events' \
    --exclude-path '/api/v1/shows/{id}/waiting-room/events' \
    --max-examples "$examples" \
    --seed "$seed" \
    --request-timeout 10 \
    --no-color \
    "$@"
}

failed=()
# The admin can call every endpoint (and creates shows the customer then books).
fuzz admin "$admin_session" "$@" || failed+=("schemathesis as the admin")
# A customer: admin-only operations refused, and holds, confirms and cancels of its own.
fuzz customer "$customer_session" "$@" || failed+=("schemathesis as the customer")

# What the fuzzing did to real bookings (through the links from shows to holds to confirm and cancel).
psql -X -q -At -h "$data_dir/run" -p 5432 -U postgres -d boxoffice -c \
  "SELECT format('bookings made: %s held, %s booked at once; %s holds confirmed, %s bookings cancelled',
     count(*) FILTER (WHERE from_status IS NULL AND to_status = 'PENDING'),
     count(*) FILTER (WHERE from_status IS NULL AND to_status = 'CONFIRMED'),
     count(*) FILTER (WHERE from_status = 'PENDING' AND to_status = 'CONFIRMED'),
     count(*) FILTER (WHERE to_status = 'CANCELLED')) FROM booking_events" || true

# Whatever the fuzzing did, the database must still be consistent. Each check in the file is
# a line "-- invariant: <description>" and one SELECT, ending with ";", returning the rows that
# break it.
printf '\n==> invariants (%s) on the fuzzed database\n' "$invariants"
scripts/check-invariants.py "$invariants" "host=$data_dir/run port=5432 user=postgres dbname=boxoffice" \
  || failed+=("the invariants")

if [ ${#failed[@]} -gt 0 ]; then
  printf '\nFAILED: %s. Replay with API_FUZZ_SEED=%s scripts/api-fuzz.sh\n' "$(IFS=,; echo "${failed[*]}")" "$seed" >&2
  exit 1
fi
