# Sanitizer run-time options for ./scripts/test --sanitize=KIND. Sourced, not executed.
#
#   sanitizer_env KIND REPORT_DIR   exports ASAN/UBSAN/LSAN_OPTIONS (KIND=address) or
#                                   TSAN_OPTIONS (KIND=thread) and ISUCOIN_TEST_SCALE; clears
#                                   REPORT_DIR, where every sanitized process (tests and the
#                                   children they start) writes its reports.
#   sanitizer_reports REPORT_DIR    prints every report written there; returns 1 if any.
#
# Reports go to REPORT_DIR/<kind>.<executable>.<pid> instead of stderr (log_path), so a report
# from a child whose exit status nobody checks (a simulator stopped with SIGTERM, a server killed
# at the end of a test) cannot go unnoticed: the run fails on any report file.

SANITIZERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

sanitizer_env() {
  local kind="$1" reports="$2"
  rm -rf "$reports"
  mkdir -p "$reports"
  case "$kind" in
    address)
      # halt_on_error: the first error ends the process (and fails its test).
      # detect_leaks: LeakSanitizer at exit of every process that exits normally.
      # check_initialization_order/strict_init_order: static initialization order fiasco.
      export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_odr_violation=2:print_summary=1:log_path=$reports/asan:log_exe_name=1"
      export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1:log_path=$reports/ubsan:log_exe_name=1"
      export LSAN_OPTIONS="suppressions=$SANITIZERS_DIR/lsan.supp:print_suppressions=0"
      ;;
    thread)
      # halt_on_error: the first race ends the process. second_deadlock_stack: both stacks of a
      # lock-order inversion. Suppressions: uninstrumented third-party libraries only.
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$SANITIZERS_DIR/tsan.supp:print_suppressions=0:log_path=$reports/tsan:log_exe_name=1"
      ;;
  esac
  # Fewer random streams / crash rounds under sanitizers (5-20x slower); every test still runs.
  # Normal runs leave it unset: today's counts. An explicit ISUCOIN_TEST_SCALE wins.
  export ISUCOIN_TEST_SCALE="${ISUCOIN_TEST_SCALE:-0.2}"
}

sanitizer_reports() {
  local reports="$1" f found=0
  for f in "$reports"/*; do
    [[ -e "$f" ]] || continue
    found=1
    echo "==== sanitizer report: $(basename "$f")" >&2
    cat "$f" >&2
  done
  if ((found)); then
    echo "sanitizer reports were written (above, and in $reports)" >&2
    return 1
  fi
  return 0
}
