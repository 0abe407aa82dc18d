#!/usr/bin/env bash
# ctest loadgen_smoke: tools/loadgen for a few seconds against a live `isucoin serve` and the
# bank/logger simulator, with a few users and an attacker: no SPEC violation, some trades, a
# report printed.   loadgen_smoke.sh ISUCOIN ISUSIM LOADGEN SOURCE_DIR
set -euo pipefail
ISUCOIN="$1" ISUSIM="$2" LOADGEN="$3" SRC="$4"
WORK="$(mktemp -d /tmp/isucoin-loadgen-smoke.XXXXXX)"
SIM_PID="" SERVE_PID=""
cleanup() {
  local status=$?
  set +e
  if [[ -n "$SERVE_PID" ]]; then kill "$SERVE_PID" 2>/dev/null; fi
  if [[ -n "$SIM_PID" ]]; then kill "$SIM_PID" 2>/dev/null; fi
  wait "$SERVE_PID" "$SIM_PID" 2>/dev/null
  if ((status != 0)); then
    echo "--- serve.log (last 40 lines)"; tail -n 40 "$WORK/serve.log"
    echo "--- isusim.log (last 10 lines)"; tail -n 10 "$WORK/isusim.log"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# ctest kills this script on a timeout, which runs no trap: a watchdog stops the children then.
( while kill -0 $$ 2>/dev/null; do sleep 1; done
  kill $(cat "$WORK/pids" 2>/dev/null) 2>/dev/null; rm -rf "$WORK" ) >/dev/null 2>&1 &

"$ISUSIM" --address-file "$WORK/isusim.json" --appid isucoin-dev --seed 1 \
  --accounts "$SRC/examples/bank_accounts.jsonl" 2>"$WORK/isusim.log" &
SIM_PID=$!
echo "$SIM_PID" >>"$WORK/pids"
for _ in $(seq 100); do [[ -s "$WORK/isusim.json" ]] && break; sleep 0.1; done
BANK=$(sed -E 's/.*"bank":"([^"]+)".*/\1/' "$WORK/isusim.json")
LOGGER=$(sed -E 's/.*"logger":"([^"]+)".*/\1/' "$WORK/isusim.json")

"$ISUCOIN" serve --data "$WORK/data" --port 0 --bcrypt-cost 4 --bank "$BANK" --bank-appid isucoin-dev \
  --logger "$LOGGER" --logger-appid isucoin-dev --import "$SRC/examples/dataset.jsonl" \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
echo "$SERVE_PID" >>"$WORK/pids"
for _ in $(seq 600); do grep -q "serving on http://" "$WORK/serve.out" && break; sleep 0.05; done
URL=$(grep -o 'http://[^/ ]*' "$WORK/serve.out" | head -1)
[[ -n "$URL" ]] || { cat "$WORK/serve.log"; echo "serve did not start"; exit 1; }

status=0
"$LOADGEN" --target "$URL" --bank-admin "$BANK" --duration 8 --users 6 --ramp 2 --attackers 2 \
  --seed 7 --order-interval 0.8 --expect-trades 1 --json "$WORK/report.json" \
  --acknowledged "$WORK/acknowledged.jsonl" >"$WORK/report.txt" || status=$?
cat "$WORK/report.txt"
grep -q "^loadgen report:" "$WORK/report.txt" || { echo "no report printed"; exit 1; }
grep -q '"violations_total": 0' "$WORK/report.json" || { echo "SPEC violations (see above)"; exit 1; }
grep -q '"kind":"order"' "$WORK/acknowledged.jsonl" || { echo "no acknowledged order recorded"; exit 1; }
exit "$status"
