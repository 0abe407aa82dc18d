#!/usr/bin/env bash
# Builds the ISUCOIN single-page app into $OUT_DIR (default: web/dist):
#   index.html, app.js (lightweight-charts bundled in), app.css.
# Runs `npm ci` only when node_modules is missing or package-lock.json changed since the last
# install; rewrites an output file only when its content changed (keeps mtimes/ETags stable).
set -euo pipefail

WEB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT_DIR="${OUT_DIR:-$WEB_DIR/dist}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
cd "$WEB_DIR"

stamp=node_modules/.isucoin-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -x node_modules/.bin/esbuild || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "web/build.sh: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

node_modules/.bin/esbuild src/main.js \
  --bundle --minify --format=iife --target=es2020 \
  --legal-comments=eof --log-level=warning \
  --outfile="$tmp/app.js"
cp src/index.html "$tmp/index.html"

changed=0
for f in index.html app.js app.css; do
  if ! cmp -s "$tmp/$f" "$OUT_DIR/$f"; then
    cp "$tmp/$f" "$OUT_DIR/$f.tmp" && mv -f "$OUT_DIR/$f.tmp" "$OUT_DIR/$f"
    changed=$((changed + 1))
  fi
done
echo "web/build.sh: $OUT_DIR ($changed file(s) updated)" >&2
