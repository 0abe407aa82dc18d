// The system the fuzzer attacks: `isusim` (bank + logger) and `isucoin serve` as child
// processes on a fresh data directory, as tests/app does — or an exchange already running
// (--url, --data).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace isucoin::httpfuzz {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

// "http://127.0.0.1:5000" → endpoint; nullopt when it is not of that shape.
std::optional<Endpoint> ParseUrl(const std::string& url);

class ExchangeUnderTest {
 public:
  struct Paths {
    std::string isucoin;   // the isucoin binary
    std::string isusim;    // the isusim binary
    std::string dataset;   // examples/dataset.jsonl
  };
  // Starts both children on free ports and a fresh temp data directory; throws
  // std::runtime_error with the child's output when one does not come up.
  static ExchangeUnderTest Spawn(const Paths& paths);
  // An exchange somebody else runs; `data` may be empty (then the commands log is not audited).
  static ExchangeUnderTest Attach(Endpoint api, std::string data);

  ExchangeUnderTest(ExchangeUnderTest&& other) noexcept;
  ExchangeUnderTest& operator=(ExchangeUnderTest&&) = delete;
  ~ExchangeUnderTest();  // stops what it started; removes the data directory unless kept

  const Endpoint& api() const { return api_; }
  const std::optional<Endpoint>& bank() const { return bank_; }  // spawned simulator only
  const std::string& data_dir() const { return data_; }
  const std::string& appid() const { return appid_; }
  std::string serve_log() const { return data_.empty() ? "" : data_ + "/serve.log"; }

  // True while `isucoin serve` (spawned) has not exited; always true when attached.
  bool ServeAlive();
  // The child's exit status when it is gone, for the report ("signal 11", "exit 1").
  std::string ServeExit() const { return serve_exit_; }
  void KeepData() { keep_data_ = true; }

  // Sets a simulator account's credit (POST /admin/accounts); false when refused.
  bool SetCredit(const std::string& bank_id, std::int64_t credit) const;
  // isucoin_log_end_offset{log="commands"} from GET /metrics; nullopt when unreadable.
  std::optional<std::uint64_t> CommandsEnd() const;

 private:
  ExchangeUnderTest() = default;
  void Stop();

  Endpoint api_;
  std::optional<Endpoint> bank_;
  std::string data_;
  std::string sim_dir_;
  std::string appid_ = "isucoin-dev";
  pid_t serve_pid_ = -1;
  pid_t sim_pid_ = -1;
  std::string serve_exit_;
  bool keep_data_ = false;
};

}  // namespace isucoin::httpfuzz
