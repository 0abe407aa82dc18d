// tools/loadgen's pure parts: the SPEC checks on single answers and the per-user history
// checks (my_orders.h). A check that never fires is worthless, so each rule is shown to fire.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tools/loadgen/my_orders.h"
#include "tools/loadgen/spec_checks.h"

namespace isucoin::loadgen {
namespace {

using nlohmann::json;

std::vector<std::string> Kinds(const Violations& v) {
  std::vector<std::string> kinds;
  for (const auto& x : v) kinds.push_back(x.kind);
  return kinds;
}

json OpenOrder(std::int64_t id, const std::string& created = "2026-11-22T10:00:00.5+09:00") {
  return {{"id", id},           {"type", "buy"},   {"user_id", 7},
          {"amount", 2},        {"price", 5000},   {"closed_at", nullptr},
          {"created_at", created}, {"user", {{"id", 7}, {"name", "alice"}}}};
}

json TradedOrder(std::int64_t id, std::int64_t trade_id, std::int64_t price = 4990) {
  json o = OpenOrder(id);
  o["closed_at"] = "2026-11-22T10:00:01+09:00";
  o["trade_id"] = trade_id;
  o["trade"] = {{"id", trade_id}, {"amount", 2}, {"price", price}, {"created_at", "2026-11-22T10:00:01+09:00"}};
  return o;
}

const Me kAlice{7, "alice"};

TEST(LoadgenSpecChecks, Rfc3339) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T09:00:00+09:00"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01.25Z"), 1'250'000);
  EXPECT_EQ(ParseRfc3339("2018-10-16T09:00:00.123456+09:00"), 1539648000123456);
  EXPECT_FALSE(ParseRfc3339("2018-10-16 09:00:00+09:00"));
  EXPECT_FALSE(ParseRfc3339("2018-10-16T09:00:00"));
  EXPECT_FALSE(ParseRfc3339("2018-13-16T09:00:00Z"));
}

TEST(LoadgenSpecChecks, OrdersShapeOwnerAndOrder) {
  Violations v;
  CheckOrderList(json::array({OpenOrder(1), TradedOrder(2, 5)}), kAlice, &v);
  EXPECT_TRUE(v.empty()) << v[0].detail;

  json not_mine = OpenOrder(3);
  not_mine["user_id"] = 8;
  json half = TradedOrder(4, 6);
  half.erase("trade");
  json outside = TradedOrder(5, 7, 5001);  // a buy at 5000 traded at 5001
  json late = OpenOrder(6, "2026-11-22T09:00:00+09:00");
  v.clear();
  CheckOrderList(json::array({not_mine, half, outside, late}), kAlice, &v);
  auto kinds = Kinds(v);
  for (const char* k : {"order_not_mine", "order_trade_half_filled", "trade_price_outside_limit", "orders_not_sorted"}) {
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), k), kinds.end()) << k;
  }
}

TEST(LoadgenSpecChecks, InfoCursorChartsAndSignedOut) {
  json info = {{"cursor", 10},
               {"traded_orders", json::array({TradedOrder(1, 9)})},
               {"chart_by_sec", json::array({{{"time", "2026-11-22T10:00:00+09:00"}, {"open", 5}, {"close", 6}, {"high", 7}, {"low", 5}}})},
               {"chart_by_min", json::array()},
               {"chart_by_hour", json::array()},
               {"lowest_sell_price", 6},
               {"enable_share", true}};
  Violations v;
  CheckInfo(info, 5, &kAlice, &v);
  EXPECT_TRUE(v.empty()) << v[0].detail;

  v.clear();
  CheckInfo(info, 9, &kAlice, &v);  // trade 9 is not after the request's cursor 9
  EXPECT_EQ(Kinds(v), std::vector<std::string>{"info_traded_order_outside_cursors"});

  v.clear();
  CheckInfo(info, 0, nullptr, &v);  // signed out: neither traded_orders nor the share button
  EXPECT_EQ(Kinds(v), (std::vector<std::string>{"info_share_signed_out", "info_traded_orders_signed_out"}));

  json bad = info;
  bad["chart_by_sec"][0]["time"] = "2026-11-22T10:00:00.5+09:00";
  bad["chart_by_sec"][0]["low"] = 6;
  v.clear();
  CheckInfo(bad, 5, &kAlice, &v);
  EXPECT_EQ(Kinds(v), (std::vector<std::string>{"info_candle_not_on_bucket", "info_candle_ohlc"}));
}

TEST(LoadgenMyOrders, ReadYourWritesAndLostAnswers) {
  MyOrders mine;
  mine.Placed(1, "buy", 2, 5000);
  Violations v;
  mine.CheckList(json::array(), &v);
  EXPECT_EQ(Kinds(v), std::vector<std::string>{"acknowledged_order_missing"});

  v.clear();
  mine.CheckList(json::array({OpenOrder(1), OpenOrder(2)}), &v);  // 2 was never placed
  EXPECT_EQ(Kinds(v), std::vector<std::string>{"orders_unknown_order"});

  v.clear();
  mine.PlacementUnknown();  // a POST lost with the server: its order may show up, once
  mine.CheckList(json::array({OpenOrder(1), OpenOrder(2)}), &v);
  EXPECT_TRUE(v.empty());

  mine.Cancelled(2);
  v.clear();
  mine.CheckList(json::array({OpenOrder(1), OpenOrder(2)}), &v);
  EXPECT_EQ(Kinds(v), std::vector<std::string>{"cancelled_order_listed"});

  mine.CancelUnknown(1);  // a DELETE lost with the server: either outcome is fine
  v.clear();
  mine.CheckList(json::array(), &v);
  EXPECT_TRUE(v.empty());
}

TEST(LoadgenMyOrders, APostLibcurlMayHaveSentTwiceAllowsOneTwinOfTheSameContent) {
  MyOrders mine;
  mine.Placed(2, "buy", 2, 5000, /*maybe_sent_twice=*/true);
  json other = OpenOrder(3);
  other["price"] = 5001;  // not the same content: not a twin
  Violations v;
  mine.CheckList(json::array({OpenOrder(1), OpenOrder(2), other}), &v);
  EXPECT_EQ(Kinds(v), std::vector<std::string>{"orders_unknown_order"});  // 3; 1 is the twin
}

TEST(LoadgenMyOrders, TradesMustBeReportedByInfoAndNeverChange) {
  MyOrders mine;
  mine.Placed(1, "buy", 2, 5000);
  mine.Placed(2, "buy", 2, 5000);
  Violations v;
  mine.ReportedByInfo(json::array({TradedOrder(1, 5)}), 6, &v);
  mine.CheckList(json::array({TradedOrder(1, 5), TradedOrder(2, 6)}), &v);
  EXPECT_EQ(Kinds(v), std::vector<std::string>{"info_missed_traded_order"});  // trade 6 ≤ cursor 6

  v.clear();
  mine.CheckList(json::array({TradedOrder(1, 5, 4000), OpenOrder(2)}), &v);
  EXPECT_EQ(Kinds(v), (std::vector<std::string>{"trade_changed", "trade_vanished"}));
}

}  // namespace
}  // namespace isucoin::loadgen
