#!/usr/bin/env bash
# The browser test against the real thing: builds the web app, starts the bank/logger simulator
# and `isucoin serve` on a fresh data directory, then runs tests/browser/spa.test.mjs (two
# users sign up and trade in headless Chromium). Screenshots are kept in $OUT.
#   run_against_serve.sh ISUCOIN_BINARY ISUSIM_BINARY OUT_DIR
set -euo pipefail
ISUCOIN="$1" ISUSIM="$2" OUT="$3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/isucoin-browser.XXXXXX)"
mkdir -p "$OUT"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

OUT_DIR="$WORK/web" "$ROOT/web/build.sh" >&2

{ cat "$ROOT/examples/bank_accounts.jsonl"
  printf '{"bank_id":"browser-1","credit":10000000}\n{"bank_id":"browser-2","credit":10000000}\n'
} > "$WORK/accounts.jsonl"
"$ISUSIM" --latency zero --address-file "$WORK/sim.json" --accounts "$WORK/accounts.jsonl" \
  2>"$OUT/isusim.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$WORK/sim.json" ]] && break; sleep 0.1; done
BANK=$(sed -E 's/.*"bank":"([^"]+)".*/\1/' "$WORK/sim.json")
LOGGER=$(sed -E 's/.*"logger":"([^"]+)".*/\1/' "$WORK/sim.json")

# The sample dataset gives the chart its history and the book its spread.
"$ISUCOIN" serve --data "$WORK/data" --port 0 --bcrypt-cost 4 --web-root "$WORK/web" \
  --import "$ROOT/examples/dataset.jsonl" \
  --bank "$BANK" --bank-appid isucoin-dev --logger "$LOGGER" --logger-appid isucoin-dev \
  >"$WORK/serve.out" 2>"$OUT/serve.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "serving on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^/ ]*' "$WORK/serve.out" | head -1)
[[ -n "$URL" ]] || { echo "isucoin serve did not start; see $OUT/serve.log" >&2; exit 1; }

ISUCOIN_URL="$URL" ISUCOIN_BANK_ID=browser-1 ISUCOIN_BANK_ID2=browser-2 OUT="$OUT" \
  node --test "$ROOT/tests/browser/spa.test.mjs"
