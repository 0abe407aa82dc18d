// The record codec: every type round-trips, and bad payloads are refused with the field named.
#include "events/codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isucoin::events {
namespace {

std::vector<CommandBody> AllCommandBodies() {
  return {
      UserImported{7, "bank-7", "Seven", "$2a$10$abc", 1'539'648'000'123'456},
      TradeImported{3, 5, 5000, 1'539'648'000'000'000},
      OrderImported{11, Side::kSell, 7, 5, 5000, 1, 2, 3},
      OrderImported{12, Side::kBuy, 7, 1, 4000, 1, std::nullopt, std::nullopt},
      GenesisSealed{},
      SignupRequested{"名前", "bank-x", "$2b$10$hash"},
      SigninRecorded{"bank-x", true},
      OrderPlaced{7, Side::kBuy, 3, 5000},
      BuyCreditRefused{7, 3, 5000, "銀行の残高が足りません"},
      CancelRequested{7, 11},
      ReservationsReported{4, {{11, 99, ""}, {12, std::nullopt, "credit is insufficient"}}},
      CommitsReported{{1, 2, 3}},
      ResetRequested{{"http://127.0.0.1:5515", "bank-app", "http://127.0.0.1:5516", "log-app"}},
      MalformedCommand{"command: not valid JSON"},
  };
}

std::vector<EventBody> AllEventBodies() {
  return {
      GenesisUser{7, "bank-7", "Seven", "$2a$10$abc", 5},
      GenesisTrade{3, 5, 5000, 6},
      GenesisOrder{11, Side::kSell, 7, 5, 5000, 1, 2, 3},
      GenesisCompleted{},
      UserRegistered{8, "bank-8", "Eight", "$2b$10$x"},
      SignupRejected{"bank-8", "bank_id_taken"},
      SigninSucceeded{8, "bank-8"},
      SigninFailed{"bank-8", 3},
      SigninBlocked{"bank-8", 123456789},
      OrderAccepted{12, 8, Side::kBuy, 2, 4000},
      BuyRejected{8, 2, 4000, "no money"},
      OrderCancelled{12, 8, Side::kBuy, CancelReason::kReserveFailed, std::nullopt},
      OrderCancelled{12, 8, Side::kBuy, CancelReason::kCanceled, 42},
      CancelRejected{12, 9, CancelRefusal::kNotOwner, 43},
      CancelDeferred{12, 5, 44},
      MatchProposed{5, 4000, 2, {{12, 8, "bank-8", Side::kBuy, 2, 4000},
                                 {13, 9, "bank-9", Side::kSell, 2, 3900}}},
      MatchAborted{5, AbortReason::kReserveFailed, {77, 78}},
      TradeExecuted{9, 5, 4000, 2, {{12, 8, Side::kBuy, 2, 77}, {13, 9, Side::kSell, 2, 78}}},
      TradeSettled{9},
      ExchangeReset{{"http://b", "x", "http://l", "y"}},
      CommandRejected{"unknown user 5"},
  };
}

TEST(CodecTest, EveryCommandRoundTrips) {
  std::uint64_t offset = 100;
  for (const auto& body : AllCommandBodies()) {
    Command in{offset, 1'700'000'000'000'000 + static_cast<Micros>(offset), body};
    std::string bytes = EncodeCommand(in);
    auto out = DecodeCommand(bytes, offset);
    ASSERT_TRUE(out.ok()) << bytes << " -> " << out.status().ToString();
    EXPECT_EQ(out.value(), in) << bytes;
    EXPECT_EQ(EncodeCommand(out.value()), bytes);  // stable bytes: replay compares them
    ++offset;
  }
}

TEST(CodecTest, EveryEventRoundTrips) {
  std::uint32_t index = 0;
  for (const auto& body : AllEventBodies()) {
    Event in{Sequence{12, index++}, 1'700'000'000'000'000, body};
    std::string bytes = EncodeEvent(in);
    auto out = DecodeEvent(bytes);
    ASSERT_TRUE(out.ok()) << bytes << " -> " << out.status().ToString();
    EXPECT_EQ(out.value(), in) << bytes;
    EXPECT_EQ(EncodeEvent(out.value()), bytes);
  }
}

TEST(CodecTest, EncodingIsTheDocumentedEnvelope) {
  Command c{0, 5, OrderPlaced{7, Side::kSell, 3, 5000}};
  EXPECT_EQ(EncodeCommand(c),
            R"({"data":{"amount":3,"price":5000,"side":"sell","user_id":7},)"
            R"("time":5,"type":"OrderPlaced","v":1})");
}

struct BadPayload {
  const char* payload;
  const char* expected_message;  // a substring of the error: names the field
};

class CommandDecodeErrorTest : public ::testing::TestWithParam<BadPayload> {};

TEST_P(CommandDecodeErrorTest, IsRefusedNamingTheField) {
  auto r = DecodeCommand(GetParam().payload, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find(GetParam().expected_message), std::string::npos)
      << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Codec, CommandDecodeErrorTest,
    ::testing::Values(
        BadPayload{"", "not valid JSON"},
        BadPayload{"{\"v\":1,", "not valid JSON"},
        BadPayload{"[1,2]", "expected a JSON object"},
        BadPayload{R"({"type":"OrderPlaced","time":1,"data":{}})", "command.v: missing"},
        BadPayload{R"({"v":2,"type":"OrderPlaced","time":1,"data":{}})",
                   "command.v: unsupported version 2"},
        BadPayload{R"({"v":1,"type":"Teleport","time":1,"data":{}})",
                   "unknown type \"Teleport\""},
        BadPayload{R"({"v":1,"type":7,"time":1,"data":{}})", "command.type: expected a string"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","data":{}})", "command.time: missing"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1})", "OrderPlaced.data: missing"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"data":{"user_id":1,"side":"buy","price":5}})",
                   "OrderPlaced.data.amount: missing"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"data":{"user_id":1,"side":"buy","amount":"3","price":5}})",
                   "OrderPlaced.data.amount: expected an integer"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"data":{"user_id":1,"side":"buy","amount":3.5,"price":5}})",
                   "OrderPlaced.data.amount: expected an integer"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"data":{"user_id":1,"side":"buy","amount":18446744073709551615,"price":5}})",
                   "OrderPlaced.data.amount: integer out of range"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"data":{"user_id":1,"side":"hold","amount":3,"price":5}})",
                   "OrderPlaced.data.side: unknown value \"hold\""},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"data":{"user_id":1,"side":"buy","amount":3,"price":5,"x":1}})",
                   "OrderPlaced.data.x: unexpected field"},
        BadPayload{R"({"v":1,"type":"OrderPlaced","time":1,"extra":0,"data":{"user_id":1,"side":"buy","amount":3,"price":5}})",
                   "OrderPlaced.extra: unexpected field"},
        BadPayload{R"({"v":1,"type":"ReservationsReported","time":1,"data":{"match_id":1,"results":[{"order_id":1,"error":""}]}})",
                   "ReservationsReported.data.results[0].reserve_id: missing"},
        BadPayload{R"({"v":1,"type":"SigninRecorded","time":1,"data":{"bank_id":"x","password_ok":1}})",
                   "SigninRecorded.data.password_ok: expected a boolean"},
        BadPayload{R"({"v":1,"type":"CommitsReported","time":1,"data":{"trade_ids":{}}})",
                   "CommitsReported.data.trade_ids: expected an array"}));

TEST(CodecTest, EventEnvelopeIsChecked) {
  auto missing_cause = DecodeEvent(R"({"v":1,"type":"TradeSettled","index":0,"time":1,"data":{"trade_id":1}})");
  ASSERT_FALSE(missing_cause.ok());
  EXPECT_NE(missing_cause.status().message().find("event.cause: missing"), std::string::npos);

  auto bad_index = DecodeEvent(R"({"v":1,"type":"TradeSettled","cause":1,"index":4294967296,"time":1,"data":{"trade_id":1}})");
  ASSERT_FALSE(bad_index.ok());
  EXPECT_NE(bad_index.status().message().find("index"), std::string::npos);

  auto a_command = DecodeEvent(R"({"v":1,"type":"OrderPlaced","cause":1,"index":0,"time":1,"data":{}})");
  ASSERT_FALSE(a_command.ok());
  EXPECT_NE(a_command.status().message().find("unknown type \"OrderPlaced\""), std::string::npos);
}

TEST(CodecTest, SequencesOrderByCauseThenIndex) {
  EXPECT_LT((Sequence{1, 5}), (Sequence{2, 0}));
  EXPECT_LT((Sequence{2, 0}), (Sequence{2, 1}));
  EXPECT_EQ((Sequence{2, 1}), (Sequence{2, 1}));
}

}  // namespace
}  // namespace isucoin::events
