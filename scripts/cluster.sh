#!/usr/bin/env bash
# Box Office as a cluster on this one machine, on loopback ports, from Debian packages only:
# etcd, two PostgreSQL nodes run by Patroni (streaming replication, synchronous, automatic
# failover), three Box Office instances (the release build) and HAProxy in front of both the
# instances and the database. docs/OPERATIONS.md explains the choices.
#
#   scripts/cluster.sh up [--nodes 1|2] [--instances 1-5]   start it (default: 2 nodes, 3 instances)
#   scripts/cluster.sh status                               primary, replication lag, instances
#   scripts/cluster.sh down [--purge]                       stop it (--purge: delete its data too)
# Faults, for scripts/chaos.sh and for trying by hand:
#   scripts/cluster.sh kill-instance N | start-instance N   kill -9 / start Box Office instance N
#   scripts/cluster.sh kill-node N | stop-node N | start-node N
#                                  kill -9 / stop / start PostgreSQL node N and its Patroni
#   scripts/cluster.sh crash-postgres                       kill -9 the primary's postmaster (Patroni restarts it)
#   scripts/cluster.sh primary                              prints the primary node's number
#
# Settings (environment): BOXOFFICE_CLUSTER_DIR (its folder, default /var/tmp/boxoffice-cluster-$UID),
# BOXOFFICE_CLUSTER_PORT (first of its ports, default 7400; the layout is below),
# BOXOFFICE_BINARY (default target/release/boxoffice, built when missing),
# BOXOFFICE_CLUSTER_IP_RATE (requests per 10 s one client address may make through HAProxy,
# across all instances; 0 = no limit; default 1000). Any other BOXOFFICE_* variable set when
# `up` runs reaches the instances (e.g. the app's own rate limits).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

dir="${BOXOFFICE_CLUSTER_DIR:-/var/tmp/boxoffice-cluster-$(id -u)}"
base="${BOXOFFICE_CLUSTER_PORT:-7400}"
binary="${BOXOFFICE_BINARY:-$repo/target/release/boxoffice}"
ip_rate="${BOXOFFICE_CLUSTER_IP_RATE:-1000}"
site_root="${LEPTOS_SITE_ROOT:-$repo/target/site}"

# The port layout, from the first port B:
#   B        HAProxy: Box Office, every instance           B+5   HAProxy: instance 1 alone (benchmarks)
#   B+1..5   Box Office instances                          B+10  HAProxy: PostgreSQL primary
#   B+11     HAProxy: PostgreSQL standby (reads)           B+21.. Patroni REST API of node 1, 2
#   B+31..   PostgreSQL node 1, 2                          B+41.. metrics of instance 1..5
#   B+50     etcd clients, B+51 etcd peers                 B+99  HAProxy statistics page
public_port=$base
single_port=$((base + 5))
primary_port=$((base + 10))
standby_port=$((base + 11))
etcd_port=$((base + 50))
stats_port=$((base + 99))
instance_port() { echo $((base + $1)); }
metrics_port() { echo $((base + 40 + $1)); }
patroni_port() { echo $((base + 20 + $1)); }
postgres_port() { echo $((base + 30 + $1)); }

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "cluster: $*" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, the database side runs as the postgres user.
if [ "$(id -u)" = 0 ]; then
  db_user=postgres
  as_db_user=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$dir")
else
  db_user=$(id -un)
  as_db_user=(env)
fi

pid_of() { cat "$dir/run/$1.pid" 2>/dev/null || true; }
running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
# Starts a long-running process in its own session (it outlives this script), logging to
# $dir/logs/<name>.log, and records its pid.
launch() {
  local name=$1; shift
  setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/run/$name.pid"
}
# Waits up to $2 seconds for a command to succeed.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.25
  done
  [ -n "$what" ] && echo "   $what"
  return 0
}
http_ok() { curl -fs -m 2 -o /dev/null "$1"; }
stop_process() {
  local name=$1 signal=${2:-TERM} pid
  pid=$(pid_of "$name")
  [ -n "$pid" ] || return 0
  kill -"$signal" -- "-$pid" 2>/dev/null || kill -"$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$dir/run/$name.pid"
}

secrets() {
  [ -f "$dir/secrets.env" ] || die "no cluster in $dir (run: scripts/cluster.sh up)"
  # shellcheck disable=SC1091
  source "$dir/secrets.env"
}
# psql as the superuser through HAProxy's primary port (or a node's own port).
psql_su() {
  local port=${PSQL_PORT:-$primary_port}
  PGPASSWORD="$superuser_password" PGCONNECT_TIMEOUT=3 psql -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# --- PostgreSQL under Patroni ------------------------------------------------------------------
write_patroni_config() {
  local n=$1 nodes=$2 node_dir="$dir/node$1" sync=true
  [ "$nodes" = 1 ] && sync=false
  cat >"$node_dir/patroni.yml" <<EOF
scope: boxoffice
name: node$n
restapi:
  listen: 127.0.0.1:$(patroni_port "$n")
  connect_address: 127.0.0.1:$(patroni_port "$n")
etcd3:
  hosts: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    # A lost primary is replaced about ttl seconds after its last heartbeat.
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    # Commits wait for the synchronous standby, and only it may be promoted: a booking answered
    # 201 is on both nodes. Not strict: with the standby gone, Patroni lets the primary go on
    # alone after a few seconds rather than stop every sale (docs/OPERATIONS.md).
    synchronous_mode: $sync
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 400
        wal_log_hints: "on"
        wal_keep_size: 512MB
        max_wal_senders: 10
        max_replication_slots: 10
        hot_standby: "on"
        # Reads routed to the standby (BOXOFFICE_REPLICA_URL) are not cancelled by vacuum on the primary.
        hot_standby_feedback: "on"
  initdb:
    - encoding: UTF8
    - data-checksums
    - auth-local: trust
postgresql:
  listen: 127.0.0.1:$(postgres_port "$n")
  connect_address: 127.0.0.1:$(postgres_port "$n")
  data_dir: $node_dir/data
  bin_dir: $pg_bin
  pgpass: $node_dir/pgpass
  authentication:
    superuser:
      username: postgres
      password: "$superuser_password"
    replication:
      username: replicator
      password: "$replication_password"
    rewind:
      username: rewinder
      password: "$rewind_password"
  parameters:
    unix_socket_directories: $node_dir
    shared_buffers: 256MB
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
EOF
  chmod 600 "$node_dir/patroni.yml"
}

start_node() {
  local n=$1
  running "patroni$n" && return 0
  launch "patroni$n" "${as_db_user[@]}" patroni "$dir/node$n/patroni.yml"
}

# Kills a node as a power cut would: its Patroni and its PostgreSQL, at once.
kill_node() {
  local n=$1 postmaster
  postmaster=$(head -1 "$dir/node$n/data/postmaster.pid" 2>/dev/null || true)
  stop_process "patroni$n" KILL
  [ -n "$postmaster" ] && kill -KILL "$postmaster" 2>/dev/null || true
  # Its backends notice the postmaster is gone and exit within a moment.
  wait_for "" 10 sh -c "! pgrep -f -- '-D $dir/node$n/data' >/dev/null"
}

primary_node() {
  local n
  for n in 1 2; do
    http_ok "http://127.0.0.1:$(patroni_port "$n")/primary" && { echo "$n"; return 0; }
  done
  return 1
}

# --- HAProxy -----------------------------------------------------------------------------------
# One listener in front of the first `nodes` PostgreSQL nodes, sending to the node whose Patroni
# answers 200 to `check` (/primary or /replica).
postgres_listener() {
  local name=$1 port=$2 check=$3 nodes=$4 n
  cat <<EOF
listen $name
    bind 127.0.0.1:$port
    mode tcp
    timeout client 24h
    timeout server 24h
    option tcpka
    option httpchk GET $check
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
EOF
  for n in $(seq 1 "$nodes"); do
    echo "    server node$n 127.0.0.1:$(postgres_port "$n") check port $(patroni_port "$n")"
  done
  echo
}

write_haproxy_config() {
  local instances=$1 nodes=$2 n rate_rules="" maxconn
  # Each connection through HAProxy takes two descriptors: stay within what we may open.
  maxconn=$(( ($(ulimit -n) - 200) / 2 ))
  [ "$maxconn" -gt 50000 ] && maxconn=50000
  if [ "$ip_rate" != 0 ]; then
    # The app limits each address per instance; this limits it across all of them.
    rate_rules="    stick-table type ip size 200k expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    http-request return status 429 content-type application/json hdr Retry-After 10 string '{\"error\":\"Too many requests from your address. Please wait a few seconds and try again.\",\"code\":\"rate_limited\",\"retry_after_seconds\":10}' if { sc_http_req_rate(0) gt $ip_rate }"
  fi
  {
    cat <<EOF
global
    maxconn $maxconn
    stats socket $dir/run/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout queue 10s
    # Event streams stay open on their instance; the app sends a keep-alive every 15 s.
    timeout tunnel 1h
    # Only requests that never reached an instance are tried again, on another one: a request
    # that reached one may have booked seats.
    retries 2
    retry-on conn-failure
    option redispatch
    errorfile 503 $dir/haproxy-503.http

frontend boxoffice
    bind 127.0.0.1:$public_port
    # The app trusts this header from HAProxy only (BOXOFFICE_TRUSTED_PROXIES); a client's own
    # is replaced, never extended.
    http-request set-header X-Forwarded-For %[src]
$rate_rules
    default_backend instances

frontend boxoffice_one_instance
    bind 127.0.0.1:$single_port
    http-request set-header X-Forwarded-For %[src]
    default_backend instance1

backend instances
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
EOF
    for n in $(seq 1 "$instances"); do echo "    server app$n 127.0.0.1:$(instance_port "$n")"; done
    cat <<EOF

backend instance1
    option httpchk GET /readyz
    http-check expect status 200
    server app1 127.0.0.1:$(instance_port 1) check inter 1s fall 2 rise 2

EOF
    # PostgreSQL: whichever node Patroni's REST API calls primary (or a running standby).
    # Sessions to a node that stops being it are cut, so the instances reconnect to the new one.
    postgres_listener postgres_primary "$primary_port" /primary "$nodes"
    postgres_listener postgres_standby "$standby_port" /replica "$nodes"
    cat <<EOF
listen stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /
    stats refresh 2s
EOF
  } >"$dir/haproxy.cfg"
  printf 'HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: application/json\r\nRetry-After: 2\r\n\r\n{"error":"Box Office is restarting. Please try again in a few seconds.","code":"unavailable","retry_after_seconds":2}\n' \
    >"$dir/haproxy-503.http"
}

# HAProxy's view of a server: UP, DOWN, ... (from its statistics page).
haproxy_state() {
  curl -fsS -m 2 "http://127.0.0.1:$stats_port/;csv" | awk -F, -v p="$1" -v s="$2" '$1 == p && $2 == s { print $18 }'
}
haproxy_sends_primary_to() {
  local n
  for n in 1 2; do
    if [ "$n" = "$1" ]; then [ "$(haproxy_state postgres_primary "node$n")" = UP ] || return 1
    else case $(haproxy_state postgres_primary "node$n") in UP*) return 1 ;; esac
    fi
  done
}

# --- Box Office instances ----------------------------------------------------------------------
start_instance() {
  local n=$1
  running "app$n" && return 0
  secrets
  launch "app$n" env \
    DATABASE_URL="postgres://boxoffice:$app_password@127.0.0.1:$primary_port/boxoffice" \
    ${replica_url:+BOXOFFICE_REPLICA_URL="$replica_url"} \
    LEPTOS_SITE_ADDR="127.0.0.1:$(instance_port "$n")" \
    LEPTOS_SITE_ROOT="$site_root" \
    BOXOFFICE_METRICS_ADDR="127.0.0.1:$(metrics_port "$n")" \
    BOXOFFICE_TRUSTED_PROXIES=127.0.0.1/32 \
    RUST_LOG="${RUST_LOG:-warn}" \
    "$binary" serve
}

wait_instance() {
  wait_for "instance $1 ready on http://127.0.0.1:$(instance_port "$1")" 60 \
    http_ok "http://127.0.0.1:$(instance_port "$1")/readyz" \
    || { tail -20 "$dir/logs/app$1.log" >&2; die "instance $1 did not get ready"; }
}

# --- Commands ----------------------------------------------------------------------------------
up() {
  local nodes=2 instances=3
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes) nodes=$2; shift 2 ;;
      --instances) instances=$2; shift 2 ;;
      *) die "unknown option for up: $1" ;;
    esac
  done
  [[ $nodes =~ ^[12]$ ]] || die "--nodes must be 1 or 2"
  [[ $instances =~ ^[1-5]$ ]] || die "--instances must be 1 to 5"
  [ -f "$dir/secrets.env" ] && die "a cluster already exists in $dir (scripts/cluster.sh down --purge first)"

  scripts/setup.sh --for-cluster
  # Thousands of customers mean as many open connections in HAProxy: raise the limit when we may.
  ulimit -Hn 200000 2>/dev/null || true
  ulimit -n "$(ulimit -Hn)"
  if [ ! -x "$binary" ]; then
    step "Building Box Office (release)"
    cargo leptos build --release --precompress
  fi
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

  step "Cluster in $dir, ports from $base"
  mkdir -p "$dir"/{run,logs,etcd} "$dir/node1" "$dir/node2"
  chmod 755 "$dir"
  password() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
  umask 077
  cat >"$dir/secrets.env" <<EOF
nodes=$nodes
instances=$instances
superuser_password=$(password)
replication_password=$(password)
rewind_password=$(password)
app_password=$(password)
admin_email=admin@cluster.boxoffice.test
admin_password=$(password)
pg_bin=$pg_bin
EOF
  umask 022
  secrets
  for n in $(seq 1 "$nodes"); do write_patroni_config "$n" "$nodes"; done
  [ "$(id -u)" = 0 ] && chown -R "$db_user:" "$dir/node1" "$dir/node2"
  chmod 700 "$dir/node1" "$dir/node2"

  step "etcd"
  launch etcd etcd --name boxoffice --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-cluster "boxoffice=http://127.0.0.1:$((etcd_port + 1))"
  wait_for "etcd on 127.0.0.1:$etcd_port" 30 http_ok "http://127.0.0.1:$etcd_port/health" || die "etcd did not start"

  step "PostgreSQL under Patroni ($nodes node(s))"
  start_node 1
  wait_for "node 1 is the primary" 90 http_ok "http://127.0.0.1:$(patroni_port 1)/primary" \
    || { tail -30 "$dir/logs/patroni1.log" >&2; die "node 1 did not become primary"; }
  if [ "$nodes" = 2 ]; then
    start_node 2
    wait_for "node 2 streams from it" 120 http_ok "http://127.0.0.1:$(patroni_port 2)/replica" \
      || { tail -30 "$dir/logs/patroni2.log" >&2; die "node 2 did not become a standby"; }
    wait_for "node 2 is the synchronous standby" 60 http_ok "http://127.0.0.1:$(patroni_port 2)/sync" \
      || die "node 2 did not become the synchronous standby"
  fi

  step "HAProxy"
  write_haproxy_config "$instances" "$nodes"
  haproxy -c -q -f "$dir/haproxy.cfg" || die "HAProxy refused its configuration"
  launch haproxy haproxy -W -db -f "$dir/haproxy.cfg"
  # HAProxy assumes its servers up until their first checks: wait until it sends to node 1 only.
  wait_for "PostgreSQL primary behind 127.0.0.1:$primary_port" 30 haproxy_sends_primary_to 1 \
    || die "HAProxy does not reach the primary"

  step "The Box Office database"
  psql_su -d postgres -c "CREATE ROLE boxoffice LOGIN PASSWORD '$app_password'" \
    -c "CREATE DATABASE boxoffice OWNER boxoffice"
  [ "$nodes" = 2 ] && echo "replica_url=postgres://boxoffice:$app_password@127.0.0.1:$standby_port/boxoffice" >>"$dir/secrets.env"
  secrets
  DATABASE_URL="postgres://boxoffice:$app_password@127.0.0.1:$primary_port/boxoffice" "$binary" migrate
  DATABASE_URL="postgres://boxoffice:$app_password@127.0.0.1:$primary_port/boxoffice" \
    BOXOFFICE_ADMIN_PASSWORD="$admin_password" "$binary" create-admin --email "$admin_email" >/dev/null

  step "Box Office: $instances instance(s)"
  for n in $(seq 1 "$instances"); do start_instance "$n"; done
  for n in $(seq 1 "$instances"); do wait_instance "$n"; done
  wait_for "HAProxy sends customers to them" 30 http_ok "http://127.0.0.1:$public_port/readyz" \
    || die "HAProxy does not reach the instances"

  cat <<EOF

Box Office cluster is up:  http://127.0.0.1:$public_port
  admin login:             $admin_email / $admin_password
  HAProxy statistics:      http://127.0.0.1:$stats_port/
  metrics:                 http://127.0.0.1:$(metrics_port 1)/metrics (instance 1; 2 and 3 follow)
  state and logs:          $dir
  scripts/cluster.sh status | down [--purge]
EOF
}

status() {
  secrets
  local n code
  echo "PostgreSQL (Patroni):"
  "${as_db_user[@]}" patronictl -c "$dir/node1/patroni.yml" list 2>/dev/null || echo "  patronictl cannot reach etcd"
  if primary=$(primary_node); then
    echo "  primary: node $primary"
    PSQL_PORT=$(postgres_port "$primary") psql_su -d postgres -At -F ' ' -c \
      "SELECT '  standby ' || application_name || ' (' || sync_state || '): replay lag ' ||
              coalesce(replay_lag::text, '0') || ', ' ||
              pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) || ' behind'
         FROM pg_stat_replication" 2>/dev/null || true
  else
    echo "  no primary"
  fi
  echo "Box Office instances:"
  for n in $(seq 1 "$instances"); do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(instance_port "$n")/readyz" || true)
    case $code in
      200) echo "  instance $n (127.0.0.1:$(instance_port "$n")): ready" ;;
      000) echo "  instance $n (127.0.0.1:$(instance_port "$n")): down" ;;
      *) echo "  instance $n (127.0.0.1:$(instance_port "$n")): not ready ($code)" ;;
    esac
  done
  code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$public_port/readyz" || true)
  echo "HAProxy: http://127.0.0.1:$public_port answers $code"
}

down() {
  local purge="" name
  [ "${1:-}" = --purge ] && purge=1
  [ -d "$dir/run" ] || { echo "no cluster in $dir"; [ -n "$purge" ] && rm -rf "$dir"; return 0; }
  for name in app1 app2 app3 app4 app5 haproxy patroni2 patroni1 etcd; do stop_process "$name"; done
  # A node killed with its Patroni may have left its PostgreSQL running.
  for n in 1 2; do
    if [ -f "$dir/node$n/data/postmaster.pid" ]; then
      "${as_db_user[@]}" "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" \
        -D "$dir/node$n/data" stop -m fast >/dev/null 2>&1 || true
    fi
  done
  echo "cluster stopped"
  if [ -n "$purge" ]; then rm -rf "$dir"; echo "its data is deleted"; fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
  up) up "$@" ;;
  status) status ;;
  down) down "$@" ;;
  kill-instance) stop_process "app${1:?instance number}" KILL ;;
  start-instance) secrets; start_instance "${1:?instance number}"; wait_instance "$1" ;;
  kill-node) kill_node "${1:?node number}" ;;
  stop-node) stop_process "patroni${1:?node number}" ;;
  start-node) secrets; start_node "${1:?node number}" ;;
  crash-postgres)
    secrets
    n=$(primary_node) || die "no primary"
    kill -KILL "$(head -1 "$dir/node$n/data/postmaster.pid")"
    ;;
  primary) secrets; primary_node || die "no primary" ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
