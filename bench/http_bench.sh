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

# wrk is needed by this benchmark only, so it is not in DEB_PACKAGES.
if ! command -v wrk >/dev/null 2>&1; then
  log "installing: wrk"
  sudo=""; if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
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
CREDIT=1000000000000000  # 10^15 yen: no buy is ever refused, no reservation ever fails
{
  for i in $(seq -f '%04g' "$USERS"); do echo "{\"bank_id\":\"bench-$i\",\"credit\":$CREDIT}"; done
  echo "{\"bank_id\":\"bench-orders\",\"credit\":$CREDIT}"
  echo "{\"bank_id\":\"bench-helper\",\"credit\":$CREDIT}"
} >"$WORK/accounts.jsonl"

"${PIN_SERVER[@]}" "$BUILD_DIR/tools/isusim/isusim" --latency zero --appid "$APPID" \
  --accounts "$WORK/accounts.jsonl" --address-file "$WORK/isusim.json" 2>"$WORK/isusim.log" &
SIM_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/isusim.json" ]] && break; sleep 0.1; done
[[ -s "$WORK/isusim.json" ]] || die "isusim did not start: $(cat "$WORK/isusim.log")"
BANK=$(sed -E 's/.*"bank":"([^"]+)".*/\1/' "$WORK/isusim.json")
LOGGER=$(sed -E 's/.*"logger":"([^"]+)".*/\1/' "$WORK/isusim.json")

# --- the server: fresh data dir, initial dataset (so /info has charts), free port -------------
# shellcheck disable=SC2086  # SERVE_FLAGS is a list of flags
"${PIN_SERVER[@]}" "$BUILD_DIR/app/isucoin" serve --data "$WORK/data" --address 127.0.0.1 \
  --port 0 --bcrypt-cost 4 --bank "$BANK" --bank-appid "$APPID" --logger "$LOGGER" \
  --logger-appid "$APPID" --import "$ROOT/examples/dataset.jsonl" $SERVE_FLAGS \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 300); do
  PORT=$(sed -nE 's|^isucoin serving on http://[^:]+:([0-9]+)/.*|\1|p' "$WORK/serve.out")
  [[ -n "$PORT" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "isucoin serve exited: $(cat "$WORK/serve.log")"
  sleep 0.1
done
[[ -n "$PORT" ]] || die "isucoin serve did not print its port"
URL="http://127.0.0.1:$PORT"
log "server pid $SERVER_PID at $URL (flags: ${SERVE_FLAGS:-defaults}), simulator at $BANK"
log "server CPUs: ${SERVER_CPUS:-any}, wrk CPUs: ${LOADGEN_CPUS:-any} ($WRK_THREADS threads)"

# post PATH FORM [COOKIE]: POST a form, fail unless 2xx; prints the body.
post() {
  curl -sS --fail-with-body -X POST "$URL$1" -d "$2" ${3:+-H "Cookie: $3"}
}
# session BANK_ID: signs up and in, prints "isucoin_session=..." from Set-Cookie.
session() {
  post /signup "name=$1&bank_id=$1&password=benchpass" >/dev/null
  curl -sS --fail-with-body -D - -o /dev/null -X POST "$URL/signin" \
    -d "bank_id=$1&password=benchpass" | sed -nE 's/^[Ss]et-[Cc]ookie: (isucoin_session=[^;]*).*/\1/p'
}

# --- seed: sessions of the load users; 100 orders (10 traded) for the GET /orders user --------
: >"$WORK/cookies.txt"
for i in $(seq -f '%04g' "$USERS"); do session "bench-$i" >>"$WORK/cookies.txt"; done
[[ $(grep -c . "$WORK/cookies.txt") == "$USERS" ]] || die "could not sign in $USERS users"
ORDERS_COOKIE=$(session bench-orders)
HELPER_COOKIE=$(session bench-helper)
for _ in $(seq 10); do  # helper sells at 150, bench-orders buys at 150: a trade
  post /orders "type=sell&amount=1&price=150" "$HELPER_COOKIE" >/dev/null
  post /orders "type=buy&amount=1&price=150" "$ORDERS_COOKIE" >/dev/null
done
for i in $(seq 90); do  # resting buys at 10..99: nothing in this benchmark sells that low
  post /orders "type=buy&amount=1&price=$((9 + i))" "$ORDERS_COOKIE" >/dev/null
done

# cursor: the latest trade id that /info shows (trades show once settled at the bank).
cursor() { curl -sS --fail "$URL/info" | sed -nE 's/^\{"cursor":([0-9]+).*/\1/p'; }

# phase NAME SCRIPT PATH [ARGS...]: runs wrk for DURATION s, sets RATE P50 P99 (3 decimals).
phase() {
  local name="$1" script="$2" path="$3"
  shift 3
  log "$name: $DURATION s, $CONNS connections ..."
  local out
  out=$("${PIN_LOADGEN[@]}" wrk -t "$WRK_THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 5s \
    -s "$ROOT/bench/$script" "$URL$path" -- "$@" 2>&1) || die "$name: wrk failed: $out"
  local line
  line=$(grep '^WRK ' <<<"$out") || die "$name: no summary from wrk: $out"
  field() { sed -nE "s/.* $1=([0-9]+).*/\1/p" <<<"$line"; }
  local requests duration non2xx sockerr
  requests=$(field requests)
  duration=$(field duration_us)
  non2xx=$(field non2xx)
  sockerr=$(($(field connect) + $(field read) + $(field write) + $(field timeout)))
  RATE=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r * 1e6 / d }')
  P50=$(awk -v v="$(field p50_us)" 'BEGIN { printf "%.3f", v / 1000 }')
  P99=$(awk -v v="$(field p99_us)" 'BEGIN { printf "%.3f", v / 1000 }')
  log "$name: $requests requests in $((duration / 1000)) ms = $RATE/s, p50 $P50 ms, p99 $P99 ms," \
    "max $(($(field max_us) / 1000)) ms; non-2xx $non2xx, socket errors $sockerr"
  # More than 0.1 % failed (or nothing answered at all): the figures mean nothing.
  if ((requests == 0 || (non2xx + sockerr) * 1000 > requests)); then
    die "$name: $non2xx non-2xx answers and $sockerr socket errors out of $requests requests" \
      "(see $WORK/serve.log)"
  fi
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
