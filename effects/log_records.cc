#include "effects/log_records.h"

#include <type_traits>

#include "events/time_format.h"

namespace isucoin::effects {
namespace {

using events::Side;
using nlohmann::ordered_json;

std::string SideTag(Side side, const char* action) {
  return std::string(side == Side::kBuy ? "buy." : "sell.") + action;
}

const char* CancelReasonName(events::CancelReason reason) {
  switch (reason) {
    case events::CancelReason::kCanceled: return "canceled";
    case events::CancelReason::kReserveFailed: return "reserve_failed";
  }
  return "canceled";  // unreachable: the switch is exhaustive
}

}  // namespace

void AppendLoggerRecords(const events::Event& event, int utc_offset_seconds,
                         std::vector<LoggerRecord>* out) {
  // Formatted lazily: most events of a busy exchange (MatchProposed, TradeSettled, …) log
  // nothing, and formatting is the costly part of the mapping.
  auto record = [&](std::string tag, ordered_json data) {
    out->push_back(LoggerRecord{std::move(tag), events::FormatTime(event.time, utc_offset_seconds),
                                std::move(data)});
  };
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, events::UserRegistered>) {
          record("signup", {{"name", e.name}, {"bank_id", e.bank_id}, {"user_id", e.user_id}});
        } else if constexpr (std::is_same_v<T, events::SigninSucceeded>) {
          record("signin", {{"user_id", e.user_id}});
        } else if constexpr (std::is_same_v<T, events::OrderAccepted>) {
          record(SideTag(e.side, "order"), {{"order_id", e.order_id},
                                            {"user_id", e.user_id},
                                            {"amount", e.amount},
                                            {"price", e.price}});
        } else if constexpr (std::is_same_v<T, events::BuyRejected>) {
          record("buy.error", {{"user_id", e.user_id},
                               {"error", e.error},
                               {"amount", e.amount},
                               {"price", e.price}});
        } else if constexpr (std::is_same_v<T, events::OrderCancelled>) {
          record(SideTag(e.side, "delete"), {{"order_id", e.order_id},
                                             {"user_id", e.user_id},
                                             {"reason", CancelReasonName(e.reason)}});
        } else if constexpr (std::is_same_v<T, events::TradeExecuted>) {
          record("trade", {{"trade_id", e.trade_id}, {"amount", e.amount}, {"price", e.price}});
          for (const events::TradeLeg& leg : e.legs) {
            record(SideTag(leg.side, "trade"), {{"order_id", leg.order_id},
                                                {"trade_id", e.trade_id},
                                                {"user_id", leg.user_id},
                                                {"amount", leg.amount},
                                                {"price", e.price}});
          }
        }
        // Everything else is not an action of SPEC.md's log: lines (see the header).
      },
      event.body);
}

std::vector<LoggerRecord> LoggerRecordsFor(const events::Event& event, int utc_offset_seconds) {
  std::vector<LoggerRecord> out;
  AppendLoggerRecords(event, utc_offset_seconds, &out);
  return out;
}

nlohmann::ordered_json ToJson(const LoggerRecord& record) {
  return ordered_json{{"tag", record.tag}, {"time", record.time}, {"data", record.data}};
}

std::string Serialize(const LoggerRecord& record) {
  // Invalid UTF-8 in a user-supplied name must not throw out of the shipper: replace it
  // rather than fail (the api validates names; this is the last line of defence).
  return ToJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace isucoin::effects
