// What the events log of an exchange implies outside and about it, for ./scripts/chaos:
// which orders were accepted and cancelled, which trades executed and settled (with their bank
// reservations), and every ISULOGGER record the shipper owes (effects/log_records.h, the
// shipper's own mapping: this checks delivery, the mapping has its unit tests).
// Events are read with the exactly-once rule (events/applied_sequence.h): a duplicate event
// (a sequence not above the last applied) implies nothing more.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "events/status.h"

namespace isucoin::loadgen {

struct ExpectedEffects {
  std::uint64_t events = 0;
  std::uint64_t duplicate_events = 0;
  std::set<std::int64_t> accepted_orders;
  std::set<std::int64_t> cancelled_orders;
  std::map<std::int64_t, std::vector<std::int64_t>> trade_reservations;  // executed trades
  std::set<std::int64_t> settled_trades;
  // Logger records keyed by LoggerRecordKey, with how many times each is owed.
  std::map<std::string, std::uint64_t> logger_records;
  std::map<std::string, std::uint64_t> logger_records_per_tag;
};

// Reads DIR/events (read-only: the exchange may be running).
Result<ExpectedEffects> ReadExpectedEffects(const std::string& data_dir, int utc_offset_seconds);

// The identity of a logger record: tag, time and data (keys sorted), so that the copy the
// simulator received compares equal to the one the events imply.
std::string LoggerRecordKey(const std::string& tag, const std::string& time, const std::string& data_json);

}  // namespace isucoin::loadgen
