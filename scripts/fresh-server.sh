# Sourced by scripts that need a live server of their own (api-fuzz.sh, bench.sh): starts the
# release server on a free port with a fresh embedded database and the rate limits off (as in a
# load test), waits until it is ready, and reads the seeded admin's login from its first start.
# Sets: base (the URL), admin_email, admin_password, data_dir, work (a scratch folder). The
# server stops and both folders go when the calling script exits.

binary="${BOXOFFICE_BINARY:-${CARGO_TARGET_DIR:-target}/release/boxoffice}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
work=$(mktemp -d)
# A name nobody can guess or plant beforehand; readable by the postgres user the embedded
# cluster runs as when we are root (it refuses a folder that others can write).
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/boxoffice-fresh-server.XXXXXXXX")
chmod 755 "$data_dir"
server_pid=""

stop_fresh_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work" "$data_dir"
}
trap stop_fresh_server EXIT

env -u DATABASE_URL \
  BOXOFFICE_DATA_DIR="$data_dir" \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  BOXOFFICE_AUTH_RATE_PER_MINUTE=0 \
  BOXOFFICE_LOGIN_RATE_PER_MINUTE=0 \
  BOXOFFICE_BOOKING_RATE_PER_SECOND=0 \
  BOXOFFICE_EVENT_STREAMS_PER_IP=0 \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$binary" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server stopped" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/server.log"; echo "the server never got ready" >&2; exit 1; }

# The first start, its output not a terminal, leaves the seeded admin's login in a 0600 file.
{ read -r admin_email; read -r admin_password; } <"$data_dir/admin-login.txt" || true
[ -n "${admin_password:-}" ] || { cat "$work/server.log"; echo "the server left no admin login" >&2; exit 1; }
[ "$(stat -c %a "$data_dir/admin-login.txt")" = 600 ] || { echo "the admin login file is readable by others" >&2; exit 1; }
