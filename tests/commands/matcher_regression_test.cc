// Hand-checked scenarios from commands/MATCHING.md, and the shrunk reproducers the property test
// found. Each scenario runs through the production Exchange, with the expected events written
// out by hand from the spec; the brute-force ReferenceExchange must agree too (so a mistake in
// either reading shows up here, readably).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "commands/exchange.h"
#include "tests/commands/model_util.h"
#include "tests/commands/reference_exchange.h"

namespace isucoin::testing {
namespace {

namespace ev = isucoin::events;
using commands::Exchange;

constexpr ev::Micros kT0 = 1'700'000'000'000'000;
constexpr ev::Micros kMinute = 60'000'000;

ev::Command Cmd(std::uint64_t offset, ev::Micros time, ev::CommandBody body) {
  return ev::Command{offset, time, std::move(body)};
}

// The events of every command, from production; fails the test if the reference disagrees.
std::vector<std::vector<ev::Event>> RunBoth(const std::vector<ev::Command>& stream) {
  Exchange prod;
  ReferenceExchange ref;
  std::vector<std::vector<ev::Event>> out;
  for (const auto& c : stream) {
    auto p = prod.apply(c);
    auto r = ref.apply(c);
    EXPECT_EQ(NormalizeForComparison(p), NormalizeForComparison(r))
        << Describe(c) << "\nproduction:\n"
        << Describe(p) << "reference:\n"
        << Describe(r);
    out.push_back(std::move(p));
  }
  return out;
}

// Readable failure messages: compare the described events.
void ExpectEvents(const std::vector<ev::Event>& actual, const std::vector<ev::EventBody>& want,
                  const ev::Command& cmd) {
  std::vector<ev::Event> expected;
  for (std::size_t i = 0; i < want.size(); ++i) {
    expected.push_back(
        ev::Event{ev::Sequence{cmd.offset, static_cast<std::uint32_t>(i)}, cmd.time, want[i]});
  }
  EXPECT_EQ(actual, expected) << Describe(cmd) << "\nactual:\n"
                              << Describe(actual) << "expected:\n"
                              << Describe(expected);
}

ev::MatchLeg Leg(ev::Id order, ev::Id user, ev::Side side, std::int64_t amount,
                 std::int64_t price) {
  return ev::MatchLeg{order, user, "bank-" + std::to_string(user), side, amount, price};
}

const ev::Side kBuy = ev::Side::kBuy;
const ev::Side kSell = ev::Side::kSell;

ev::SignupRequested Signup(int n) {
  return ev::SignupRequested{"user" + std::to_string(n), "bank-" + std::to_string(n), "$2a$h"};
}

// Pair (b0, s0), larger first: the buy of 5 walks the sells 3 + 2; price of the oldest (order 1).
TEST(MatcherSpecExample, LargerOfTheBestPairWalksFirst) {
  std::vector<ev::Command> s = {
      Cmd(0, kT0, Signup(1)),
      Cmd(1, kT0, Signup(2)),
      Cmd(2, kT0, ev::OrderPlaced{1, kSell, 3, 100}),
      Cmd(3, kT0, ev::OrderPlaced{1, kSell, 2, 100}),
      Cmd(4, kT0, ev::OrderPlaced{2, kBuy, 5, 101}),
  };
  auto out = RunBoth(s);
  ExpectEvents(out[0], {ev::GenesisCompleted{}, ev::UserRegistered{1, "bank-1", "user1", "$2a$h"}},
               s[0]);
  ExpectEvents(out[4],
               {ev::OrderAccepted{3, 2, kBuy, 5, 101},
                ev::MatchProposed{1, 100, 5,
                                  {Leg(3, 2, kBuy, 5, 101), Leg(1, 1, kSell, 3, 100),
                                   Leg(2, 1, kSell, 2, 100)}}},
               s[4]);
}

// The walk passes over an order too large for the remainder; the oldest leg's price (95) is
// moved up into [highest sell, lowest buy] = [100, 105].
TEST(MatcherSpecExample, WalkPassesOverAndPriceIsClamped) {
  std::vector<ev::Command> s = {
      Cmd(0, kT0, Signup(1)),
      Cmd(1, kT0, Signup(2)),
      Cmd(2, kT0, ev::OrderPlaced{1, kSell, 1, 95}),   // order 1 (oldest)
      Cmd(3, kT0, ev::OrderPlaced{1, kSell, 5, 99}),   // order 2: passed over
      Cmd(4, kT0, ev::OrderPlaced{1, kSell, 1, 100}),  // order 3
      Cmd(5, kT0, ev::OrderPlaced{2, kBuy, 2, 105}),   // order 4
  };
  auto out = RunBoth(s);
  ExpectEvents(out[5],
               {ev::OrderAccepted{4, 2, kBuy, 2, 105},
                ev::MatchProposed{1, 100, 2,
                                  {Leg(4, 2, kBuy, 2, 105), Leg(1, 1, kSell, 1, 95),
                                   Leg(3, 1, kSell, 1, 100)}}},
               s[5]);
}

// Deferred cancels: the failed leg is auto-cancelled, the surviving leg with two deferred
// cancels is cancelled by the first and the second is rejected, the other survivor returns to
// the book and the sweep runs.
TEST(MatcherSpecExample, ReserveFailureWithDeferredCancels) {
  std::vector<ev::Command> s = {
      Cmd(0, kT0, Signup(1)),
      Cmd(1, kT0, Signup(2)),
      Cmd(2, kT0, ev::OrderPlaced{1, kSell, 1, 100}),  // 1
      Cmd(3, kT0, ev::OrderPlaced{1, kSell, 1, 100}),  // 2
      Cmd(4, kT0, ev::OrderPlaced{2, kBuy, 3, 100}),   // 3: no fill yet (1 + 1 < 3)
      Cmd(5, kT0, ev::OrderPlaced{1, kSell, 1, 100}),  // 4: match 1 = [3, 1, 2, 4]
      Cmd(6, kT0, ev::CancelRequested{1, 2}),          // deferred
      Cmd(7, kT0, ev::CancelRequested{1, 2}),          // deferred again
      Cmd(8, kT0, ev::ReservationsReported{1,
                                           {{4, 14, ""},
                                            {1, 11, ""},
                                            {3, std::nullopt, "credit is insufficient"},
                                            {2, 12, ""}}}),
  };
  auto out = RunBoth(s);
  ExpectEvents(out[5],
               {ev::OrderAccepted{4, 1, kSell, 1, 100},
                ev::MatchProposed{1, 100, 3,
                                  {Leg(3, 2, kBuy, 3, 100), Leg(1, 1, kSell, 1, 100),
                                   Leg(2, 1, kSell, 1, 100), Leg(4, 1, kSell, 1, 100)}}},
               s[5]);
  ExpectEvents(out[6], {ev::CancelDeferred{2, 1, 6}}, s[6]);
  ExpectEvents(out[7], {ev::CancelDeferred{2, 1, 7}}, s[7]);
  ExpectEvents(
      out[8],
      {ev::OrderCancelled{3, 2, kBuy, ev::CancelReason::kReserveFailed, std::nullopt},
       ev::MatchAborted{1, ev::AbortReason::kReserveFailed, {11, 12, 14}},
       ev::OrderCancelled{2, 1, kSell, ev::CancelReason::kCanceled, 6},
       ev::CancelRejected{2, 1, ev::CancelRefusal::kAlreadyClosed, 7}},
      s[8]);
}

// All legs reserved: the trade executes and a deferred cancel is answered already_closed.
// Duplicate and unknown reports are ignored; a malformed one is rejected.
TEST(MatcherSpecExample, ExecutionAndDuplicateReports) {
  std::vector<ev::Command> s = {
      Cmd(0, kT0, Signup(1)),
      Cmd(1, kT0, Signup(2)),
      Cmd(2, kT0, ev::OrderPlaced{1, kSell, 2, 100}),  // 1
      Cmd(3, kT0, ev::OrderPlaced{2, kBuy, 2, 100}),   // 2: match 1 = [2, 1]
      Cmd(4, kT0, ev::ReservationsReported{1, {{2, 21, ""}}}),  // a leg missing
      Cmd(5, kT0, ev::CancelRequested{1, 1}),
      Cmd(6, kT0, ev::ReservationsReported{1, {{1, 11, ""}, {2, 21, ""}}}),
      Cmd(7, kT0, ev::ReservationsReported{1, {{1, 11, ""}, {2, 21, ""}}}),
      Cmd(8, kT0, ev::ReservationsReported{99, {{1, 11, ""}}}),
      Cmd(9, kT0, ev::CommitsReported{{1, 1, 5}}),
      Cmd(10, kT0, ev::CancelRequested{1, 1}),
  };
  auto out = RunBoth(s);
  ExpectEvents(out[3],
               {ev::OrderAccepted{2, 2, kBuy, 2, 100},
                ev::MatchProposed{1, 100, 2, {Leg(2, 2, kBuy, 2, 100), Leg(1, 1, kSell, 2, 100)}}},
               s[3]);
  ASSERT_EQ(out[4].size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ev::CommandRejected>(out[4][0].body)) << Describe(out[4]);
  ExpectEvents(out[5], {ev::CancelDeferred{1, 1, 5}}, s[5]);
  ExpectEvents(out[6],
               {ev::TradeExecuted{1, 1, 100, 2, {{2, 2, kBuy, 2, 21}, {1, 1, kSell, 2, 11}}},
                ev::CancelRejected{1, 1, ev::CancelRefusal::kAlreadyClosed, 5}},
               s[6]);
  ExpectEvents(out[7], {}, s[7]);
  ExpectEvents(out[8], {}, s[8]);
  ExpectEvents(out[9], {ev::TradeSettled{1}}, s[9]);
  ExpectEvents(out[10], {ev::CancelRejected{1, 1, ev::CancelRefusal::kAlreadyClosed, 10}}, s[10]);
}

// Five failures block for 10 minutes from the last failure; after that one attempt goes through.
TEST(MatcherSpecExample, SigninDefenceAndCooldown) {
  std::vector<ev::Command> s = {Cmd(0, kT0, Signup(1))};
  for (int i = 1; i <= 5; ++i) s.push_back(Cmd(i, kT0 + i, ev::SigninRecorded{"bank-1", false}));
  s.push_back(Cmd(6, kT0 + 5 + 10 * kMinute - 1, ev::SigninRecorded{"bank-1", true}));
  s.push_back(Cmd(7, kT0 + 5 + 10 * kMinute, ev::SigninRecorded{"bank-1", false}));
  s.push_back(Cmd(8, kT0 + 5 + 20 * kMinute, ev::SigninRecorded{"bank-1", true}));
  s.push_back(Cmd(9, kT0 + 5 + 20 * kMinute, ev::SigninRecorded{"bank-1", false}));
  auto out = RunBoth(s);
  ExpectEvents(out[4], {ev::SigninFailed{"bank-1", 4}}, s[4]);
  ExpectEvents(out[5], {ev::SigninFailed{"bank-1", 5}}, s[5]);
  ExpectEvents(out[6], {ev::SigninBlocked{"bank-1", kT0 + 5 + 10 * kMinute}}, s[6]);
  ExpectEvents(out[7], {ev::SigninFailed{"bank-1", 6}}, s[7]);
  ExpectEvents(out[8], {ev::SigninSucceeded{1, "bank-1"}}, s[8]);
  ExpectEvents(out[9], {ev::SigninFailed{"bank-1", 1}}, s[9]);
}

// Crossing genesis orders are proposed at GenesisCompleted and again, under a new match id,
// after a reset; ids are never reused.
TEST(MatcherSpecExample, GenesisCrossingAndReset) {
  std::vector<ev::Command> s = {
      Cmd(0, kT0, ev::UserImported{1, "bank-1", "a", "h", 1}),
      Cmd(1, kT0, ev::UserImported{2, "bank-2", "b", "h", 1}),
      Cmd(2, kT0, ev::OrderImported{5, kBuy, 1, 2, 100, 1, std::nullopt, std::nullopt}),
      Cmd(3, kT0, ev::OrderImported{7, kSell, 2, 2, 99, 1, std::nullopt, std::nullopt}),
      Cmd(4, kT0, ev::GenesisSealed{}),
      Cmd(5, kT0, Signup(3)),
      Cmd(6, kT0, ev::CancelRequested{1, 5}),
      Cmd(7, kT0, ev::ResetRequested{}),
      Cmd(8, kT0, Signup(3)),
      Cmd(9, kT0, ev::OrderPlaced{1, kBuy, 1, 90}),
      Cmd(10, kT0, ev::GenesisSealed{}),
  };
  auto out = RunBoth(s);
  auto match = [](ev::Id id) {
    return ev::MatchProposed{
        id, 100, 2,
        {ev::MatchLeg{5, 1, "bank-1", kBuy, 2, 100}, ev::MatchLeg{7, 2, "bank-2", kSell, 2, 99}}};
  };
  ExpectEvents(out[4], {ev::GenesisCompleted{}, match(1)}, s[4]);
  ExpectEvents(out[5], {ev::UserRegistered{3, "bank-3", "user3", "$2a$h"}}, s[5]);
  ExpectEvents(out[6], {ev::CancelDeferred{5, 1, 6}}, s[6]);
  ExpectEvents(out[7],
               {ev::CancelRejected{5, 1, ev::CancelRefusal::kAlreadyClosed, 6},
                ev::MatchAborted{1, ev::AbortReason::kReset, {}}, ev::ExchangeReset{}, match(2)},
               s[7]);
  ExpectEvents(out[8], {ev::UserRegistered{4, "bank-3", "user3", "$2a$h"}}, s[8]);
  ExpectEvents(out[9], {ev::OrderAccepted{8, 1, kBuy, 1, 90}}, s[9]);
  ASSERT_EQ(out[10].size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ev::CommandRejected>(out[10][0].body));
}


// A walk passes over an order larger than the remainder even when it equals X's own amount:
// sells 2, 5, 3 (priority order); the buy of 5 (the larger of the pair with the sell of 2)
// takes 2, passes over 5, takes 3.
TEST(MatcherSpecExample, WalkPassesOverAnOrderOfItsOwnAmount) {
  std::vector<ev::Command> s = {
      Cmd(0, kT0, Signup(1)),
      Cmd(1, kT0, Signup(2)),
      Cmd(2, kT0, ev::OrderPlaced{1, kSell, 2, 100}),  // 1
      Cmd(3, kT0, ev::OrderPlaced{1, kSell, 5, 101}),  // 2
      Cmd(4, kT0, ev::OrderPlaced{1, kSell, 3, 102}),  // 3
      Cmd(5, kT0, ev::OrderPlaced{2, kBuy, 5, 102}),   // 4
  };
  auto out = RunBoth(s);
  ExpectEvents(out[5],
               {ev::OrderAccepted{4, 2, kBuy, 5, 102},
                ev::MatchProposed{1, 102, 5,
                                  {Leg(4, 2, kBuy, 5, 102), Leg(1, 1, kSell, 2, 100),
                                   Leg(3, 1, kSell, 3, 102)}}},
               s[5]);
}

}  // namespace
}  // namespace isucoin::testing
