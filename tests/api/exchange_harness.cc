#include "tests/api/exchange_harness.h"

#include <chrono>
#include <stdexcept>

#include "commands/matcher.h"
#include "events/codec.h"

namespace isucoin::api::testing {

CreditCheck::Outcome FakeCredit::Check(const std::string& bank_id, std::int64_t price) {
  if (throw_on_check) throw std::runtime_error("SECRET-INTERNAL-DETAIL");
  if (unavailable) return Outcome::kUnavailable;
  std::lock_guard lock(mu_);
  auto it = balances_.find(bank_id);
  if (it == balances_.end()) return Outcome::kNoSuchAccount;
  return it->second >= price ? Outcome::kOk : Outcome::kInsufficient;
}

void FakeCredit::SetBalance(const std::string& bank_id, std::int64_t yen) {
  std::lock_guard lock(mu_);
  balances_[bank_id] = yen;
}

ApiOptions ExchangeHarness::DefaultOptions() {
  ApiOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.threads = 1;
  o.worker_threads = 4;
  o.bcrypt_cost = 4;  // the minimum: tests sign up many users
  o.session_secret = "test-secret";
  o.answer_timeout = std::chrono::seconds(10);
  return o;
}

ExchangeHarness::ExchangeHarness(ApiOptions options)
    : model_(projections::LiveReadModel::Options{.utc_offset_seconds = options.utc_offset_seconds,
                                                  .info_interval = std::chrono::milliseconds(10)}) {
  matcher_ = std::thread([this] {
    commands::Matcher matcher(commands_, events_);
    if (!matcher.Recover().ok()) throw std::runtime_error("matcher recover failed");
    (void)matcher.Run(stop_);
  });
  projector_ = std::thread([this] {
    events::Offset next = 0;
    while (!stop_) {
      events_.WaitFor(next, std::chrono::milliseconds(5));
      auto records = events_.Read(next, 1000);
      if (!records.ok()) break;
      std::vector<events::Event> batch;
      for (const auto& r : records.value()) {
        auto e = events::DecodeEvent(r.payload);
        if (e.ok()) batch.push_back(e.value());
        next = r.offset + 1;
      }
      if (!batch.empty()) model_.Apply(batch);
      model_.RefreshInfo();
    }
  });
  Backend backend;
  backend.commands = &commands_;
  backend.model = &model_;
  backend.credit = &credit_;
  backend.now = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  server_ = std::make_unique<ApiServer>(backend, options);
  server_->Start();
}

ExchangeHarness::~ExchangeHarness() {
  server_->Shutdown();
  stop_ = true;
  (void)commands_.Close();
  (void)events_.Close();
  matcher_.join();
  projector_.join();
}

std::string ExchangeHarness::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
}

}  // namespace isucoin::api::testing
