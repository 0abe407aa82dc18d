// SIGINT and SIGTERM ask a long-running subcommand to stop cleanly (checkpoint, close logs)
// instead of killing it: every subcommand that runs until told to stop uses this one flag.
#pragma once

#include <atomic>
#include <csignal>

namespace isucoin::app {

// Installs the handlers (once per process; SIGPIPE is ignored too, since a peer closing a
// socket must not kill a server) and returns the flag they set.
inline const std::atomic<bool>& StopRequested() {
  static std::atomic<bool> stop{false};
  static const bool installed = [] {
    std::signal(SIGINT, [](int) { stop = true; });
    std::signal(SIGTERM, [](int) { stop = true; });
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)installed;
  return stop;
}

}  // namespace isucoin::app
