# Shared by the HTTP benchmarks (http_bench.sh, cluster_bench.sh): wrk, the simulator, sign-ups
# and one wrk phase with its figures. Sourced after scripts/lib/common.sh, with WORK (a
# scratch directory), APPID, WRK_THREADS and CONNS set; a failure calls the script's die().

# wrk is needed by the benchmarks only, so it is not in DEB_PACKAGES.
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  log "installing: wrk"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
}

# bench_accounts N: bank accounts bench-0001..N plus bench-orders and bench-helper, with credit
# no buy ever exceeds (10^15 yen), in $WORK/accounts.jsonl.
bench_accounts() {
  local credit=1000000000000000 i
  {
    for i in $(seq -f '%04g' "$1"); do echo "{\"bank_id\":\"bench-$i\",\"credit\":$credit}"; done
    echo "{\"bank_id\":\"bench-orders\",\"credit\":$credit}"
    echo "{\"bank_id\":\"bench-helper\",\"credit\":$credit}"
  } >"$WORK/accounts.jsonl"
}

# start_isusim [PREFIX...]: the simulator at zero latency with $WORK/accounts.jsonl; sets
# SIM_PID, BANK and LOGGER. PREFIX: a command prefix such as taskset.
start_isusim() {
  "$@" "$BUILD_DIR/tools/isusim/isusim" --latency zero --appid "$APPID" \
    --accounts "$WORK/accounts.jsonl" --address-file "$WORK/isusim.json" 2>"$WORK/isusim.log" &
  SIM_PID=$!
  for _ in $(seq 100); do [[ -s "$WORK/isusim.json" ]] && break; sleep 0.1; done
  [[ -s "$WORK/isusim.json" ]] || die "isusim did not start: $(cat "$WORK/isusim.log")"
  BANK=$(sed -E 's/.*"bank":"([^"]+)".*/\1/' "$WORK/isusim.json")
  LOGGER=$(sed -E 's/.*"logger":"([^"]+)".*/\1/' "$WORK/isusim.json")
}

# wait_for_url FILE PID: the http://host:port a server printed into FILE once listening.
wait_for_url() {
  local url=""
  for _ in $(seq 300); do
    url=$(grep -oE 'http://[0-9.]+:[0-9]+' "$1" | head -n1 || true)
    [[ -n "$url" ]] && break
    kill -0 "$2" 2>/dev/null || die "server $2 exited before listening (see $WORK)"
    sleep 0.1
  done
  [[ -n "$url" ]] || die "server $2 did not print its URL into $1"
  echo "$url"
}

# post URL PATH FORM [COOKIE]: POST a form, fail unless 2xx; prints the body.
post() {
  curl -sS --fail-with-body -X POST "$1$2" -d "$3" ${4:+-H "Cookie: $4"}
}

# session SIGNUP_URL SIGNIN_URL BANK_ID: signs up and in, prints "isucoin_session=...".
session() {
  post "$1" /signup "name=$3&bank_id=$3&password=benchpass" >/dev/null
  curl -sS --fail-with-body -D - -o /dev/null -X POST "$2/signin" \
    -d "bank_id=$3&password=benchpass" | sed -nE 's/^[Ss]et-[Cc]ookie: (isucoin_session=[^;]*).*/\1/p'
}

# bench_sessions SIGNUP_URL SIGNIN_URL N: sessions of bench-0001..N, one per line, in
# $WORK/cookies.txt.
bench_sessions() {
  : >"$WORK/cookies.txt"
  local i
  for i in $(seq -f '%04g' "$3"); do session "$1" "$2" "bench-$i" >>"$WORK/cookies.txt"; done
  [[ $(grep -c . "$WORK/cookies.txt") == "$3" ]] || die "could not sign in $3 users"
}

# wrk_run OUT URL SCRIPT PATH [ARGS...]: wrk for DURATION s with CONNS connections and
# WRK_THREADS threads; its output in OUT. PIN_LOADGEN (an array) may pin it.
wrk_run() {
  local out="$1" url="$2" script="$3" path="$4"
  shift 4
  "${PIN_LOADGEN[@]}" wrk -t "$WRK_THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 5s \
    -s "$ROOT/bench/$script" "$url$path" -- "$@" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
}

# wrk_summary NAME OUT...: the figures of wrk runs that ran side by side (one per server):
# sets RATE (their sum), P50 and P99 (the worst of them), in ms with 3 decimals. Fails if more
# than 0.1 % of the requests failed (non-2xx or socket error) or nothing answered.
wrk_summary() {
  local name="$1"
  shift
  local requests=0 duration=0 bad=0 p50=0 p99=0 max=0 out line
  for out in "$@"; do
    line=$(grep '^WRK ' "$out") || die "$name: no summary from wrk: $(cat "$out")"
    field() { sed -nE "s/.* $1=([0-9]+).*/\1/p" <<<"$line"; }
    requests=$((requests + $(field requests)))
    ((duration > $(field duration_us))) || duration=$(field duration_us)
    bad=$((bad + $(field non2xx) + $(field connect) + $(field read) + $(field write) + $(field timeout)))
    ((p50 > $(field p50_us))) || p50=$(field p50_us)
    ((p99 > $(field p99_us))) || p99=$(field p99_us)
    ((max > $(field max_us))) || max=$(field max_us)
  done
  RATE=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r * 1e6 / d }')
  P50=$(awk -v v="$p50" 'BEGIN { printf "%.3f", v / 1000 }')
  P99=$(awk -v v="$p99" 'BEGIN { printf "%.3f", v / 1000 }')
  log "$name: $requests requests in $((duration / 1000)) ms = $RATE/s, p50 $P50 ms, p99 $P99 ms," \
    "max $((max / 1000)) ms; failed $bad"
  # More than 0.1 % failed (or nothing answered at all): the figures mean nothing.
  if ((requests == 0 || bad * 1000 > requests)); then
    die "$name: $bad failed requests out of $requests (see $WORK)"
  fi
}
