// The JSON shapes of SPEC.md, byte for byte: key order as the spec lists it, a key ABSENT
// (trade_id, trade, lowest_sell_price, highest_buy_price) vs null (closed_at) exactly as written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "projections/live_read_model.h"
#include "projections/read_model.h"

namespace isucoin::api {

// What one order of GET /orders (and /info traded_orders) needs, copied out of the read model
// under its lock so serialising happens outside it.
struct OrderRow {
  projections::OrderView order;
  std::string user_name;
  std::optional<projections::TradeView> trade;
};

// Rows for the user's orders; call inside LiveReadModel::Read.
std::vector<OrderRow> CollectOrders(const projections::ReadModel& model,
                                    const std::vector<projections::OrderView>& orders);

// A JSON array of orders in SPEC.md's shape.
std::string OrdersJson(const std::vector<OrderRow>& rows, int utc_offset_seconds);

// The part of /info every client shares, as the inner text of an object (no braces, starts
// with "\"chart_by_sec\""), so that an answer is `{"cursor":…,"traded_orders":…,` + this +
// `,"enable_share":…}`.
std::string InfoSharedFragment(const projections::InfoShared& info, int utc_offset_seconds);

std::string ErrorJson(const std::string& message);

}  // namespace isucoin::api
