#!/usr/bin/env bash
# HTTP benchmark of `isucoin serve` (run it as `./scripts/bench http`).
#
# Starts the bank/logger simulator (tools/isusim, zero latency) and `isucoin serve` on a fresh
# data directory and a free loopback port, signs users up and in with curl, then loads the
# server with wrk (Lua scripts bench/http_orders.lua and bench/http_get.lua), one phase each:
#   1. POST /orders, buys and sells that never cross (the book grows)       durable appends
#   2. POST /orders, buys and sells at one price (every other order trades) + matching, settlement
#   3. GET /info?cursor=N, signed in, N = the latest trade id (a polling page)
#   4. GET /orders of a user with 100 orders (10 of them traded)
# Every phase fails loudly if more than 0.1 % of its requests failed (non-2xx or socket error).
# Ends with "RESULT <metric> <value> <unit>" lines.
#
# The load generator shares the machine's cores with the server. By default nothing is pinned:
# on 2 cores, pinning wrk to CPU 0 and the server + simulator to CPU 1 (LOADGEN_CPUS=0
# SERVER_CPUS=1) measured about half the throughput, because wrk needs far less than a core
# while the server (reactors, matcher, 64 workers, fdatasync) is then capped at one.
#
# Knobs (environment):  DURATION=10 (s per phase)  CONNS=64  GET_CONNS=64  USERS=32
#   SERVE_FLAGS="--threads 1 --workers 64"  LOADGEN_CPUS=0  SERVER_CPUS=1  (taskset -c lists)
#   WRK_THREADS=(CPUs wrk may use)  KEEP=1 (keep the data dir and logs)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
source "$ROOT/bench/http_common.sh"

BUILD_DIR="${BUILD_DIR:-$ROOT/build-release}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
GET_CONNS="${GET_CONNS:-64}"
USERS="${USERS:-32}"
SERVE_FLAGS="${SERVE_FLAGS:-}"
NCPU=$(nproc)
LOADGEN_CPUS="${LOADGEN_CPUS:-}"
SERVER_CPUS="${SERVER_CPUS:-}"
APPID=isucoin-bench
# wrk's threads: by default one per CPU it may use.
if [[ -z "${WRK_THREADS:-}" ]]; then
  WRK_THREADS=$NCPU
  if [[ -n "$LOADGEN_CPUS" ]]; then WRK_THREADS=$(taskset -c "$LOADGEN_CPUS" nproc); fi
fi

ensure_wrk
build "$BUILD_DIR" Release isucoin isusim >/dev/null

# Command prefixes that pin a process to CPUs (empty: the kernel places it). Arrays, not a
# function, so that `$!` is the pid of the server itself and not of a subshell around it.
PIN_SERVER=()
PIN_LOADGEN=()
if [[ -n "$SERVER_CPUS" ]]; then PIN_SERVER=(taskset -c "$SERVER_CPUS"); fi
if [[ -n "$LOADGEN_CPUS" ]]; then PIN_LOADGEN=(taskset -c "$LOADGEN_CPUS"); fi

# On the root disk, not a tmpfs, so that "durable" costs a real fdatasync.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/isucoin-http-bench.XXXXXX")
SIM_PID=""
SERVER_PID=""
cleanup() {
  local pid
  for pid in $SERVER_PID $SIM_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $SERVER_PID $SIM_PID; do
    # Both stop on SIGTERM; a server still busy after 10 s is killed.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-}" == "1" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# A failed run keeps its data dir and shows the end of the server's log.
die() {
  log "FAILED: $*"
  KEEP=1
  tail -n 20 "$WORK/serve.log" >&2 2>/dev/null || true
  exit 1
}

# --- bank accounts: load users, the GET /orders user and its counterparty --------------------
bench_accounts "$USERS"
start_isusim "${PIN_SERVER[@]}"

# --- the server: fresh data dir, initial dataset (so /info has charts), free port -------------
# shellcheck disable=SC2086  # SERVE_FLAGS is a list of flags
"${PIN_SERVER[@]}" "$BUILD_DIR/app/isucoin" serve --data "$WORK/data" --address 127.0.0.1 \
  --port 0 --bcrypt-cost 4 --bank "$BANK" --bank-appid "$APPID" --logger "$LOGGER" \
  --logger-appid "$APPID" --import "$ROOT/examples/dataset.jsonl" $SERVE_FLAGS \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!
URL=$(wait_for_url "$WORK/serve.out" "$SERVER_PID")
log "server pid $SERVER_PID at $URL (flags: ${SERVE_FLAGS:-defaults}), simulator at $BANK"
log "server CPUs: ${SERVER_CPUS:-any}, wrk CPUs: ${LOADGEN_CPUS:-any} ($WRK_THREADS threads)"

# --- seed: sessions of the load users; 100 orders (10 traded) for the GET /orders user --------
bench_sessions "$URL" "$URL" "$USERS"
ORDERS_COOKIE=$(session "$URL" "$URL" bench-orders)
HELPER_COOKIE=$(session "$URL" "$URL" bench-helper)
for _ in $(seq 10); do  # helper sells at 150, bench-orders buys at 150: a trade
  post "$URL" /orders "type=sell&amount=1&price=150" "$HELPER_COOKIE" >/dev/null
  post "$URL" /orders "type=buy&amount=1&price=150" "$ORDERS_COOKIE" >/dev/null
done
for i in $(seq 90); do  # resting buys at 10..99: nothing in this benchmark sells that low
  post "$URL" /orders "type=buy&amount=1&price=$((9 + i))" "$ORDERS_COOKIE" >/dev/null
done

# cursor: the latest trade id that /info shows (trades show once settled at the bank).
cursor() { curl -sS --fail "$URL/info" | sed -nE 's/^\{"cursor":([0-9]+).*/\1/p'; }

# phase NAME SCRIPT PATH [ARGS...]: one wrk run against the server; sets RATE P50 P99.
phase() {
  local name="$1"
  shift
  log "$name: $DURATION s, $CONNS connections ..."
  wrk_run "$WORK/wrk.out" "$URL" "$@"
  wrk_summary "$name" "$WORK/wrk.out"
  kill -0 "$SERVER_PID" 2>/dev/null || die "$name: the server died"
}

phase "POST /orders (resting)" http_orders.lua /orders "$WORK/cookies.txt" rest
POST_RATE=$RATE POST_P50=$P50 POST_P99=$P99

trades_before=$(cursor)
phase "POST /orders (crossing)" http_orders.lua /orders "$WORK/cookies.txt" cross
CROSS_RATE=$RATE
sleep 1  # let settlement catch up, so /info shows (nearly) every trade of the phase
trades_after=$(cursor)
log "trades settled during the crossing phase (+1 s): $((trades_after - trades_before))"
((trades_after > trades_before)) || die "the crossing phase made no visible trade"

CONNS=$GET_CONNS ISUCOIN_BENCH_COOKIE=$(head -n1 "$WORK/cookies.txt") \
  phase "GET /info" http_get.lua "/info?cursor=$trades_after"
INFO_RATE=$RATE INFO_P50=$P50 INFO_P99=$P99

n_orders=$(curl -sS --fail -H "Cookie: $ORDERS_COOKIE" "$URL/orders" | grep -o '"created_at"' | wc -l)
# Each order has created_at, and a traded one has a second one in its "trade" object.
((n_orders == 110)) || log "warning: GET /orders user shows $n_orders created_at fields, not 110"
CONNS=$GET_CONNS ISUCOIN_BENCH_COOKIE=$ORDERS_COOKIE phase "GET /orders" http_get.lua /orders
ORDERS_RATE=$RATE ORDERS_P50=$P50 ORDERS_P99=$P99

log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "RESULT http_post_orders_per_sec $POST_RATE req/s"
echo "RESULT http_post_orders_p50_ms $POST_P50 ms"
echo "RESULT http_post_orders_p99_ms $POST_P99 ms"
echo "RESULT http_post_orders_crossing_per_sec $CROSS_RATE req/s"
echo "RESULT http_get_info_per_sec $INFO_RATE req/s"
echo "RESULT http_get_info_p50_ms $INFO_P50 ms"
echo "RESULT http_get_info_p99_ms $INFO_P99 ms"
echo "RESULT http_get_orders_per_sec $ORDERS_RATE req/s"
echo "RESULT http_get_orders_p50_ms $ORDERS_P50 ms"
echo "RESULT http_get_orders_p99_ms $ORDERS_P99 ms"
