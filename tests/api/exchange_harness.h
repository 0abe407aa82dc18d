// An exchange in one process for api tests: MemoryLogs, a real commands::Matcher thread, a
// projection thread feeding LiveReadModel from the events log, a fake CreditCheck, and an
// ApiServer on a free port.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/backend.h"
#include "api/server.h"
#include "events/memory_log.h"
#include "projections/live_read_model.h"

namespace isucoin::api::testing {

class FakeCredit : public CreditCheck {
 public:
  Outcome Check(const std::string& bank_id, std::int64_t price) override;
  void SetBalance(const std::string& bank_id, std::int64_t yen);
  std::atomic<bool> unavailable{false};  // set by the test thread, read by the API workers
  std::atomic<bool> throw_on_check{false};  // a backend bug: must become 500 without its text

 private:
  std::mutex mu_;
  std::map<std::string, std::int64_t> balances_;
};

class ExchangeHarness {
 public:
  explicit ExchangeHarness(ApiOptions options = DefaultOptions());
  ~ExchangeHarness();
  static ApiOptions DefaultOptions();

  std::string url(const std::string& path) const;
  FakeCredit& credit() { return credit_; }
  events::MemoryLog& commands() { return commands_; }
  ApiServer& server() { return *server_; }

 private:
  events::MemoryLog commands_, events_;
  projections::LiveReadModel model_;
  FakeCredit credit_;
  std::atomic<bool> stop_{false};
  std::thread matcher_, projector_;
  std::unique_ptr<ApiServer> server_;
};

}  // namespace isucoin::api::testing
