// The read models, fed by the real matcher: what a client sees, and when.
#include "projections/read_model.h"

#include <gtest/gtest.h>

#include "commands/exchange.h"
#include "projections/live_read_model.h"

namespace isucoin::projections {
namespace {

using namespace isucoin::events;

constexpr Micros kT0 = 1'539'648'000'000'000;  // 2018-10-16T09:00:00+09:00

class ReadModelTest : public ::testing::Test {
 protected:
  // Runs a command through the matcher and its events through the read model.
  std::vector<Event> Do(CommandBody body, Micros at = 0) {
    time_ = at ? at : time_ + 1'000'000;
    auto events = exchange_.apply(Command{offset_++, time_, std::move(body)});
    for (const auto& e : events) model_.Apply(e);
    all_.insert(all_.end(), events.begin(), events.end());
    return events;
  }
  Id Signup(const std::string& name) {
    for (const auto& e : Do(SignupRequested{name, "bank-" + name, "$2b$04$x"}))
      if (auto* u = std::get_if<UserRegistered>(&e.body)) return u->user_id;
    return 0;
  }
  Id Place(Id user, Side side, std::int64_t amount, std::int64_t price, Micros at = 0) {
    for (const auto& e : Do(OrderPlaced{user, side, amount, price}, at)) {
      if (auto* a = std::get_if<OrderAccepted>(&e.body)) return a->order_id;
    }
    return 0;
  }
  std::optional<MatchProposed> LastMatch() const {
    for (auto it = all_.rbegin(); it != all_.rend(); ++it)
      if (auto* m = std::get_if<MatchProposed>(&it->body)) return *m;
    return std::nullopt;
  }
  Id Execute(const MatchProposed& m, Micros at = 0) {
    ReservationsReported r{m.match_id, {}};
    for (const auto& leg : m.legs) r.results.push_back({leg.order_id, 100 + leg.order_id, ""});
    for (const auto& e : Do(r, at))
      if (auto* t = std::get_if<TradeExecuted>(&e.body)) return t->trade_id;
    return 0;
  }

  commands::Exchange exchange_;
  ReadModel model_{9 * 3600};
  std::uint64_t offset_ = 0;
  Micros time_ = kT0;
  std::vector<Event> all_;
};

TEST_F(ReadModelTest, AnOrderIsListedAtOnceAndShowsAsTradedOnlyWhenSettled) {
  Id a = Signup("a"), b = Signup("b");
  Id s = Place(a, Side::kSell, 2, 100);
  Id o = Place(b, Side::kBuy, 2, 100);
  auto mine = model_.OrdersOf(b);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id, o);
  EXPECT_FALSE(mine[0].closed_at);
  Id trade = Execute(*LastMatch());
  // Executed but not paid: still shown open, and not in the charts.
  EXPECT_FALSE(model_.OrdersOf(b)[0].trade_id);
  EXPECT_TRUE(model_.Chart(ChartResolution::kSecond).empty());
  EXPECT_EQ(model_.settled_cursor(), 0);
  Do(CommitsReported{{trade}});
  mine = model_.OrdersOf(b);
  ASSERT_EQ(mine[0].trade_id, trade);
  EXPECT_EQ(mine[0].closed_at, model_.FindTrade(trade)->created_at);
  EXPECT_EQ(model_.FindTrade(trade)->price, 100);
  EXPECT_EQ(model_.OrdersOf(a)[0].id, s);
  EXPECT_EQ(model_.settled_cursor(), trade);
}

TEST_F(ReadModelTest, CancelledOrdersAreLeftOutAndBestPricesIgnoreLockedOrders) {
  Id a = Signup("a"), b = Signup("b");
  Id s1 = Place(a, Side::kSell, 1, 105);
  Place(a, Side::kSell, 1, 103);
  Place(b, Side::kBuy, 1, 99);
  EXPECT_EQ(model_.lowest_sell_price(), 103);
  EXPECT_EQ(model_.highest_buy_price(), 99);
  Do(CancelRequested{a, s1});
  EXPECT_EQ(model_.OrdersOf(a).size(), 1u);
  Place(b, Side::kBuy, 1, 103);  // locks the 103 sell and this buy
  EXPECT_EQ(model_.lowest_sell_price(), std::nullopt);
  EXPECT_EQ(model_.highest_buy_price(), 99);
  // The buyer cannot pay: its order is cancelled, the seller's comes back.
  auto m = *LastMatch();
  ReservationsReported r{m.match_id, {}};
  for (const auto& leg : m.legs)
    r.results.push_back({leg.order_id, leg.side == Side::kSell ? std::optional<std::int64_t>(7)
                                                               : std::nullopt, "no credit"});
  Do(r);
  EXPECT_EQ(model_.lowest_sell_price(), 103);
  EXPECT_EQ(model_.OrdersOf(b).size(), 1u);  // the auto-cancelled buy disappeared
}

TEST_F(ReadModelTest, TheCursorStopsBeforeTheFirstUnsettledTrade) {
  Id a = Signup("a"), b = Signup("b");
  Place(a, Side::kSell, 1, 100);
  Place(b, Side::kBuy, 1, 100);
  Id t1 = Execute(*LastMatch());
  Place(a, Side::kSell, 1, 100);
  Place(b, Side::kBuy, 1, 100);
  Id t2 = Execute(*LastMatch());
  Do(CommitsReported{{t2}});  // settles out of order
  EXPECT_EQ(model_.settled_cursor(), 0);
  EXPECT_EQ(model_.TradedOrdersSince(b, 0).size(), 0u);  // t2 waits behind t1
  Do(CommitsReported{{t1}});
  EXPECT_EQ(model_.settled_cursor(), t2);
  auto traded = model_.TradedOrdersSince(b, 0);
  ASSERT_EQ(traded.size(), 2u);
  EXPECT_EQ(traded[0].trade_id, t1);
  EXPECT_EQ(traded[1].trade_id, t2);
  EXPECT_EQ(model_.TradedOrdersSince(b, t1).size(), 1u);
  EXPECT_EQ(model_.TradedOrdersSince(b, 0, t1).size(), 1u);
}

TEST_F(ReadModelTest, CandlesFollowTradeIdsAndTheWindowEndsAtTheLatestTrade) {
  Id a = Signup("a"), b = Signup("b");
  auto trade_at = [&](std::int64_t price, Micros at) {
    Place(a, Side::kSell, 1, price, at);
    Place(b, Side::kBuy, 1, price, at);
    return Execute(*LastMatch(), at);
  };
  Id t1 = trade_at(100, kT0 + 100'000);           // 09:00:00.1
  Id t2 = trade_at(120, kT0 + 500'000);           // 09:00:00.5
  Id t3 = trade_at(90, kT0 + 800'000);            // 09:00:00.8
  Id t4 = trade_at(110, kT0 + 400 * 1'000'000);   // 09:06:40, 400 s later
  Do(CommitsReported{{t3, t2, t4, t1}});          // settled in another order
  auto secs = model_.Chart(ChartResolution::kSecond);
  ASSERT_EQ(secs.size(), 1u);  // 09:00:00 is more than 300 s before 09:06:40
  EXPECT_EQ(secs[0].time, kT0 + 400 * 1'000'000);
  auto mins = model_.Chart(ChartResolution::kMinute);
  ASSERT_EQ(mins.size(), 2u);
  EXPECT_EQ(mins[0].time, kT0);
  EXPECT_EQ(mins[0].open, 100);   // t1, the first by id, though settled last
  EXPECT_EQ(mins[0].close, 90);   // t3
  EXPECT_EQ(mins[0].high, 120);
  EXPECT_EQ(mins[0].low, 90);
  EXPECT_EQ(mins[1].time, kT0 + 6 * 60 * 1'000'000);
  auto hours = model_.Chart(ChartResolution::kHour);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].time, kT0);  // 09:00 local is an hour boundary
}

TEST_F(ReadModelTest, HourBucketsFollowTheExchangesClock) {
  ReadModel india(5 * 3600 + 1800);  // +05:30
  Event genesis_trade{{0, 0}, 0, GenesisTrade{1, 1, 100, kT0 + 10 * 60 * 1'000'000}};
  india.Apply(genesis_trade);
  auto hours = india.Chart(ChartResolution::kHour);
  ASSERT_EQ(hours.size(), 1u);
  // 00:10 UTC is 05:40 in India: the bucket starts at 05:00 local, 23:30 UTC the day before.
  EXPECT_EQ(hours[0].time, kT0 - 30 * 60 * 1'000'000);
}

TEST_F(ReadModelTest, BalancesFollowTheMoney) {
  Id a = Signup("a"), b = Signup("b");
  Place(a, Side::kSell, 3, 100);
  Place(b, Side::kBuy, 1, 50);
  EXPECT_EQ(model_.BalanceOf(b).open_buy_exposure, 50);
  Place(b, Side::kBuy, 3, 110);
  EXPECT_EQ(model_.BalanceOf(b).open_buy_exposure, 50 + 330);
  Id t = Execute(*LastMatch());
  EXPECT_EQ(model_.BalanceOf(b).open_buy_exposure, 50);
  EXPECT_EQ(model_.BalanceOf(b).awaiting_settlement, 300);
  Do(CommitsReported{{t}});
  Balance buyer = model_.BalanceOf(b), seller = model_.BalanceOf(a);
  EXPECT_EQ(buyer.awaiting_settlement, 0);
  EXPECT_EQ(buyer.chairs_bought, 3);
  EXPECT_EQ(buyer.yen_paid, 300);
  EXPECT_EQ(seller.chairs_sold, 3);
  EXPECT_EQ(seller.yen_received, 300);
}

TEST_F(ReadModelTest, ResetReturnsToTheGenesisAndDuplicatesAreIgnored) {
  Do(UserImported{1, "bank-g", "g", "$2a$10$x", kT0});
  Do(TradeImported{1, 2, 3000, kT0});
  Do(OrderImported{1, Side::kSell, 1, 2, 3000, kT0, kT0, 1});
  Do(OrderImported{2, Side::kBuy, 1, 2, 3000, kT0, kT0, 1});
  Do(OrderImported{3, Side::kSell, 1, 5, 3100, kT0, std::nullopt, std::nullopt});
  Do(GenesisSealed{});
  EXPECT_EQ(model_.settled_cursor(), 1);
  EXPECT_EQ(model_.lowest_sell_price(), 3100);
  Id b = Signup("b");
  Place(b, Side::kBuy, 1, 10);
  for (const auto& e : all_) EXPECT_FALSE(model_.Apply(e));  // replayed: nothing applies twice
  auto reset = Do(ResetRequested{{"http://bank", "app", "http://log", "app2"}});
  EXPECT_EQ(model_.FindUser(b), nullptr);
  EXPECT_NE(model_.FindUserByBankId("bank-g"), nullptr);
  EXPECT_EQ(model_.highest_buy_price(), std::nullopt);
  EXPECT_EQ(model_.lowest_sell_price(), 3100);
  EXPECT_EQ(model_.OrdersOf(1).size(), 3u);
  EXPECT_EQ(model_.endpoints().bank_endpoint, "http://bank");
  EXPECT_EQ(model_.last_applied(), reset.back().seq);
}

TEST(LiveReadModelTest, AnswersReachTheirWaitersAndInfoIsShared) {
  LiveReadModel live;
  commands::Exchange exchange;
  auto apply = [&](std::uint64_t offset, CommandBody body) {
    live.Apply(exchange.apply(Command{offset, kT0 + static_cast<Micros>(offset), std::move(body)}));
  };
  apply(0, SignupRequested{"a", "bank-a", "h"});
  auto answer = live.WaitForAnswer(0, std::chrono::milliseconds(100));
  ASSERT_TRUE(answer);
  EXPECT_TRUE(std::holds_alternative<UserRegistered>(answer->body));
  EXPECT_FALSE(live.WaitForAnswer(0, std::chrono::milliseconds(1)));  // claimed once

  std::thread waiter([&] {
    auto a = live.WaitForAnswer(1, std::chrono::seconds(10));
    ASSERT_TRUE(a);
    EXPECT_TRUE(std::holds_alternative<OrderAccepted>(a->body));
  });
  apply(1, OrderPlaced{1, Side::kSell, 1, 100});
  waiter.join();
  live.RefreshInfo();
  auto info = live.info();
  EXPECT_EQ(info->lowest_sell_price, 100);
  EXPECT_EQ(live.info().get(), info.get());  // the same snapshot until something changes
}

TEST(LiveReadModelTest, ADeferredCancelIsAnsweredByItsOutcomeNotByTheDeferral) {
  LiveReadModel live;
  commands::Exchange exchange;
  std::uint64_t offset = 0;
  auto apply = [&](CommandBody body) {
    live.Apply(exchange.apply(Command{offset++, kT0, std::move(body)}));
  };
  apply(SignupRequested{"a", "bank-a", "h"});
  apply(OrderPlaced{1, Side::kSell, 1, 100});
  apply(OrderPlaced{1, Side::kBuy, 1, 100});  // match 1
  const std::uint64_t cancel = offset;
  apply(CancelRequested{1, 1});  // the sell, locked in match 1
  EXPECT_FALSE(live.WaitForAnswer(cancel, std::chrono::milliseconds(1)));
  apply(ReservationsReported{1, {{1, 11, ""}, {2, 12, ""}}});
  auto answer = live.WaitForAnswer(cancel, std::chrono::milliseconds(100));
  ASSERT_TRUE(answer);
  EXPECT_TRUE(std::holds_alternative<CancelRejected>(answer->body));
}

}  // namespace
}  // namespace isucoin::projections
