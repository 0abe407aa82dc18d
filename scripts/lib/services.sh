# Start and stop the real services that tests need. Sourced by scripts/test.
# Each service writes what tests need to find it into $ISUCOIN_TEST_ENV_DIR.
# (Today the tests need no external service: the Kafka tests run librdkafka's mock cluster
# in-process. PostgreSQL and the bank/logger simulator join here with the issues that use them.)

export ISUCOIN_TEST_ENV_DIR="${ISUCOIN_TEST_ENV_DIR:-$(mktemp -d /tmp/isucoin-test-env.XXXXXX)}"
SERVICE_PIDS=()

services_start() {
  :
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
}
