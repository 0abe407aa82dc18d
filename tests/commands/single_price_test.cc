// One price per trade, acceptable to every order in it: the oldest order's limit, moved into
// [highest sell limit, lowest buy limit] when outside it (commands/MATCHING.md "Price").
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class SinglePriceTest : public TwoTradersFixture {
 protected:
  std::int64_t PriceOf(const std::vector<EventBody>& ev) {
    const MatchProposed* m = FindMatch(ev);
    EXPECT_NE(m, nullptr) << Show(ev);
    return m ? m->price : -1;
  }
};

TEST_F(SinglePriceTest, ARestingSellSetsThePrice) {
  Sell(alice, 1, 100);
  std::vector<EventBody> ev;
  Buy(bob, 1, 110, &ev);
  EXPECT_EQ(PriceOf(ev), 100);
}

TEST_F(SinglePriceTest, ARestingBuySetsThePrice) {
  Buy(bob, 1, 110);
  std::vector<EventBody> ev;
  Sell(alice, 1, 100, &ev);
  EXPECT_EQ(PriceOf(ev), 110);
}

TEST_F(SinglePriceTest, TheOldestPriceIsRaisedToTheHighestSellLimit) {
  Sell(alice, 1, 100);   // oldest: 100
  Sell(alice, 1, 104);   // but this seller asks 104
  std::vector<EventBody> ev;
  Buy(bob, 2, 110, &ev);
  EXPECT_EQ(PriceOf(ev), 104);
}

TEST_F(SinglePriceTest, TheOldestPriceIsLoweredToTheLowestBuyLimit) {
  Buy(bob, 1, 110);     // oldest: 110
  Buy(bob, 1, 103);     // but this buyer pays at most 103
  std::vector<EventBody> ev;
  Sell(alice, 2, 100, &ev);
  EXPECT_EQ(PriceOf(ev), 103);
}

TEST_F(SinglePriceTest, EveryLegSeesTheSamePriceInTheTrade) {
  Sell(alice, 1, 100);
  Sell(alice, 2, 102);
  std::vector<EventBody> ev;
  Buy(bob, 3, 105, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr);
  auto done = ReserveAll(*m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(std::get<TradeExecuted>(done[0]).price, 102);
  for (const auto& leg : m->legs) {
    if (leg.side == Side::kSell) EXPECT_LE(leg.price, 102);
    else EXPECT_GE(leg.price, 102);
  }
}

}  // namespace
}  // namespace isucoin::commands::testing
