#include "api/json_views.h"

#include <nlohmann/json.hpp>

#include "events/time_format.h"

namespace isucoin::api {

using nlohmann::ordered_json;

std::vector<OrderRow> CollectOrders(const projections::ReadModel& model,
                                    const std::vector<projections::OrderView>& orders) {
  std::vector<OrderRow> rows;
  rows.reserve(orders.size());
  for (const auto& o : orders) {
    OrderRow row{o, "", std::nullopt};
    if (const auto* user = model.FindUser(o.user_id)) row.user_name = user->name;
    if (o.trade_id) row.trade = model.FindTrade(*o.trade_id);
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {
ordered_json OrderJson(const OrderRow& row, int tz) {
  const auto& o = row.order;
  ordered_json j;
  j["id"] = o.id;
  j["type"] = events::SideName(o.side);
  j["user_id"] = o.user_id;
  j["amount"] = o.amount;
  j["price"] = o.price;
  j["closed_at"] = o.closed_at ? ordered_json(events::FormatTime(*o.closed_at, tz)) : nullptr;
  // A trade only counts once the read model can show it (settled, with its TradeView).
  bool traded = o.trade_id && row.trade;
  if (traded) j["trade_id"] = *o.trade_id;
  j["created_at"] = events::FormatTime(o.created_at, tz);
  j["user"] = ordered_json{{"id", o.user_id}, {"name", row.user_name}};
  if (traded) {
    j["trade"] = ordered_json{{"id", row.trade->id},
                              {"amount", row.trade->amount},
                              {"price", row.trade->price},
                              {"created_at", events::FormatTime(row.trade->created_at, tz)}};
  }
  return j;
}

ordered_json CandlesJson(const std::vector<projections::Candle>& candles, int tz) {
  ordered_json a = ordered_json::array();
  for (const auto& c : candles) {
    a.push_back(ordered_json{{"time", events::FormatTime(c.time, tz)},
                             {"open", c.open},
                             {"close", c.close},
                             {"high", c.high},
                             {"low", c.low}});
  }
  return a;
}
}  // namespace

std::string OrdersJson(const std::vector<OrderRow>& rows, int utc_offset_seconds) {
  ordered_json a = ordered_json::array();
  for (const auto& r : rows) a.push_back(OrderJson(r, utc_offset_seconds));
  // Replace, not throw, on bad UTF-8: names are validated on the way in, but the initial
  // dataset is someone else's input.
  return a.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string InfoSharedFragment(const projections::InfoShared& info, int tz) {
  std::string out;
  out += "\"chart_by_sec\":" + CandlesJson(info.chart_by_sec, tz).dump();
  out += ",\"chart_by_min\":" + CandlesJson(info.chart_by_min, tz).dump();
  out += ",\"chart_by_hour\":" + CandlesJson(info.chart_by_hour, tz).dump();
  if (info.lowest_sell_price) {
    out += ",\"lowest_sell_price\":" + std::to_string(*info.lowest_sell_price);
  }
  if (info.highest_buy_price) {
    out += ",\"highest_buy_price\":" + std::to_string(*info.highest_buy_price);
  }
  return out;
}

std::string ErrorJson(const std::string& message) {
  return ordered_json{{"error", message}}.dump(-1, ' ', false,
                                                ordered_json::error_handler_t::replace);
}

}  // namespace isucoin::api
