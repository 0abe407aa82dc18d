// All-or-nothing: an order trades in full, in exactly one trade, or not at all.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class AllOrNothingTest : public TwoTradersFixture {};

TEST_F(AllOrNothingTest, ABuyLargerThanTheBookWaits) {
  Sell(alice, 2, 100);
  Sell(alice, 3, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 10, 100, &ev);
  EXPECT_EQ(ev, (std::vector<EventBody>{OrderAccepted{b, bob, Side::kBuy, 10, 100}}));
  EXPECT_EQ(exchange_.open_order_count(), 3u);
}

TEST_F(AllOrNothingTest, ItTradesWhenTheAmountsAddUpExactly) {
  Id s1 = Sell(alice, 2, 100);
  Id s2 = Sell(alice, 3, 100);
  Id b = Buy(bob, 10, 100);
  std::vector<EventBody> ev;
  Id s3 = Sell(alice, 5, 100, &ev);
  ASSERT_EQ(ev.size(), 2u) << Show(ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{b, s1, s2, s3}));
  EXPECT_EQ(m->amount, 10);
  EXPECT_EQ(exchange_.open_order_count(), 0u);
}

TEST_F(AllOrNothingTest, TheSmallerOrderJoinsALargerOneOnlyWithOthersThatFillIt) {
  Id s = Sell(alice, 5, 100);
  std::vector<EventBody> ev;
  Id b1 = Buy(bob, 3, 100, &ev);
  EXPECT_EQ(FindMatch(ev), nullptr) << Show(ev);
  Id b2 = Buy(bob, 2, 100, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{s, b1, b2}));
}

TEST_F(AllOrNothingTest, ATradeMovesEveryLegsFullAmount) {
  Id s1 = Sell(alice, 4, 100);
  Id s2 = Sell(alice, 1, 100);
  std::vector<EventBody> ev;
  Id b = Buy(bob, 5, 100, &ev);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr);
  auto executed = ReserveAll(*m);
  ASSERT_EQ(executed.size(), 1u);
  const auto& trade = std::get<TradeExecuted>(executed[0]);
  EXPECT_EQ(trade.amount, 5);
  EXPECT_EQ(trade.legs, (std::vector<TradeLeg>{{b, bob, Side::kBuy, 5, 1000 + b},
                                              {s1, alice, Side::kSell, 4, 1000 + s1},
                                              {s2, alice, Side::kSell, 1, 1000 + s2}}));
}

}  // namespace
}  // namespace isucoin::commands::testing
