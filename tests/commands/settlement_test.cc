// The settlement handshake: a proposed match locks its orders; the bank's answers execute it
// or abort it, cancelling the orders that could not pay and re-matching the others.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class SettlementTest : public ExchangeFixture {
 protected:
  void SetUp() override {
    alice = Signup("alice");
    bob = Signup("bob");
    carol = Signup("carol");
  }
  Id alice = 0, bob = 0, carol = 0;
};

TEST_F(SettlementTest, AProposedMatchNamesEveryLegWithItsBankAccount) {
  Id s = Sell(alice, 2, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 2, 100, &ev);
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    OrderAccepted{b, bob, Side::kBuy, 2, 100},
                    MatchProposed{1, 100, 2,
                                  {MatchLeg{b, bob, "bank-bob", Side::kBuy, 2, 100},
                                   MatchLeg{s, alice, "bank-alice", Side::kSell, 2, 100}}}}));
}

TEST_F(SettlementTest, LockedOrdersAreNotMatchableAndNotCountedInBestPrices) {
  Sell(alice, 1, 100);
  Buy(bob, 1, 100);
  EXPECT_EQ(exchange_.best_ask(), std::nullopt);
  EXPECT_EQ(exchange_.best_bid(), std::nullopt);
  std::vector<EventBody> ev;
  Buy(carol, 1, 100, &ev);
  EXPECT_EQ(FindMatch(ev), nullptr) << Show(ev);
}

TEST_F(SettlementTest, AllReservedExecutesTheTradeAndCommitsSettleItOnce) {
  Id s = Sell(alice, 3, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 3, 100, &ev);
  auto executed = ReserveAll(*FindMatch(ev));
  EXPECT_EQ(executed, (std::vector<EventBody>{TradeExecuted{
                          1, 1, 100, 3,
                          {TradeLeg{b, bob, Side::kBuy, 3, 1000 + b},
                           TradeLeg{s, alice, Side::kSell, 3, 1000 + s}}}}));
  EXPECT_EQ(Do(CommitsReported{{1}}), (std::vector<EventBody>{TradeSettled{1}}));
  EXPECT_EQ(Do(CommitsReported{{1}}), std::vector<EventBody>{});   // reported twice: once
  EXPECT_EQ(Do(CommitsReported{{42}}), std::vector<EventBody>{});  // unknown trade
}

TEST_F(SettlementTest, AReportForAMatchAlreadyDecidedIsIgnored) {
  Sell(alice, 1, 100);
  std::vector<EventBody> ev;
  Buy(bob, 1, 100, &ev);
  const MatchProposed m = *FindMatch(ev);
  ReserveAll(m);
  EXPECT_EQ(ReserveAll(m), std::vector<EventBody>{});
  EXPECT_EQ(Do(ReservationsReported{99, {}}), std::vector<EventBody>{});
}

TEST_F(SettlementTest, AReportThatDoesNotNameEachLegOnceIsRejectedAndTheMatchWaits) {
  Id s = Sell(alice, 1, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 1, 100, &ev);
  const MatchProposed m = *FindMatch(ev);
  auto bad = Do(ReservationsReported{m.match_id, {{b, 1, ""}, {b, 2, ""}}});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<CommandRejected>(bad[0]));
  auto good = Do(ReservationsReported{m.match_id, {{s, 3, ""}, {b, 4, ""}}});
  ASSERT_EQ(good.size(), 1u) << Show(good);
  EXPECT_TRUE(std::holds_alternative<TradeExecuted>(good[0]));
}

TEST_F(SettlementTest, AFailedReservationCancelsThatOrderAndRematchesTheOthers) {
  // alice sells 3; bob's buy 2 and carol's buy 1 fill it. bob cannot pay.
  Id s = Sell(alice, 3, 100);
  Id b_bob = Buy(bob, 2, 100);
  std::vector<EventBody> ev;
  Id b_carol = Buy(carol, 1, 100, &ev);
  const MatchProposed m = *FindMatch(ev);
  ASSERT_EQ(LegIds(m), (std::vector<Id>{s, b_bob, b_carol}));
  // Another buyer of 2 arrives while the match is pending.
  Id b_late = Buy(bob, 2, 100, &ev);
  EXPECT_EQ(FindMatch(ev), nullptr);

  ev = Do(ReservationsReported{m.match_id, {{s, 501, ""},
                                            {b_bob, std::nullopt, "credit is insufficient"},
                                            {b_carol, 503, ""}}});
  ASSERT_EQ(ev.size(), 3u) << Show(ev);
  EXPECT_EQ(ev[0], EventBody(OrderCancelled{b_bob, bob, Side::kBuy,
                                            CancelReason::kReserveFailed, std::nullopt}));
  EXPECT_EQ(ev[1], EventBody(MatchAborted{m.match_id, AbortReason::kReserveFailed, {501, 503}}));
  // Re-matched at once: the sell walks carol's 1 then the late 2.
  const MatchProposed* again = FindMatch(ev);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(LegIds(*again), (std::vector<Id>{s, b_carol, b_late}));
  EXPECT_EQ(again->match_id, m.match_id + 1);
}

TEST_F(SettlementTest, WhenEveryReservationFailsAllAreCancelled) {
  Id s = Sell(alice, 1, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 1, 100, &ev);
  const MatchProposed m = *FindMatch(ev);
  ev = Do(ReservationsReported{m.match_id, {{s, std::nullopt, "no such account"},
                                            {b, std::nullopt, "credit is insufficient"}}});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    OrderCancelled{b, bob, Side::kBuy, CancelReason::kReserveFailed, std::nullopt},
                    OrderCancelled{s, alice, Side::kSell, CancelReason::kReserveFailed, std::nullopt},
                    MatchAborted{m.match_id, AbortReason::kReserveFailed, {}}}));
  EXPECT_EQ(exchange_.open_order_count(), 0u);
}

TEST_F(SettlementTest, MatchingGoesOnWhileAMatchWaitsForTheBank) {
  Sell(alice, 1, 100);
  std::vector<EventBody> first;
  Buy(bob, 1, 100, &first);
  Sell(alice, 1, 101);
  std::vector<EventBody> second;
  Buy(carol, 1, 101, &second);
  ASSERT_NE(FindMatch(first), nullptr);
  ASSERT_NE(FindMatch(second), nullptr);
  EXPECT_EQ(FindMatch(second)->match_id, FindMatch(first)->match_id + 1);
}

}  // namespace
}  // namespace isucoin::commands::testing
