// SPEC.md (../shared/SPEC.md) as checks on single answers: shapes, types, orderings, bounds.
// Pure functions, no state: what depends on a user's history (read-your-writes, ids that must
// be mine, trades that must have been reported) lives in my_orders.h.
//
// Deliberately independent of the server's code (its time codec, its JSON views): a client
// that shares the server's parser would share its bugs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isucoin::loadgen {

// One broken rule: `kind` is a short stable name (counted), `detail` an example for humans.
struct Violation {
  std::string kind;
  std::string detail;
};
using Violations = std::vector<Violation>;

// RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" → Unix microseconds (UTC).
std::optional<std::int64_t> ParseRfc3339(std::string_view text);

// Parses `body` as JSON; a violation `<what>_not_json` otherwise.
std::optional<nlohmann::json> ParseBody(const std::string& body, const std::string& what,
                                        Violations* out);

// Every non-2xx answer is {"error": "..."} (SPEC.md "Conventions").
void CheckErrorBody(const std::string& route, long status, const std::string& body,
                    Violations* out);

// The owner an order must name: GET /orders and traded_orders show only my orders.
struct Me {
  std::int64_t user_id = 0;
  std::string name;
};

// One element of GET /orders or /info traded_orders: every field of SPEC's shape, with its
// type; trade_id and trade present together (or absent together); a traded order has
// closed_at, a trade whose price is within the order's limit and whose amount covers it.
void CheckOrder(const nlohmann::json& order, const Me& me, const std::string& where,
                Violations* out);

// GET /orders: an array of my orders, oldest created_at first.
void CheckOrderList(const nlohmann::json& orders, const Me& me, Violations* out);

// GET /info: cursor, charts (bucket alignment, increasing times, window length, OHLC
// consistency), best prices, enable_share (false when signed out), traded_orders (present iff
// signed in, each of them mine with request_cursor < trade_id <= cursor).
void CheckInfo(const nlohmann::json& info, std::int64_t request_cursor, const Me* me,
               Violations* out);

// The latest trade price the charts show (the close of the newest 1-s candle), if any.
std::optional<std::int64_t> LatestChartPrice(const nlohmann::json& info);

}  // namespace isucoin::loadgen
