// Priority: better price first, then earlier order first (SPEC.md "Trading rules").
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class PriorityTest : public TwoTradersFixture {};

TEST_F(PriorityTest, LowestSellIsTakenFirst) {
  Id s_high = Sell(alice, 1, 102);
  Id s_low = Sell(alice, 1, 100);
  Id s_mid = Sell(alice, 1, 101);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 1, 105, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, s_low}));
  (void)s_high;
  (void)s_mid;
}

TEST_F(PriorityTest, HighestBuyIsTakenFirst) {
  Sell(alice, 1, 200);  // keeps the book from being empty on the sell side: does not cross
  Id b_low = Buy(bob, 1, 98);
  Id b_high = Buy(bob, 1, 99);
  std::vector<EventBody> ev;
  Id s = Sell(alice, 1, 97, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  // Equal amounts: the buy is tried first as the one order, the sell fills it.
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b_high, s}));
  (void)b_low;
}

TEST_F(PriorityTest, AtOnePriceTheEarlierOrderIsTakenFirst) {
  Id first = Sell(alice, 2, 100);
  Id second = Sell(bob, 2, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 2, 100, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, first}));
  (void)second;
}

TEST_F(PriorityTest, FillsWalkLevelsInPriorityOrder) {
  Id s1 = Sell(alice, 2, 101);
  Id s2 = Sell(alice, 1, 100);
  Id s3 = Sell(bob, 3, 101);
  Id s4 = Sell(bob, 1, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 7, 101, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, s2, s4, s1, s3}));
  EXPECT_EQ(m->amount, 7);
}

TEST_F(PriorityTest, AnOrderBackFromAnAbortedMatchKeepsItsPlace) {
  Id s1 = Sell(alice, 1, 100);
  std::vector<EventBody> ev;
  Id b1 = Buy(bob, 1, 100, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr);
  Id s2 = Sell(alice, 1, 100);  // arrives while s1 is locked
  // The buyer's reservation fails: s1 returns to the book ahead of s2, being older.
  ev = Do(ReservationsReported{m->match_id, {{b1, std::nullopt, "credit is insufficient"},
                                             {s1, 5001, ""}}});
  std::vector<EventBody> ev2;
  Id b2 = Buy(bob, 1, 100, &ev2);
  const MatchProposed* m2 = FindMatch(ev2);
  ASSERT_NE(m2, nullptr) << Show(ev2);
  EXPECT_EQ(LegIds(*m2), (std::vector<Id>{b2, s1}));
  (void)s2;
}

}  // namespace
}  // namespace isucoin::commands::testing
