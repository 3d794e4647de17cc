#!/usr/bin/env bash
# Faults in the middle of a sale. For each fault, on a cluster of its own (scripts/cluster.sh,
# on ports from BOXOFFICE_CHAOS_PORT, default 7600): a flash sale through HAProxy with
# `boxoffice bench` as the crowd, logging every answer it gets; as soon as bookings flow, one
# fault; then the database is checked against what clients were told (tests/chaos_checks.sql)
# and against the booking invariants (tests/invariants.sql). Prints a table of what clients
# saw; fails if any answered booking is lost, any seat is sold twice or any invariant breaks.
#   a  kill -9 of one Box Office instance (of three)
#   b  PostgreSQL crashes and restarts (one node: no standby to fail over to)
#   c  kill -9 of the primary node, Patroni and PostgreSQL together (failover to the standby)
#   d  the synchronous standby stops
# A quarter of the crowd's orders hold first and confirm after, and each customer walks away
# from its first hold: the checks see holds answered, confirmed, and run out.
#
#   scripts/chaos.sh [--short] [--faults a,b,c,d] [--clients N] [--seats N] [--report FILE] [--keep]
# --short: faults a and b with a smaller crowd (the README's test command runs this).
# --keep: leave each fault's stopped cluster (its logs, its database) and the crowd's answers
#   and report in the work folder, printed at the end, to look into a failure.
# BOXOFFICE_BENCH_BINARY: a `boxoffice` built with the bench feature (built when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

faults=a,b,c,d clients=400 seats=20000 report="" keep=""
while [ $# -gt 0 ]; do
  case $1 in
    --short) faults=a,b clients=200 seats=6000; shift ;;
    --faults) faults=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --seats) seats=$2; shift 2 ;;
    --report) report=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "chaos: unknown option $1" >&2; exit 2 ;;
  esac
done
port="${BOXOFFICE_CHAOS_PORT:-7600}"
hold_seconds=15

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

source scripts/bench-binary.sh
# The instances run the release server (target/release/boxoffice); cluster.sh builds it if missing.

work=$(mktemp -d "${TMPDIR:-/tmp}/boxoffice-chaos.XXXXXXXX")
chmod 755 "$work"
cluster() { BOXOFFICE_CLUSTER_DIR="$work/cluster" BOXOFFICE_CLUSTER_PORT="$port" scripts/cluster.sh "$@"; }
bench_pid=""
cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null
  cluster down --purge >/dev/null 2>&1 || true
  if [ -n "$keep" ]; then echo "chaos: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The crowd is one address and must not be limited; holds run out soon, so the checks can see
# that unconfirmed ones were let go.
export BOXOFFICE_CLUSTER_IP_RATE=0 BOXOFFICE_AUTH_RATE_PER_MINUTE=0 BOXOFFICE_LOGIN_RATE_PER_MINUTE=0 \
  BOXOFFICE_BOOKING_RATE_PER_SECOND=0 BOXOFFICE_EVENT_STREAMS_PER_IP=0 \
  BOXOFFICE_HOLD_SECONDS=$hold_seconds

describe() {
  case $1 in
    a) echo "kill -9 of one instance (of 3)" ;;
    b) echo "PostgreSQL crash and restart (one node)" ;;
    c) echo "kill -9 of the primary (failover)" ;;
    d) echo "the synchronous standby stops" ;;
  esac
}

inject() {
  case $1 in
    a) cluster kill-instance 2 ;;
    b) cluster crash-postgres ;;
    c) cluster kill-node "$(cluster primary)" ;;
    d) local primary; primary=$(cluster primary); cluster stop-node $((3 - primary)) ;;
  esac
}

rows=()
failed=()
run_fault() {
  local fault=$1 nodes=2 db answered expired lost doubles stall errors checks_ok=yes fault_at
  [ "$fault" = b ] && nodes=1
  step "Fault $fault: $(describe "$fault")"
  cluster up --nodes "$nodes" >"$work/$fault-up.log" 2>&1 || { cat "$work/$fault-up.log"; return 1; }
  # shellcheck disable=SC1091
  source "$work/cluster/secrets.env"
  db="postgresql://boxoffice:$app_password@127.0.0.1:$((port + 10))/boxoffice"

  DATABASE_URL="$db" BOXOFFICE_BENCH_ADMIN_PASSWORD="$admin_password" RUST_LOG=warn \
    "$bench_binary" bench --url "http://127.0.0.1:$port" --admin-email "$admin_email" \
    --scenarios flash-sale --clients "$clients" --seats "$seats" --hold-first-percent 25 \
    --answers-log "$work/$fault.answers" --out "$work/$fault.json" >"$work/$fault-bench.log" 2>&1 &
  bench_pid=$!
  # The fault comes once the sale is under way.
  until [ "$(psql -X -At -d "$db" -c "SELECT count(*) > 0 FROM bookings" 2>/dev/null)" = t ]; do
    kill -0 "$bench_pid" 2>/dev/null || { cat "$work/$fault-bench.log"; echo "the crowd stopped before the sale began" >&2; return 1; }
    sleep 0.2
  done
  sleep 0.5
  fault_at=$(date +%s.%N)
  inject "$fault"
  echo "   fault injected; the crowd goes on"
  local bench_status=0
  wait "$bench_pid" || bench_status=$?
  bench_pid=""
  tail -30 "$work/$fault-bench.log"
  [ "$bench_status" = 0 ] || { echo "the crowd's run failed ($bench_status)"; checks_ok=no; }

  # Holds answered but never confirmed run out; the expiry worker must still let them go.
  sleep $((hold_seconds + 6))
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -c "CREATE TABLE chaos_answers (line jsonb NOT NULL)" \
    -c "\\copy chaos_answers (line) FROM '$work/$fault.answers' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "
    ALTER TABLE chaos_answers
      ADD COLUMN booking_id bigint GENERATED ALWAYS AS ((line->>'booking_id')::bigint) STORED,
      ADD COLUMN status text GENERATED ALWAYS AS (line->>'status') STORED,
      ADD COLUMN at timestamptz, ADD COLUMN show_id bigint, ADD COLUMN seats int[]"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "
    UPDATE chaos_answers SET at = (line->>'at')::timestamptz, show_id = (line->>'show_id')::bigint,
      seats = (SELECT array_agg(seat::int ORDER BY seat::int) FROM jsonb_array_elements_text(line->'seats') AS seat)"
  echo "   checks against what clients were answered, then the booking invariants:"
  scripts/check-invariants.py tests/chaos_checks.sql "$db" | sed 's/^/   /' || checks_ok=no
  scripts/check-invariants.py tests/invariants.sql "$db" | tail -1 | sed 's/^/   /' || checks_ok=no

  read -r answered expired lost doubles stall <<<"$(psql -X -At -F ' ' -d "$db" -c "
    WITH facts AS (SELECT DISTINCT ON (booking_id) booking_id, status, show_id, seats FROM chaos_answers
                   ORDER BY booking_id, status = 'CONFIRMED' DESC),
         walked_away AS (SELECT f.seats FROM facts f JOIN bookings b ON b.id = f.booking_id
                         WHERE f.status = 'HELD' AND b.status = 'EXPIRED'),
         sold AS (SELECT at, sum(cardinality(seats)) OVER (ORDER BY at) AS seats FROM chaos_answers
                  WHERE status = 'CONFIRMED'),
         -- Once only the seats of walked-away holds are left, the crowd waits for them to run
         -- out: a pause of the sale, not of the fault.
         rest_sold AS (SELECT min(at) AS at FROM sold
                       WHERE seats >= (SELECT count(*) FROM seats WHERE show_id IN (SELECT show_id FROM facts))
                                       - (SELECT coalesce(sum(cardinality(seats)), 0) FROM walked_away)),
         gaps AS (SELECT at - lag(at) OVER (ORDER BY at) AS gap FROM chaos_answers
                  WHERE at >= to_timestamp($fault_at) - interval '1 second'
                    AND at <= coalesce((SELECT at FROM rest_sold), 'infinity'))
    SELECT (SELECT count(*) FROM facts),
           (SELECT count(*) FROM walked_away),
           (SELECT count(*) FROM facts f LEFT JOIN bookings b ON b.id = f.booking_id
             WHERE b.id IS NULL OR (f.status = 'CONFIRMED' AND b.status <> 'CONFIRMED')
                OR b.show_id <> f.show_id
                OR f.seats <> (SELECT array_agg(seat ORDER BY seat) FROM unnest(b.seat_ids) AS seat)),
           (SELECT count(*) FROM (SELECT 1 FROM bookings b, unnest(b.seat_ids) s
             WHERE b.status = 'CONFIRMED' GROUP BY b.show_id, s HAVING count(*) > 1) d),
           (SELECT coalesce(round(extract(epoch FROM max(gap))::numeric, 1), 0) FROM gaps)")"
  errors=$(python3 - "$work/$fault.json" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("no report"); sys.exit()
sale = report.get("flash_sale") or {}
errors = sale.get("errors") or {}
def flat(prefix, value):
    if isinstance(value, dict):
        for key, inner in sorted(value.items()):
            yield from flat(key if prefix.startswith("status") else f"{prefix} {key}".strip(), inner)
    elif value:
        yield f"{prefix} ×{value}"
print(", ".join(flat("", errors)) or "none")
PY
)
  rows+=("| $fault | $(describe "$fault") | $answered | $expired | $lost | $doubles | $errors | $stall |")
  { [ "$checks_ok" = yes ] && [ "$lost" = 0 ] && [ "$doubles" = 0 ]; } || failed+=("$fault")
  take_down "$fault"
}

# Stops the fault's cluster; with --keep its folder stays, as cluster-<fault>.
take_down() {
  if [ -n "$keep" ]; then
    cluster down >/dev/null 2>&1 || true
    [ -d "$work/cluster" ] && mv "$work/cluster" "$work/cluster-$1"
  else
    cluster down --purge >/dev/null 2>&1 || true
  fi
}

IFS=, read -r -a fault_list <<<"$faults"
for fault in "${fault_list[@]}"; do
  case $fault in a|b|c|d) ;; *) echo "chaos: unknown fault $fault (a, b, c or d)" >&2; exit 2 ;; esac
  # A fault that could not run leaves its cluster up: take it down, so the next starts clean.
  run_fault "$fault" || { failed+=("$fault (did not run)"); take_down "$fault"; }
done

table="| Fault | What | Bookings answered | Of them, holds left to run out (now EXPIRED) | Lost | Seats sold twice | Errors clients saw | Longest pause in answers after the fault, until only walked-away holds' seats were left (s) |
|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do table+=$'\n'"$row"; done
printf '\n%s\n' "$table"
[ -n "$report" ] && printf '%s\n' "$table" >"$report"
if [ ${#failed[@]} -gt 0 ]; then
  echo "chaos: FAILED for fault(s) ${failed[*]}" >&2
  exit 1
fi
echo "chaos: every answered booking kept, no seat sold twice"
