#include "api/json_views.h"

#include <gtest/gtest.h>

namespace isucoin::api {
namespace {

TEST(JsonViewsTest, OpenOrderHasNullClosedAtAndNoTradeKeys) {
  OrderRow row;
  row.order = {.id = 5, .side = events::Side::kSell, .user_id = 2, .amount = 3, .price = 100,
               .created_at = 0};
  row.user_name = "椅子";
  EXPECT_EQ(OrdersJson({row}, 9 * 3600),
            R"([{"id":5,"type":"sell","user_id":2,"amount":3,"price":100,"closed_at":null,)"
            R"("created_at":"1970-01-01T09:00:00+09:00","user":{"id":2,"name":"椅子"}}])");
}

TEST(JsonViewsTest, TradedOrderHasTradeIdAndTrade) {
  OrderRow row;
  row.order = {.id = 5, .side = events::Side::kBuy, .user_id = 2, .amount = 3, .price = 100,
               .created_at = 0, .closed_at = 1'500'000, .trade_id = 9};
  row.user_name = "a";
  row.trade = projections::TradeView{9, 3, 90, 1'500'000};
  EXPECT_EQ(OrdersJson({row}, 0),
            R"([{"id":5,"type":"buy","user_id":2,"amount":3,"price":100,)"
            R"("closed_at":"1970-01-01T00:00:01.500000+00:00","trade_id":9,)"
            R"("created_at":"1970-01-01T00:00:00+00:00","user":{"id":2,"name":"a"},)"
            R"("trade":{"id":9,"amount":3,"price":90,"created_at":"1970-01-01T00:00:01.500000+00:00"}}])");
}

TEST(JsonViewsTest, InfoFragmentOmitsAbsentPrices) {
  projections::InfoShared info;
  info.chart_by_sec.push_back({.time = 0, .open = 1, .close = 2, .high = 3, .low = 1});
  EXPECT_EQ(InfoSharedFragment(info, 0),
            R"("chart_by_sec":[{"time":"1970-01-01T00:00:00+00:00","open":1,"close":2,)"
            R"("high":3,"low":1}],"chart_by_min":[],"chart_by_hour":[])");
  info.lowest_sell_price = 7;
  EXPECT_NE(InfoSharedFragment(info, 0).find(R"(,"lowest_sell_price":7)"), std::string::npos);
  EXPECT_EQ(InfoSharedFragment(info, 0).find("highest_buy_price"), std::string::npos);
}

TEST(JsonViewsTest, ErrorEscapes) {
  EXPECT_EQ(ErrorJson("a\"b"), R"({"error":"a\"b"})");
}

}  // namespace
}  // namespace isucoin::api
