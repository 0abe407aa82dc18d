// The fast event decoder must agree with the codec on every input: a real history, edge
// values, and mutations of real records (which it must either decode identically or leave to
// the codec).
#include <gtest/gtest.h>

#include <random>

#include "events/codec.h"
#include "events/fast_decode.h"
#include "tests/replay/history_fixture.h"

namespace isucoin::events {
namespace {

void ExpectSame(std::string_view payload) {
  auto slow = events::DecodeEvent(payload);
  auto fast = DecodeEventFast(payload);
  ASSERT_EQ(slow.ok(), fast.ok()) << payload;
  if (slow.ok()) {
    EXPECT_TRUE(slow.value() == fast.value()) << payload;
  } else {
    EXPECT_EQ(slow.status().message(), fast.status().message());
  }
}

TEST(FastDecode, AgreesWithTheCodecOnARealHistoryAndTakesTheFastPath) {
  events::MemoryLog commands, log;
  replay_test::Generate(commands, log, 20'000, /*settle_all=*/false);
  std::size_t fast = 0;
  const auto payloads = replay_test::Payloads(log);
  for (const auto& p : payloads) {
    ExpectSame(p);
    events::Event e;
    if (TryDecodeEventFast(p, e)) ++fast;
  }
  EXPECT_GT(fast, payloads.size() * 8 / 10);  // most records take the fast path
}

TEST(FastDecode, EdgeValuesRoundTrip) {
  using namespace events;
  std::vector<Event> samples = {
      {{0, 0}, 0, OrderAccepted{1, 2, Side::kSell, 1, 1}},
      {{123456789012345678ull, 4294967295u}, -5, TradeSettled{999999999999999999}},
      {{7, 1}, 1, OrderCancelled{5, 6, Side::kBuy, CancelReason::kCanceled, std::nullopt}},
      {{7, 2}, 1, OrderCancelled{5, 6, Side::kSell, CancelReason::kCanceled, 12}},
      {{7, 3}, 1, OrderCancelled{5, 6, Side::kSell, CancelReason::kReserveFailed, std::nullopt}},
      {{8, 0}, 2, MatchProposed{3, 100, 2, {}}},
      {{8, 1}, 2, MatchProposed{3, 100, 2, {{1, 2, "b\"q", Side::kBuy, 2, 100}}}},
      {{8, 2}, 2, MatchProposed{3, 100, 2, {{1, 2, "ユーザ", Side::kBuy, 2, 100}, {4, 5, "x", Side::kSell, 1, 90}}}},
      {{9, 0}, 3, MatchAborted{3, AbortReason::kReserveFailed, {}}},
      {{9, 1}, 3, MatchAborted{3, AbortReason::kReserveFailed, {1, -2, 3}}},
      {{9, 2}, 3, MatchAborted{3, AbortReason::kReset, {1}}},
      {{10, 0}, 4, TradeExecuted{1, 2, 3, 4, {{1, 2, Side::kBuy, 2, 7}, {3, 4, Side::kSell, 2, 8}}}},
      {{11, 0}, 4, TradeExecuted{-1, 0, -3, 0, {}}},
      {{12, 0}, 4, OrderAccepted{1, 2, Side::kBuy, std::numeric_limits<std::int64_t>::max(), -1}},
      {{13, 0}, 4, GenesisCompleted{}},
  };
  for (const auto& e : samples) {
    const std::string p = EncodeEvent(e);
    ExpectSame(p);
    auto fast = DecodeEventFast(p);
    ASSERT_TRUE(fast.ok()) << p;
    EXPECT_TRUE(fast.value() == e) << p;
  }
}

TEST(FastDecode, MutatedRecordsAgreeWithTheCodec) {
  events::MemoryLog commands, log;
  replay_test::Generate(commands, log, 3'000, /*settle_all=*/false);
  const auto payloads = replay_test::Payloads(log);
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789-+.eE \"\\,:{}[]nulltrueabcdefghijklmnopqrstuvwxyz\x01\xff";
  for (int i = 0; i < 20'000; ++i) {
    std::string p = payloads[rng() % payloads.size()];
    const int kind = static_cast<int>(rng() % 4);
    const std::size_t at = rng() % p.size();
    if (kind == 0) p[at] = alphabet[rng() % alphabet.size()];
    else if (kind == 1) p.insert(at, 1, alphabet[rng() % alphabet.size()]);
    else if (kind == 2) p.erase(at, 1);
    else p = p.substr(0, at);
    ExpectSame(p);
  }
  // Specific spellings the fast path must refuse, or decode as the codec does.
  for (std::string p : {
           std::string(R"({"cause":01,"data":{"trade_id":1},"index":0,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":1,"data":{"trade_id":-0},"index":0,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":1,"data":{"trade_id":1.0},"index":0,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":1,"data":{"trade_id":1},"index":4294967296,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":-1,"data":{"trade_id":1},"index":0,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":1,"data":{"trade_id":1},"index":0,"time":1,"type":"TradeSettled","v":2})"),
           std::string(R"({"cause":1,"data":{"trade_id":1,"x":1},"index":0,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":1,"data":{"trade_id":1234567890123456789012},"index":0,"time":1,"type":"TradeSettled","v":1})"),
           std::string(R"({"cause":1,"data":{"trade_id":1},"index":0,"time":1,"type":"TradeSettled","v":1} )"),
       }) {
    ExpectSame(p);
  }
}

}  // namespace
}  // namespace isucoin::events

namespace isucoin::events {
namespace {

void ExpectSameCommand(std::string_view payload) {
  auto slow = events::DecodeCommand(payload, 42);
  auto fast = DecodeCommandFast(payload, 42);
  ASSERT_EQ(slow.ok(), fast.ok()) << payload;
  if (slow.ok()) {
    EXPECT_TRUE(slow.value() == fast.value()) << payload;
  } else {
    EXPECT_EQ(slow.status().message(), fast.status().message());
  }
}

TEST(FastDecodeCommand, AgreesWithTheCodecOnRealAndMutatedCommands) {
  events::MemoryLog commands, log;
  replay_test::Generate(commands, log, 5'000, /*settle_all=*/true);
  const auto payloads = replay_test::Payloads(commands);
  std::size_t fast = 0;
  for (const auto& p : payloads) {
    ExpectSameCommand(p);
    events::Command c;
    if (TryDecodeCommandFast(p, 42, c)) ++fast;
  }
  EXPECT_GT(fast, payloads.size() / 2);
  using namespace events;
  for (const Command& c : std::vector<Command>{
           {42, -1, OrderPlaced{1, Side::kSell, 2, 3}},
           {42, 5, CancelRequested{0, -7}},
           {42, 5, ReservationsReported{9, {}}},
           {42, 5, ReservationsReported{9, {{1, std::nullopt, "credit is insufficient"}, {2, 77, ""}}}},
           {42, 5, ReservationsReported{9, {{1, std::nullopt, "é\n"}}}},
           {42, 5, CommitsReported{{}}},
           {42, 5, CommitsReported{{1, 2, 3}}},
       }) {
    const std::string p = EncodeCommand(c);
    ExpectSameCommand(p);
    EXPECT_TRUE(DecodeCommandFast(p, 42).value() == c) << p;
  }
  std::mt19937 rng(11);
  const std::string alphabet = "0123456789-+.eE \"\\,:{}[]nulltrueabcdefghijklmnopqrstuvwxyz\x01\xff";
  for (int i = 0; i < 20'000; ++i) {
    std::string p = payloads[rng() % payloads.size()];
    const std::size_t at = rng() % p.size();
    switch (rng() % 4) {
      case 0: p[at] = alphabet[rng() % alphabet.size()]; break;
      case 1: p.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      case 2: p.erase(at, 1); break;
      default: p = p.substr(0, at);
    }
    ExpectSameCommand(p);
  }
}

}  // namespace
}  // namespace isucoin::events
