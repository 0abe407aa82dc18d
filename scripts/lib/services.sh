# Start and stop the real services that tests need. Sourced by scripts/test.
# Each service writes what tests need to find it into $ISUCOIN_TEST_ENV_DIR.
# The Kafka tests run librdkafka's mock cluster in-process. PostgreSQL: a throwaway PostgreSQL 15
# cluster (scripts/lib/postgres.sh) in a temporary directory, its libpq conninfo exported as
# ISUCOIN_TEST_POSTGRES; stopped and deleted on exit.

export ISUCOIN_TEST_ENV_DIR="${ISUCOIN_TEST_ENV_DIR:-$(mktemp -d /tmp/isucoin-test-env.XXXXXX)}"
SERVICE_PIDS=()
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
TEST_POSTGRES_DIR=""

services_start() {
  TEST_POSTGRES_DIR="$(mktemp -d /tmp/isucoin-test-pg.XXXXXX)"
  if ! postgres_start "$TEST_POSTGRES_DIR"; then
    echo "services: PostgreSQL did not start (tests needing it will fail)" >&2
    return 1
  fi
  export ISUCOIN_TEST_POSTGRES="$POSTGRES_CONNINFO"
  echo "services: PostgreSQL at $ISUCOIN_TEST_POSTGRES" >&2
}

services_stop() {
  local pid
  for pid in "${SERVICE_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${SERVICE_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$ISUCOIN_TEST_ENV_DIR"
  if [[ -n "$TEST_POSTGRES_DIR" ]]; then
    postgres_stop "$TEST_POSTGRES_DIR"
    rm -rf "$TEST_POSTGRES_DIR"
  fi
}
