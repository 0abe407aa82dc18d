// The ISULOGGER records of every event: exact tags, fields, JSON types and time, and nothing
// for the events that are not actions (SPEC.md "Endpoints" log: lines, "Trading rules").
#include "effects/log_records.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "events/codec.h"

namespace isucoin::effects {
namespace {

using events::Event;
using events::Side;
using nlohmann::json;

// 2018-10-16T00:00:00.123456Z
constexpr events::Micros kTime = 1539648000123456;
constexpr int kTokyo = 9 * 3600;
const char* const kTokyoTime = "2018-10-16T09:00:00.123456+09:00";

Event At(events::EventBody body, events::Micros time = kTime) {
  return Event{events::Sequence{7, 0}, time, std::move(body)};
}

// The record as the wire carries it, parsed back: what ISULOGGER sees.
json Wire(const LoggerRecord& r) { return json::parse(Serialize(r)); }

void ExpectIntegers(const json& data, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    ASSERT_TRUE(data.contains(k)) << k;
    EXPECT_TRUE(data[k].is_number_integer()) << k << " is " << data[k].type_name();
  }
}

TEST(LogRecordsTest, SignupCarriesNameBankIdAndUserId) {
  auto rs = LoggerRecordsFor(At(events::UserRegistered{42, "isu-bank-1", "椅子好き", "$2a$..."}), kTokyo);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(Wire(rs[0]), json::parse(R"({"tag":"signup","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"name":"椅子好き","bank_id":"isu-bank-1","user_id":42}})"));
  ExpectIntegers(Wire(rs[0])["data"], {"user_id"});
  // The password hash never leaves the exchange.
  EXPECT_EQ(Serialize(rs[0]).find("$2a$"), std::string::npos);
}

TEST(LogRecordsTest, SigninCarriesUserId) {
  auto rs = LoggerRecordsFor(At(events::SigninSucceeded{42, "isu-bank-1"}), kTokyo);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(Wire(rs[0]), json::parse(R"({"tag":"signin","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"user_id":42}})"));
  ExpectIntegers(Wire(rs[0])["data"], {"user_id"});
}

TEST(LogRecordsTest, OrderAcceptedIsBuyOrderOrSellOrder) {
  auto buy = LoggerRecordsFor(At(events::OrderAccepted{100, 42, Side::kBuy, 3, 5000}), kTokyo);
  ASSERT_EQ(buy.size(), 1u);
  EXPECT_EQ(Wire(buy[0]), json::parse(R"({"tag":"buy.order","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"order_id":100,"user_id":42,"amount":3,"price":5000}})"));
  ExpectIntegers(Wire(buy[0])["data"], {"order_id", "user_id", "amount", "price"});

  auto sell = LoggerRecordsFor(At(events::OrderAccepted{101, 43, Side::kSell, 1, 4999}), kTokyo);
  ASSERT_EQ(sell.size(), 1u);
  EXPECT_EQ(Wire(sell[0]), json::parse(R"({"tag":"sell.order","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"order_id":101,"user_id":43,"amount":1,"price":4999}})"));
}

TEST(LogRecordsTest, BuyRejectedIsBuyErrorWithTheBanksMessage) {
  auto rs = LoggerRecordsFor(At(events::BuyRejected{42, 3, 5000, "銀行の残高が足りません"}), kTokyo);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(Wire(rs[0]), json::parse(R"({"tag":"buy.error","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"user_id":42,"error":"銀行の残高が足りません","amount":3,"price":5000}})"));
  ExpectIntegers(Wire(rs[0])["data"], {"user_id", "amount", "price"});
}

TEST(LogRecordsTest, OrderCancelledIsDeleteWithItsReason) {
  auto canceled = LoggerRecordsFor(
      At(events::OrderCancelled{100, 42, Side::kBuy, events::CancelReason::kCanceled, 55}), kTokyo);
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(Wire(canceled[0]), json::parse(R"({"tag":"buy.delete","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"order_id":100,"user_id":42,"reason":"canceled"}})"));

  auto failed = LoggerRecordsFor(
      At(events::OrderCancelled{101, 43, Side::kSell, events::CancelReason::kReserveFailed, std::nullopt}),
      kTokyo);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(Wire(failed[0]), json::parse(R"({"tag":"sell.delete","time":"2018-10-16T09:00:00.123456+09:00",
      "data":{"order_id":101,"user_id":43,"reason":"reserve_failed"}})"));
  ExpectIntegers(Wire(failed[0])["data"], {"order_id", "user_id"});
}

TEST(LogRecordsTest, TradeThenOneRecordPerLegWithTheLegsAmountAndTheTradePrice) {
  events::TradeExecuted trade{9, 3, 5000, 5,
                              {{100, 42, Side::kBuy, 5, 7001},
                               {101, 43, Side::kSell, 2, 7002},
                               {102, 44, Side::kSell, 3, 7003}}};
  auto rs = LoggerRecordsFor(At(trade), kTokyo);
  ASSERT_EQ(rs.size(), 4u);
  const std::string t = kTokyoTime;
  EXPECT_EQ(Wire(rs[0]), (json{{"tag", "trade"}, {"time", t},
                               {"data", {{"trade_id", 9}, {"amount", 5}, {"price", 5000}}}}));
  EXPECT_EQ(Wire(rs[1]), (json{{"tag", "buy.trade"}, {"time", t},
                               {"data", {{"order_id", 100}, {"trade_id", 9}, {"user_id", 42},
                                         {"amount", 5}, {"price", 5000}}}}));
  EXPECT_EQ(Wire(rs[2]), (json{{"tag", "sell.trade"}, {"time", t},
                               {"data", {{"order_id", 101}, {"trade_id", 9}, {"user_id", 43},
                                         {"amount", 2}, {"price", 5000}}}}));
  EXPECT_EQ(Wire(rs[3]), (json{{"tag", "sell.trade"}, {"time", t},
                               {"data", {{"order_id", 102}, {"trade_id", 9}, {"user_id", 44},
                                         {"amount", 3}, {"price", 5000}}}}));
  ExpectIntegers(Wire(rs[0])["data"], {"trade_id", "amount", "price"});
  for (int i = 1; i < 4; ++i) {
    ExpectIntegers(Wire(rs[i])["data"], {"order_id", "trade_id", "user_id", "amount", "price"});
    // The reservation id is settlement's business, not the analytics'.
    EXPECT_FALSE(Wire(rs[i])["data"].contains("reserve_id"));
  }
}

TEST(LogRecordsTest, FieldsAreWrittenInSpecOrder) {
  auto rs = LoggerRecordsFor(At(events::OrderAccepted{100, 42, Side::kBuy, 3, 5000}), kTokyo);
  EXPECT_EQ(Serialize(rs[0]),
            R"({"tag":"buy.order","time":"2018-10-16T09:00:00.123456+09:00",)"
            R"("data":{"order_id":100,"user_id":42,"amount":3,"price":5000}})");
}

TEST(LogRecordsTest, TimeIsTheActionTimeWithTheExchangeOffset) {
  const events::Micros whole_second = 1539648000000000;  // no fraction: none written
  auto tokyo = LoggerRecordsFor(At(events::SigninSucceeded{1, "b"}, whole_second), kTokyo);
  EXPECT_EQ(tokyo[0].time, "2018-10-16T09:00:00+09:00");
  auto utc = LoggerRecordsFor(At(events::SigninSucceeded{1, "b"}), 0);
  EXPECT_TRUE(utc[0].time == "2018-10-16T00:00:00.123456Z" ||
              utc[0].time == "2018-10-16T00:00:00.123456+00:00")
      << utc[0].time;
}

TEST(LogRecordsTest, LargeIdsStayExactIntegers) {
  const events::Id big = (std::int64_t{1} << 62) + 1;  // beyond a double's 53-bit mantissa
  auto rs = LoggerRecordsFor(At(events::OrderAccepted{big, big, Side::kSell, events::kMaxAmount,
                                                      events::kMaxPrice}),
                             kTokyo);
  const json data = Wire(rs[0])["data"];
  EXPECT_EQ(data["order_id"].get<std::int64_t>(), big);
  EXPECT_NE(Serialize(rs[0]).find(std::to_string(big)), std::string::npos);
}

TEST(LogRecordsTest, InvalidUtf8InANameIsReplacedNotThrown) {
  auto rs = LoggerRecordsFor(At(events::UserRegistered{1, "b", std::string("bad\xff" "name"), "h"}),
                             kTokyo);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_NO_THROW(json::parse(Serialize(rs[0])));
}

TEST(LogRecordsTest, EventsThatAreNotActionsLogNothing) {
  using namespace events;
  const std::vector<EventBody> silent = {
      GenesisUser{1, "b", "n", "h", kTime},
      GenesisTrade{1, 1, 1, kTime},
      GenesisOrder{1, Side::kBuy, 1, 1, 1, kTime, std::nullopt, std::nullopt},
      GenesisCompleted{},
      SignupRejected{"b", "bank_id_taken"},
      SigninFailed{"b", 3},
      SigninBlocked{"b", kTime},
      CancelRejected{1, 1, CancelRefusal::kNotFound, 5},
      CancelDeferred{1, 2, 5},
      MatchProposed{1, 5000, 1, {{1, 1, "b", Side::kBuy, 1, 5000}}},
      MatchAborted{1, AbortReason::kReserveFailed, {3}},
      TradeSettled{1},
      ExchangeReset{ServiceEndpoints{"http://bank", "a", "http://logger", "b"}},
      CommandRejected{"bad"},
  };
  for (const EventBody& body : silent) {
    EXPECT_TRUE(LoggerRecordsFor(At(body), kTokyo).empty()) << EventTypeName(body);
  }
  // Every alternative of EventBody is covered, here or in the tests above.
  EXPECT_EQ(silent.size() + 6, std::variant_size_v<EventBody>);
}

}  // namespace
}  // namespace isucoin::effects
