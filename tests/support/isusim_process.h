// Runs tools/isusim (the local ISUBANK + ISULOGGER) as a child process for a test.
//
//   isucoin::test_support::IsusimProcess sim;             // zero latency, app id isucoin-dev
//   sim.SetCredit("alice", 1000);
//   BankClient bank(sim.bank_url(), sim.appid());         // the code under test
//   ...
//   EXPECT_EQ(sim.Account("alice")["credit"], 400);
//
// Each instance has its own ports and temp dir; the destructor stops the child (SIGTERM, then
// SIGKILL after 5 s). Admin helpers throw std::runtime_error when the simulator refuses.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isucoin::test_support {

struct HttpResult {
  long status = 0;   // 0 when no HTTP answer came (connection refused, dropped, timed out)
  std::string body;  // the answer, or curl's error message when status == 0
  nlohmann::json Json() const;  // parsed body; null when it is not JSON
};

class IsusimProcess {
 public:
  // Starts isusim with `--latency zero` unless `args` names --latency, then `args` (flags of
  // `isusim --help`), on free ports. Waits up to 10 s for the address file; throws
  // std::runtime_error with the child's stderr when it does not come.
  explicit IsusimProcess(std::vector<std::string> args = {});
  ~IsusimProcess();
  IsusimProcess(const IsusimProcess&) = delete;
  IsusimProcess& operator=(const IsusimProcess&) = delete;

  const std::string& bank_url() const { return bank_url_; }      // "http://127.0.0.1:P"
  const std::string& logger_url() const { return logger_url_; }  // "http://127.0.0.1:Q"
  // The first --appid of `args`, else isusim's default "isucoin-dev".
  const std::string& appid() const { return appid_; }
  pid_t pid() const { return pid_; }
  const std::string& stderr_path() const { return stderr_path_; }

  // Test-only admin API (tools/isusim/README.md).
  void SetCredit(const std::string& bank_id, int64_t credit) const;
  // {bank_id, credit, pending_withdrawals, pending_deposits}; null when there is no such account.
  nlohmann::json Account(const std::string& bank_id) const;
  // [{reserve_id, bank_id, price, state, reserved_at_ms, commit_count, commit_attempts}, ...]
  nlohmann::json Reservations() const;
  // [{appid, tag, time, data, received_at_ms}, ...] in arrival order, from index `since`.
  nlohmann::json Logs(size_t since = 0) const;
  // {"bank": {"/commit": {"200": n, "500": m, "dropped": k}}, "logger": {...}, "admin": {...}}
  nlohmann::json Stats() const;
  void SetFaults(double fail_rate, double slow_rate = 0, int64_t slow_ms = 0, double drop_rate = 0) const;
  // Forgets accounts, reservations, logs, stats; faults back to the command line's.
  void Reset() const;

  // Raw HTTP, for tests of the simulator itself and of odd cases.
  // POSTs `body` with "Authorization: Bearer <appid>" (no header when appid is empty).
  static HttpResult Post(const std::string& url, const std::string& body, const std::string& appid);
  static HttpResult Get(const std::string& url);
  // POST to bank_url() + path / logger_url() + path with appid().
  HttpResult Bank(const std::string& path, const nlohmann::json& body) const;
  HttpResult Logger(const std::string& path, const nlohmann::json& body) const;

  // Stops the child now (SIGTERM, then SIGKILL after 5 s); for tests of a service going away.
  // Idempotent; the destructor calls it.
  void Stop();

 private:
  nlohmann::json AdminGet(const std::string& path) const;
  nlohmann::json AdminPost(const std::string& path, const nlohmann::json& body) const;

  std::string dir_;
  std::string stderr_path_;
  std::string bank_url_;
  std::string logger_url_;
  std::string appid_ = "isucoin-dev";
  pid_t pid_ = -1;
};

}  // namespace isucoin::test_support
