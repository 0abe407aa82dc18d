#!/usr/bin/env bash
# ./scripts/bench replay: bench/replay_bench.cc with a throwaway PostgreSQL 15 cluster, so that
# the replay into PostgreSQL is measured next to replay into memory, audit and start-up.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
source "$ROOT/scripts/lib/postgres.sh"

BUILD_DIR="${BUILD_DIR:-$ROOT/build-release}"
build "$BUILD_DIR" Release replay_bench
PG_DIR="$(mktemp -d /tmp/isucoin-bench-pg.XXXXXX)"
trap 'postgres_stop "$PG_DIR"; rm -rf "$PG_DIR"' EXIT
# Durable like production (not the tests' fsync=off): COPY's real cost is measured.
postgres_start "$PG_DIR" persistent
ISUCOIN_BENCH_POSTGRES="$POSTGRES_CONNINFO" "$BUILD_DIR/bench/replay_bench" "$@"
