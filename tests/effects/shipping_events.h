// Events as the matcher writes them, for shipper tests: a repeating round of actions covering
// every record kind (and some events that log nothing), with dense sequences and ids.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "effects/log_records.h"
#include "events/codec.h"
#include "events/records.h"

namespace isucoin::effects::testing {

class ActionGenerator {
 public:
  // One round: 10 events, 10 logger records, all at `time`.
  std::vector<events::Event> Round(events::Micros time) {
    using namespace events;
    const Id user = ++user_, o1 = ++order_, o2 = ++order_, o3 = ++order_, trade = ++trade_;
    std::vector<Event> out;
    auto add = [&](EventBody body) { out.push_back(Event{Sequence{cause_++, 0}, time, std::move(body)}); };
    add(UserRegistered{user, "bank-" + std::to_string(user), "user " + std::to_string(user), "$2a$h"});
    add(SigninSucceeded{user, "bank-" + std::to_string(user)});
    add(OrderAccepted{o1, user, Side::kBuy, 2, 5000 + user % 100});
    add(OrderAccepted{o2, user, Side::kSell, 2, 4000});
    add(MatchProposed{trade, 4500, 2, {}});
    add(TradeExecuted{trade, trade, 4500, 2,
                      {{o1, user, Side::kBuy, 2, 1}, {o2, user, Side::kSell, 2, 2}}});
    add(TradeSettled{trade});
    add(BuyRejected{user, 10, 100000, "銀行の残高が足りません"});
    add(OrderAccepted{o3, user, Side::kSell, 1, 9000});
    add(OrderCancelled{o3, user, Side::kSell, CancelReason::kCanceled, cause_ - 1});
    return out;
  }

 private:
  std::uint64_t cause_ = 1;
  events::Id user_ = 0, order_ = 0, trade_ = 0;
};

inline std::vector<std::string> Encode(const std::vector<events::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(events::EncodeEvent(e));
  return out;
}

// A record as ISULOGGER stores it, in a canonical form (sorted keys) for comparisons.
inline std::string Canonical(const nlohmann::json& tag, const nlohmann::json& time,
                             const nlohmann::json& data) {
  return nlohmann::json{{"tag", tag}, {"time", time}, {"data", data}}.dump();
}

inline std::vector<std::string> ExpectedRecords(const std::vector<events::Event>& events,
                                                int utc_offset_seconds = 9 * 3600) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    for (const auto& r : LoggerRecordsFor(e, utc_offset_seconds)) {
      auto j = nlohmann::json::parse(Serialize(r));
      out.push_back(Canonical(j["tag"], j["time"], j["data"]));
    }
  }
  return out;
}

}  // namespace isucoin::effects::testing
