# A local PostgreSQL 15 cluster (Debian's postgresql-15 package) for the tests and for
# scripts/run. Sourced, not executed.
#
#   postgres_start DIR [persistent]   starts (initdb-ing DIR/data the first time) a cluster in
#                                     DIR: unix socket in DIR/socket and a free TCP port on
#                                     127.0.0.1; sets POSTGRES_CONNINFO and POSTGRES_DIR.
#                                     Without "persistent", durability is off (fsync=off): tests.
#   postgres_stop [DIR]               stops it (fast shutdown).
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` OS user.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port nobody listens on (bash's /dev/tcp: a refused connection means free).
pg_free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

postgres_start() {
  local dir="$1" mode="${2:-}"
  if [[ ! -x "$PG_BIN/pg_ctl" ]]; then
    echo "postgres: $PG_BIN/pg_ctl not found (install postgresql-15)" >&2
    return 1
  fi
  mkdir -p "$dir/socket"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir" "$dir/socket"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "postgres: the postgres user cannot write $dir (a parent directory is not" \
        "searchable); choose another data directory" >&2
      return 1
    fi
  fi
  chmod 700 "$dir"
  if [[ ! -s "$dir/data/PG_VERSION" ]]; then
    rm -rf "$dir/data"
    pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
      $([[ "$mode" == persistent ]] || echo --no-sync) >"$dir/initdb.log" 2>&1 || {
      echo "postgres: initdb failed:" >&2
      cat "$dir/initdb.log" >&2
      return 1
    }
  fi
  # A previous run killed before it could stop its cluster: stop that one first.
  if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    postgres_stop "$dir"
  fi
  local opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir/socket"
  if [[ "$mode" != persistent ]]; then
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(pg_free_port) || { echo "postgres: no free TCP port" >&2; return 1; }
    if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "$opts -c port=$port" start >/dev/null 2>&1; then
      POSTGRES_DIR="$dir"
      POSTGRES_CONNINFO="host=$dir/socket port=$port user=postgres dbname=postgres"
      export POSTGRES_DIR POSTGRES_CONNINFO
      return 0
    fi
    echo "postgres: start on port $port failed (attempt $attempt); server log:" >&2
    tail -5 "$dir/server.log" >&2 || true
  done
  return 1
}

postgres_stop() {
  local dir="${1:-${POSTGRES_DIR:-}}"
  [[ -n "$dir" && -d "$dir/data" ]] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}
