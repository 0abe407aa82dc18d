#include "tools/loadgen/expected_effects.h"

#include <nlohmann/json.hpp>

#include "effects/log_records.h"
#include "events/applied_sequence.h"
#include "events/codec.h"
#include "events/file_log.h"

namespace isucoin::loadgen {

std::string LoggerRecordKey(const std::string& tag, const std::string& time, const std::string& data_json) {
  // nlohmann::json (not ordered_json) sorts keys: field order on the wire does not matter.
  return tag + "|" + time + "|" + nlohmann::json::parse(data_json).dump();
}

Result<ExpectedEffects> ReadExpectedEffects(const std::string& data_dir, int utc_offset_seconds) {
  auto log = events::FileLog::Open(data_dir + "/events", {.read_only = true});
  if (!log.ok()) return log.status();
  ExpectedEffects out;
  events::AppliedSequence applied;
  std::vector<effects::LoggerRecord> records;
  for (events::Offset at = 0; at < log.value()->End();) {
    auto batch = log.value()->Read(at, 10'000);
    if (!batch.ok()) return batch.status();
    if (batch.value().empty()) break;
    for (const auto& record : batch.value()) {
      at = record.offset + 1;
      auto event = events::DecodeEvent(record.payload);
      if (!event.ok()) return event.status();
      const events::Event& e = event.value();
      ++out.events;
      if (!applied.Admit(e.seq)) {
        ++out.duplicate_events;
        continue;
      }
      if (const auto* a = std::get_if<events::OrderAccepted>(&e.body)) out.accepted_orders.insert(a->order_id);
      if (const auto* c = std::get_if<events::OrderCancelled>(&e.body)) out.cancelled_orders.insert(c->order_id);
      if (const auto* t = std::get_if<events::TradeExecuted>(&e.body)) {
        auto& ids = out.trade_reservations[t->trade_id];
        for (const auto& leg : t->legs) ids.push_back(leg.reserve_id);
      }
      if (const auto* s = std::get_if<events::TradeSettled>(&e.body)) out.settled_trades.insert(s->trade_id);
      records.clear();
      effects::AppendLoggerRecords(e, utc_offset_seconds, &records);
      for (const auto& r : records) {
        out.logger_records[LoggerRecordKey(r.tag, r.time, r.data.dump())]++;
        out.logger_records_per_tag[r.tag]++;
      }
    }
  }
  return out;
}

}  // namespace isucoin::loadgen
