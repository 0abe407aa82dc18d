// The ISULOGGER records of SPEC.md, derived from events. Pure: no clock, no I/O.
//
// Which event is which action (SPEC.md "Endpoints" log: lines and "Trading rules"):
//   UserRegistered   → signup      {name, bank_id, user_id}
//   SigninSucceeded  → signin      {user_id}
//   OrderAccepted    → buy.order / sell.order   {order_id, user_id, amount, price}
//   BuyRejected      → buy.error   {user_id, error, amount, price}
//   OrderCancelled   → buy.delete / sell.delete {order_id, user_id, reason}
//                      reason "canceled" (a DELETE) or "reserve_failed" (automatic)
//   TradeExecuted    → trade {trade_id, amount, price}, then per leg, in the event's leg order,
//                      buy.trade / sell.trade {order_id, trade_id, user_id, amount, price}
//                      (amount = the leg's own amount, price = the trade price)
// Every other event yields nothing. In particular the genesis events (GenesisUser/Trade/Order)
// are the imported initial dataset, not actions taken on this exchange, so nothing is logged
// for them; and TradeSettled is bookkeeping of a trade already logged at TradeExecuted (the
// moment the trade was recorded, which is the action). No other tags exist.
//
// `time` is the action's time: the event's time (its causing command's), in RFC 3339 with the
// exchange's offset. Ids, amounts and prices are JSON numbers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "events/records.h"

namespace isucoin::effects {

// One ISULOGGER record, {tag, time, data}. `data` keeps SPEC.md's field order (ordered_json):
// meaningless to a JSON reader, but it makes the wire and the spec easy to compare by eye.
struct LoggerRecord {
  std::string tag;
  std::string time;
  nlohmann::ordered_json data;
  bool operator==(const LoggerRecord&) const = default;
};

// Appends the records of `event` (zero or more) to `out`, in the order they are to be sent.
void AppendLoggerRecords(const events::Event& event, int utc_offset_seconds,
                         std::vector<LoggerRecord>* out);

std::vector<LoggerRecord> LoggerRecordsFor(const events::Event& event, int utc_offset_seconds);

// {"tag":…,"time":…,"data":{…}}: the element of a /send_bulk array, also the /send body.
nlohmann::ordered_json ToJson(const LoggerRecord& record);
std::string Serialize(const LoggerRecord& record);

}  // namespace isucoin::effects
