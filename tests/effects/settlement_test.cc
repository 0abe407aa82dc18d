// Settlement end to end: the real matcher, in-memory logs, the worker and the simulator.
// Checks the money moved at the bank exactly as SPEC.md "Trading rules" says.
#include "effects/settlement.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "events/memory_log.h"
#include "tests/effects/exchange_harness.h"
#include "tests/support/isusim_process.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;
using namespace isucoin::effects::testing;
using events::Side;
using test_support::IsusimProcess;

class SettlementTest : public ::testing::Test {
 protected:
  void StartExchange(SettlementOptions options) {
    matcher_ = std::make_unique<MatcherThread>(commands_, events_);
    settlement_ = std::make_unique<Settlement>(events_, commands_, std::move(options));
    ASSERT_TRUE(settlement_->Start().ok());
  }
  void TearDown() override {
    if (settlement_) settlement_->Stop();
    matcher_.reset();
  }

  events::Id Signup(const std::string& bank_id, std::int64_t credit) {
    sim_->SetCredit(bank_id, credit);
    AppendCommand(commands_, events::SignupRequested{bank_id, bank_id, "$2a$04$hash"});
    events::Id id = 0;
    EXPECT_TRUE(Eventually(
        [&] {
          auto users = Users(events_);
          if (!users.count(bank_id)) return false;
          id = users[bank_id];
          return true;
        },
        5s));
    return id;
  }
  void Place(events::Id user, Side side, std::int64_t amount, std::int64_t price) {
    AppendCommand(commands_, events::OrderPlaced{user, side, amount, price});
  }
  std::size_t Settled() { return Only<events::TradeSettled>(ReadEvents(events_)).size(); }

  // Every reservation of every executed trade: committed, exactly once.
  void ExpectEveryTradeCommittedOnce() {
    std::map<std::int64_t, nlohmann::json> by_id;
    for (const auto& r : sim_->Reservations()) by_id[r["reserve_id"].get<std::int64_t>()] = r;
    for (const auto& t : Only<events::TradeExecuted>(ReadEvents(events_))) {
      for (const auto& leg : t.legs) {
        ASSERT_TRUE(by_id.count(leg.reserve_id)) << leg.reserve_id;
        EXPECT_EQ(by_id[leg.reserve_id]["state"], "committed") << by_id[leg.reserve_id];
        EXPECT_EQ(by_id[leg.reserve_id]["commit_count"], 1) << by_id[leg.reserve_id];
      }
    }
  }

  std::unique_ptr<IsusimProcess> sim_ = std::make_unique<IsusimProcess>();
  events::MemoryLog commands_;
  events::MemoryLog events_;
  std::unique_ptr<MatcherThread> matcher_;
  std::unique_ptr<Settlement> settlement_;
};

TEST_F(SettlementTest, MatchReservesTradesCommitsAndMovesTheMoney) {
  StartExchange(TestOptions(sim_->bank_url(), sim_->appid()));
  events::Id alice = Signup("alice", 100000);
  events::Id bob = Signup("bob", 0);
  Place(bob, Side::kSell, 3, 500);
  Place(alice, Side::kBuy, 3, 600);
  ASSERT_TRUE(Eventually([&] { return Settled() == 1; }, 10s));

  auto trades = Only<events::TradeExecuted>(ReadEvents(events_));
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].price, 500);  // the resting (older) order's price
  EXPECT_EQ(trades[0].amount, 3);
  // Buyer −amount×price, seller +amount×price.
  EXPECT_EQ(sim_->Account("alice")["credit"], 100000 - 1500);
  EXPECT_EQ(sim_->Account("bob")["credit"], 1500);
  ExpectEveryTradeCommittedOnce();
  EXPECT_EQ(settlement_->metrics().commit_start_delay.count(), 1u);
  EXPECT_EQ(settlement_->metrics().reservations_ok.load(), 2u);
  EXPECT_EQ(settlement_->metrics().commit_incidents.load(), 0u);
}

TEST_F(SettlementTest, InsufficientCreditCancelsThatOrderAndTheOthersRematch) {
  StartExchange(TestOptions(sim_->bank_url(), sim_->appid()));
  events::Id bob = Signup("bob", 0);
  events::Id carol = Signup("carol", 100);  // cannot pay 2 × 500
  events::Id dave = Signup("dave", 100000);
  Place(bob, Side::kSell, 2, 500);
  Place(carol, Side::kBuy, 2, 500);  // older than dave's: proposed first
  Place(dave, Side::kBuy, 2, 500);
  ASSERT_TRUE(Eventually([&] { return Settled() == 1; }, 10s));

  auto all = ReadEvents(events_);
  std::map<events::Id, events::Id> owner;  // order → user
  for (const auto& o : Only<events::OrderAccepted>(all)) owner[o.order_id] = o.user_id;
  auto cancelled = Only<events::OrderCancelled>(all);
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].user_id, carol);
  EXPECT_EQ(cancelled[0].reason, events::CancelReason::kReserveFailed);
  auto aborted = Only<events::MatchAborted>(all);
  ASSERT_EQ(aborted.size(), 1u);
  ASSERT_EQ(aborted[0].release_reserve_ids.size(), 1u);  // bob's deposit of the failed attempt
  auto trades = Only<events::TradeExecuted>(all);
  ASSERT_EQ(trades.size(), 1u);
  std::set<events::Id> traders;
  for (const auto& leg : trades[0].legs) traders.insert(owner[leg.order_id]);
  EXPECT_EQ(traders, (std::set<events::Id>{bob, dave}));

  EXPECT_EQ(sim_->Account("carol")["credit"], 100);
  EXPECT_EQ(sim_->Account("dave")["credit"], 100000 - 1000);
  EXPECT_EQ(sim_->Account("bob")["credit"], 1000);
  ExpectEveryTradeCommittedOnce();
  // The released reservation is cancelled at the bank (asynchronously).
  const std::int64_t released = aborted[0].release_reserve_ids[0];
  EXPECT_TRUE(Eventually(
      [&] {
        for (const auto& r : sim_->Reservations()) {
          if (r["reserve_id"] == released) return r["state"] == "cancelled";
        }
        return false;
      },
      5s));
}

TEST_F(SettlementTest, FlakyBankStillCommitsEveryTradeExactlyOnce) {
  StartExchange(TestOptions(sim_->bank_url(), sim_->appid()));
  constexpr int kPairs = 60;
  std::vector<events::Id> buyers, sellers;
  for (int i = 0; i < kPairs; ++i) {
    buyers.push_back(Signup("buyer" + std::to_string(i), 1'000'000));
    sellers.push_back(Signup("seller" + std::to_string(i), 0));
  }
  // 30 % of calls answered 500 and not applied; 5 % applied but never answered (the retry of
  // such a commit gets "already committed").
  sim_->SetFaults(/*fail_rate=*/0.3, 0, 0, /*drop_rate=*/0.05);
  for (int i = 0; i < kPairs; ++i) {
    Place(sellers[i], Side::kSell, 1, 1000);
    Place(buyers[i], Side::kBuy, 1, 1000);
  }
  ASSERT_TRUE(Eventually([&] { return Settled() == kPairs; }, 40s)) << Settled();
  sim_->SetFaults(0);

  ExpectEveryTradeCommittedOnce();
  std::int64_t paid = 0, received = 0;
  for (int i = 0; i < kPairs; ++i) {
    paid += 1'000'000 - sim_->Account("buyer" + std::to_string(i))["credit"].get<std::int64_t>();
    received += sim_->Account("seller" + std::to_string(i))["credit"].get<std::int64_t>();
  }
  EXPECT_EQ(paid, kPairs * 1000);
  EXPECT_EQ(received, kPairs * 1000);
  EXPECT_EQ(settlement_->metrics().commit_incidents.load(), 0u);
  EXPECT_GT(settlement_->metrics().bank_retries.load() +
                settlement_->metrics().reserve_attempts_failed.load() +
                settlement_->metrics().commit_retries.load(),
            0u);
}

TEST_F(SettlementTest, RestartFromCheckpointFinishesEveryTradeOnce) {
  // Realistic latencies so that reservations and commits are at the bank when it stops.
  sim_ = std::make_unique<IsusimProcess>(std::vector<std::string>{
      "--check-ms", "0", "--reserve-ms", "70", "--commit-ms", "300", "--cancel-ms", "80"});
  const std::string dir = ::testing::TempDir() + "/settlement_restart_" +
                          std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  SettlementOptions options = TestOptions(sim_->bank_url(), sim_->appid());
  options.checkpoint_dir = dir;
  StartExchange(options);
  constexpr int kPairs = 30;
  std::vector<events::Id> buyers, sellers;
  for (int i = 0; i < kPairs; ++i) {
    buyers.push_back(Signup("b" + std::to_string(i), 1'000'000));
    sellers.push_back(Signup("s" + std::to_string(i), 0));
  }
  for (int i = 0; i < kPairs; ++i) {
    Place(sellers[i], Side::kSell, 2, 700);
    Place(buyers[i], Side::kBuy, 2, 700);
  }
  ASSERT_TRUE(Eventually([&] { return !Only<events::TradeExecuted>(ReadEvents(events_)).empty(); },
                         10s));
  settlement_->Stop();  // mid-flight: matches reserving, trades committing
  settlement_ = std::make_unique<Settlement>(events_, commands_, options);
  ASSERT_TRUE(settlement_->Start().ok());
  ASSERT_TRUE(Eventually([&] { return Settled() == kPairs; }, 30s)) << Settled();
  ExpectEveryTradeCommittedOnce();
  std::int64_t received = 0;
  for (int i = 0; i < kPairs; ++i) {
    received += sim_->Account("s" + std::to_string(i))["credit"].get<std::int64_t>();
  }
  EXPECT_EQ(received, kPairs * 1400);
  settlement_->Stop();
  std::filesystem::remove_all(dir);
}

TEST_F(SettlementTest, ExchangeResetSwitchesToTheBankItNames) {
  IsusimProcess other({"--appid", "second-app"});
  StartExchange(TestOptions(sim_->bank_url(), sim_->appid()));
  AppendCommand(commands_, events::ResetRequested{
                               events::ServiceEndpoints{other.bank_url(), "second-app", "", ""}});
  other.SetCredit("erin", 10000);
  other.SetCredit("frank", 0);
  AppendCommand(commands_, events::SignupRequested{"erin", "erin", "$2a$04$hash"});
  AppendCommand(commands_, events::SignupRequested{"frank", "frank", "$2a$04$hash"});
  ASSERT_TRUE(Eventually([&] { return Users(events_).size() == 2; }, 5s));
  auto users = Users(events_);
  Place(users["frank"], Side::kSell, 1, 300);
  Place(users["erin"], Side::kBuy, 1, 300);
  ASSERT_TRUE(Eventually([&] { return Settled() == 1; }, 10s));
  EXPECT_EQ(other.Account("erin")["credit"], 9700);
  EXPECT_EQ(other.Account("frank")["credit"], 300);
  EXPECT_TRUE(sim_->Reservations().empty());
}

}  // namespace
}  // namespace isucoin::effects
