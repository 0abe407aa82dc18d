// An order may be passed over only when its amount does not fit the remaining amount.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class PassOverTest : public TwoTradersFixture {};

TEST_F(PassOverTest, AnOrderThatDoesNotFitIsPassedOver) {
  Id big = Sell(alice, 6, 99);   // best price, but 6 > 5
  Id fits = Sell(alice, 5, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 5, 100, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, fits}));
  (void)big;
}

TEST_F(PassOverTest, AnOrderThatFitsIsNeverPassedOverForABetterCombination) {
  // Buy 5: sells 4@100 (fits, taken: 1 left), 3@100 (too big), 2@100 (too big), 1@101 (fits).
  // 3 + 2 would fill exactly, but 4 fitted first and may not be passed over.
  Id s4 = Sell(alice, 4, 100);
  Sell(alice, 3, 100);
  Sell(alice, 2, 100);
  Id s1 = Sell(alice, 1, 101);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 5, 101, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, s4, s1}));
}

TEST_F(PassOverTest, WithoutACompletingOrderNothingTrades) {
  // Same book without the 1: the 4 must be taken, then nothing fits the last chair.
  Sell(alice, 4, 100);
  Sell(alice, 3, 100);
  Sell(alice, 2, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 5, 100, &ev);
  EXPECT_EQ(ev, (std::vector<EventBody>{OrderAccepted{b, bob, Side::kBuy, 5, 100}}));
}

TEST_F(PassOverTest, ACancelCanMakeATradePossible) {
  Id s4 = Sell(alice, 4, 100);
  Id s3 = Sell(alice, 3, 100);
  Id s2 = Sell(alice, 2, 100);
  Id b = Buy(bob, 5, 100);
  // With the 4 gone, 3 + 2 is the walk: the trade happens at once.
  auto ev = Do(CancelRequested{alice, s4});
  ASSERT_EQ(ev.size(), 2u) << Show(ev);
  EXPECT_EQ(ev[0], EventBody(OrderCancelled{s4, alice, Side::kSell, CancelReason::kCanceled,
                                            last_offset_}));
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr);
  // Candidates go pair by pair: the buy (5) is larger than the best sell (3), so it walks.
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, s3, s2}));
}

}  // namespace
}  // namespace isucoin::commands::testing
