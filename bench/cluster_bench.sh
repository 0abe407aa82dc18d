#!/usr/bin/env bash
# POST /orders through two `isucoin api` nodes on Kafka (tools/devbroker's mock cluster) against
# the embedded `isucoin serve` on FileLog, in the same run (`./scripts/bench cluster`).
#
# Both take resting buys and sells that never cross (bench/http_orders.lua, mode "rest"), from
# the same number of signed-in users and connections, for DURATION s each:
#   embedded  `isucoin serve` (api + matcher + workers in one process, FileLog, fdatasync)
#   cluster   devbroker + `isucoin matcher` + `isucoin settle` + two `isucoin api` nodes; wrk
#             runs once per node, side by side, with half the connections each
# Everything shares this machine's cores, so the cluster pays for its extra processes and for
# the broker round trips without gaining machines: the ratio shows that cost, not a scale-out
# gain. The mock cluster keeps records in memory (no fsync), the FileLog fdatasyncs each group.
# Ends with RESULT lines, among them `cluster_vs_embedded_post_orders_ratio`.
#
# The mock answers an empty fetch only after fetch.wait.max.ms (10 ms by default) even when a
# record arrives meanwhile, so each of the two hops (commands -> matcher, events -> api node)
# waits ~5 ms on average there; a real broker answers at once. KAFKA_QUERY="?fetch.wait.max.ms=1"
# shows the cluster without most of that wait (bench/kafka_bench.cc measures the hop alone).
#
# Knobs (environment): DURATION=10  CONNS=64  USERS=32  KAFKA_QUERY=  KEEP=1 (keep the scratch
# directory)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
source "$ROOT/bench/http_common.sh"

BUILD_DIR="${BUILD_DIR:-$ROOT/build-release}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
USERS="${USERS:-32}"
APPID=isucoin-bench
PIN_LOADGEN=()
PREFIX=bench

ensure_wrk
build "$BUILD_DIR" Release isucoin isusim devbroker >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/isucoin-cluster-bench.XXXXXX")
PIDS=()
SIM_PID=""
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  stop_all
  [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null || true
  if [[ "${KEEP:-}" == "1" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
die() {
  log "FAILED: $*"
  KEEP=1
  exit 1
}

bench_accounts "$USERS"
start_isusim
ISUCOIN="$BUILD_DIR/app/isucoin"
WRK_THREADS=$(nproc)

# --- embedded: isucoin serve ------------------------------------------------------------------
"$ISUCOIN" serve --data "$WORK/serve" --address 127.0.0.1 --port 0 --bcrypt-cost 4 \
  --bank "$BANK" --bank-appid "$APPID" --logger "$LOGGER" --logger-appid "$APPID" \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
PIDS+=($!)
URL=$(wait_for_url "$WORK/serve.out" "${PIDS[0]}")
post "$URL" /initialize "bank_endpoint=$BANK&bank_appid=$APPID&log_endpoint=$LOGGER&log_appid=$APPID" >/dev/null
bench_sessions "$URL" "$URL" "$USERS"
log "embedded: POST /orders for $DURATION s, $CONNS connections ..."
wrk_run "$WORK/embedded.wrk" "$URL" http_orders.lua /orders "$WORK/cookies.txt" rest
wrk_summary "embedded POST /orders" "$WORK/embedded.wrk"
EMBEDDED_RATE=$RATE EMBEDDED_P99=$P99
stop_all

# --- cluster: devbroker, matcher, settle, two api nodes ----------------------------------------
"$BUILD_DIR/tools/devbroker/devbroker" --address-file "$WORK/kafka.addr" --prefix "$PREFIX" \
  >"$WORK/devbroker.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/kafka.addr" ]] && break; sleep 0.1; done
[[ -s "$WORK/kafka.addr" ]] || die "devbroker did not start: $(cat "$WORK/devbroker.log")"
LOG_URL="kafka://$(cat "$WORK/kafka.addr")/$PREFIX${KAFKA_QUERY:-}"
head -c 48 /dev/urandom >"$WORK/secret"
"$ISUCOIN" matcher --log "$LOG_URL" --data "$WORK/matcher" >"$WORK/matcher.log" 2>&1 &
PIDS+=($!)
"$ISUCOIN" settle --log "$LOG_URL" --data "$WORK/settle" --bank "$BANK" --bank-appid "$APPID" \
  >"$WORK/settle.log" 2>&1 &
PIDS+=($!)
NODES=()
for n in 1 2; do
  "$ISUCOIN" api --log "$LOG_URL" --address 127.0.0.1 --port 0 --bcrypt-cost 4 \
    --session-secret-file "$WORK/secret" --bank "$BANK" --bank-appid "$APPID" \
    >"$WORK/api$n.out" 2>"$WORK/api$n.log" &
  PIDS+=($!)
  NODES+=("$(wait_for_url "$WORK/api$n.out" "$!")")
done
for _ in $(seq 300); do grep -q "matcher: active" "$WORK/matcher.log" && break; sleep 0.1; done
grep -q "matcher: active" "$WORK/matcher.log" || die "the matcher never became active"
post "${NODES[0]}" /initialize "bank_endpoint=$BANK&bank_appid=$APPID&log_endpoint=$LOGGER&log_appid=$APPID" >/dev/null
# Signed up on one node, signed in on the other: the sessions are valid on both.
bench_sessions "${NODES[0]}" "${NODES[1]}" "$USERS"
log "cluster: POST /orders for $DURATION s, $CONNS connections over 2 api nodes ..."
TOTAL_CONNS=$CONNS
CONNS=$((TOTAL_CONNS / 2)) WRK_THREADS=1 wrk_run "$WORK/node1.wrk" "${NODES[0]}" http_orders.lua /orders "$WORK/cookies.txt" rest &
WRK1=$!
CONNS=$((TOTAL_CONNS / 2)) WRK_THREADS=1 wrk_run "$WORK/node2.wrk" "${NODES[1]}" http_orders.lua /orders "$WORK/cookies.txt" rest
wait "$WRK1" || die "wrk against node 1 failed"
wrk_summary "cluster POST /orders" "$WORK/node1.wrk" "$WORK/node2.wrk"
CLUSTER_RATE=$RATE CLUSTER_P99=$P99
for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a cluster process died (see $WORK)"; done

log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "RESULT embedded_post_orders_per_sec $EMBEDDED_RATE req/s"
echo "RESULT embedded_post_orders_p99_ms $EMBEDDED_P99 ms"
echo "RESULT cluster_post_orders_per_sec $CLUSTER_RATE req/s"
echo "RESULT cluster_post_orders_p99_ms $CLUSTER_P99 ms"
echo "RESULT cluster_vs_embedded_post_orders_ratio $(awk -v c="$CLUSTER_RATE" -v e="$EMBEDDED_RATE" 'BEGIN { printf "%.3f", c / e }') x"
