// The initial dataset as the log's genesis, and /initialize's reset back to it.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class GenesisResetTest : public ExchangeFixture {
 protected:
  void ImportDataset() {
    Do(UserImported{10, "bank-a", "a", "$2a$10$x", 1});
    Do(UserImported{20, "bank-b", "b", "$2a$10$y", 2});
    Do(TradeImported{5, 2, 3000, 3});
    Do(OrderImported{100, Side::kSell, 10, 2, 3000, 3, 4, 5});                   // traded
    Do(OrderImported{101, Side::kBuy, 20, 2, 3000, 3, 4, 5});                    // traded
    Do(OrderImported{102, Side::kBuy, 20, 1, 2900, 6, 7, std::nullopt});         // cancelled
    Do(OrderImported{103, Side::kSell, 10, 4, 3100, 8, std::nullopt, std::nullopt});  // open
  }
};

TEST_F(GenesisResetTest, ImportedRecordsAreEchoedAndIdsContinueAboveThem) {
  ImportDataset();
  EXPECT_EQ(Do(GenesisSealed{}), (std::vector<EventBody>{GenesisCompleted{}}));
  EXPECT_EQ(exchange_.best_ask(), 3100);
  EXPECT_EQ(Do(SignupRequested{"c", "bank-c", "h"}),
            (std::vector<EventBody>{UserRegistered{21, "bank-c", "c", "h"}}));
  std::vector<EventBody> ev;
  Id o = Buy(21, 4, 3100, &ev);
  EXPECT_EQ(o, 104);
  const MatchProposed* m = FindMatch(ev);
  ASSERT_NE(m, nullptr) << Show(ev);
  EXPECT_EQ(LegIds(*m), (std::vector<Id>{104, 103}));  // the open genesis order is live
  auto done = ReserveAll(*m);
  EXPECT_EQ(std::get<TradeExecuted>(done.at(0)).trade_id, 6);
}

TEST_F(GenesisResetTest, InvalidImportsAreRejectedAndChangeNothing) {
  Do(UserImported{10, "bank-a", "a", "h", 1});
  auto reject = [&](CommandBody body) {
    auto ev = Do(std::move(body));
    ASSERT_EQ(ev.size(), 1u) << Show(ev);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(ev[0])) << Show(ev);
  };
  reject(UserImported{10, "bank-z", "dup id", "h", 1});
  reject(UserImported{11, "bank-a", "dup bank", "h", 1});
  reject(OrderImported{1, Side::kBuy, 99, 1, 100, 1, std::nullopt, std::nullopt});  // no user
  reject(OrderImported{1, Side::kBuy, 10, 0, 100, 1, std::nullopt, std::nullopt});  // amount 0
  reject(OrderImported{1, Side::kBuy, 10, 1, 100, 1, 2, 77});  // unknown trade
  reject(OrderImported{1, Side::kBuy, 10, 1, 100, 1, std::nullopt, 77});  // traded, not closed
  reject(TradeImported{1, 1, 0, 1});  // price 0
  Do(GenesisSealed{});
  reject(UserImported{12, "bank-late", "late", "h", 1});
  reject(GenesisSealed{});
  EXPECT_EQ(exchange_.open_order_count(), 0u);
}

TEST_F(GenesisResetTest, ResetReturnsToTheGenesisAndNeverReusesIds) {
  ImportDataset();
  Do(GenesisSealed{});
  const std::uint64_t genesis_hash = exchange_.StateHash();
  Id c = Signup("c");
  Buy(c, 1, 3000);
  Sell(10, 2, 2000);
  std::vector<EventBody> ev;
  Buy(c, 2, 2500, &ev);
  const MatchProposed m = *FindMatch(ev);
  Id pending_seller = m.legs[1].order_id;
  Do(CancelRequested{10, pending_seller});
  const std::uint64_t cancel_offset = last_offset_;

  ev = Do(ResetRequested{});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    CancelRejected{pending_seller, 10, CancelRefusal::kAlreadyClosed,
                                   cancel_offset},
                    MatchAborted{m.match_id, AbortReason::kReset, {}}, ExchangeReset{}}));
  EXPECT_NE(exchange_.StateHash(), genesis_hash);  // only the id counters differ
  EXPECT_EQ(exchange_.best_ask(), 3100);
  EXPECT_EQ(exchange_.best_bid(), std::nullopt);
  // The user c is gone; its bank_id can sign up again, under a new id.
  EXPECT_EQ(Do(SignupRequested{"c", "bank-c", "h"}),
            (std::vector<EventBody>{UserRegistered{c + 1, "bank-c", "c", "h"}}));
  ev = Do(CancelRequested{10, pending_seller});
  EXPECT_EQ(ev, (std::vector<EventBody>{CancelRejected{pending_seller, 10,
                                                       CancelRefusal::kNotFound, last_offset_}}));
}

TEST_F(GenesisResetTest, CrossingGenesisOrdersAreProposedAgainAfterEachReset) {
  Do(UserImported{1, "bank-a", "a", "h", 1});
  Do(OrderImported{1, Side::kSell, 1, 1, 100, 1, std::nullopt, std::nullopt});
  Do(OrderImported{2, Side::kBuy, 1, 1, 100, 1, std::nullopt, std::nullopt});
  auto ev = Do(GenesisSealed{});
  ASSERT_EQ(ev.size(), 2u) << Show(ev);
  EXPECT_EQ(FindMatch(ev)->match_id, 1);
  ev = Do(ResetRequested{});
  ASSERT_EQ(ev.size(), 3u) << Show(ev);
  EXPECT_EQ(ev[0], EventBody(MatchAborted{1, AbortReason::kReset, {}}));
  EXPECT_EQ(ev[1], EventBody(ExchangeReset{}));
  EXPECT_EQ(FindMatch(ev)->match_id, 2);
}

TEST_F(GenesisResetTest, TheFirstLiveCommandCompletesTheGenesis) {
  auto ev = Do(SignupRequested{"a", "bank-a", "h"});
  EXPECT_EQ(ev, (std::vector<EventBody>{GenesisCompleted{}, UserRegistered{1, "bank-a", "a", "h"}}));
  ev = Do(ResetRequested{});
  EXPECT_EQ(ev, (std::vector<EventBody>{ExchangeReset{}}));
  EXPECT_EQ(Do(SignupRequested{"a", "bank-a", "h"}),
            (std::vector<EventBody>{UserRegistered{2, "bank-a", "a", "h"}}));
}

}  // namespace
}  // namespace isucoin::commands::testing
