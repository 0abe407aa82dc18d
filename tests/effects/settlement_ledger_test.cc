// SettlementLedger: the worker's decisions without sockets.
#include "effects/settlement_ledger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace isucoin::effects {
namespace {

using events::Event;
using events::Side;

Event At(events::EventBody body, std::uint64_t cause = 1, events::Micros time = 1000) {
  return Event{{cause, 0}, time, std::move(body)};
}

events::MatchProposed Match(Id id) {
  return events::MatchProposed{
      id, 500, 3,
      {events::MatchLeg{10, 1, "alice", Side::kBuy, 3, 600},
       events::MatchLeg{11, 2, "bob", Side::kSell, 3, 500}}};
}

events::Reservation Reserved(Id order, ReserveId id) { return {order, id, ""}; }

TEST(SettlementLedgerTest, ProposedMatchReservesBuyersNegativeSellersPositive) {
  SettlementLedger l;
  SettlementActions a = l.Apply(At(Match(7)));
  ASSERT_EQ(a.reserve.size(), 2u);
  EXPECT_EQ(a.reserve[0].price, -1500);
  EXPECT_EQ(a.reserve[1].price, 1500);
  EXPECT_TRUE(l.OnLegReserved(7, 0, Reserved(10, 100)).report_reservations.empty());
  SettlementActions done = l.OnLegReserved(7, 1, Reserved(11, 101));
  ASSERT_EQ(done.report_reservations.size(), 1u);
  EXPECT_EQ(done.report_reservations[0].results[1].reserve_id, 101);
}

TEST(SettlementLedgerTest, TradeCommitsItsIdsAndReleasesSpareOnes) {
  SettlementLedger l;
  l.Apply(At(Match(7)));
  l.OnLegReserved(7, 0, Reserved(10, 100));
  l.OnLegReserved(7, 1, Reserved(11, 101));
  // The matcher used another report (from before a restart) with reserve ids 90 and 91.
  SettlementActions a = l.Apply(At(events::TradeExecuted{
      3, 7, 500, 3, {{10, 1, Side::kBuy, 3, 90}, {11, 2, Side::kSell, 3, 91}}}));
  ASSERT_EQ(a.commit.size(), 1u);
  EXPECT_EQ(a.commit[0].reserve_ids, (std::vector<ReserveId>{90, 91}));
  EXPECT_EQ(a.release, (std::vector<ReserveId>{100, 101}));
  EXPECT_TRUE(l.OnCommitted(3, {90}).report_commits.empty());
  EXPECT_EQ(l.OnCommitted(3, {91}).report_commits, (std::vector<Id>{3}));
  l.OnCommitsReported({3});
  l.Apply(At(events::TradeSettled{3}, 2));
  EXPECT_TRUE(l.trades().empty());
}

TEST(SettlementLedgerTest, ResetAbortReleasesWhatIsHeldAndWhatComesBackLater) {
  SettlementLedger l;
  l.Apply(At(Match(7)));
  l.OnLegReserved(7, 0, Reserved(10, 100));
  SettlementActions a = l.Apply(At(events::MatchAborted{7, events::AbortReason::kReset, {}}));
  EXPECT_EQ(a.release, (std::vector<ReserveId>{100}));
  EXPECT_EQ(l.OnLegReserved(7, 1, Reserved(11, 101)).release, (std::vector<ReserveId>{101}));
  EXPECT_FALSE(l.IsMatchPending(7));
}

TEST(SettlementLedgerTest, IncidentTradeIsNeverReported) {
  SettlementLedger l;
  l.Apply(At(events::TradeExecuted{3, 7, 500, 3, {{10, 1, Side::kBuy, 3, 90}, {11, 2, Side::kSell, 3, 91}}}));
  EXPECT_FALSE(l.OnCommitIncident(3, 90));
  EXPECT_TRUE(l.OnCommitted(3, {91}).report_commits.empty());
  EXPECT_TRUE(l.trades().empty());
}

TEST(SettlementLedgerTest, CheckpointRoundTripResumesOutstandingWork) {
  SettlementLedger l;
  l.SetBank("http://bank", "app");
  l.Apply(At(Match(7)));
  l.OnLegReserved(7, 0, Reserved(10, 100));
  l.Apply(At(Match(8), 2));
  l.OnLegReserved(8, 0, Reserved(10, 200));
  l.OnLegReserved(8, 1, events::Reservation{11, std::nullopt, "credit is insufficient"});
  l.Apply(At(events::TradeExecuted{3, 5, 500, 3, {{1, 1, Side::kBuy, 3, 90}}}, 3));
  l.Apply(At(events::MatchAborted{6, events::AbortReason::kReserveFailed, {55}}, 4));

  auto restored = SettlementLedger::FromJson(nlohmann::json::parse(l.ToJson().dump()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  SettlementActions r = restored.value().Resume();
  ASSERT_EQ(r.reserve.size(), 1u);  // only the leg without an answer
  EXPECT_EQ(r.reserve[0].match_id, 7);
  EXPECT_EQ(r.reserve[0].leg_index, 1u);
  ASSERT_EQ(r.report_reservations.size(), 1u);  // complete but maybe not appended
  EXPECT_EQ(r.report_reservations[0].match_id, 8);
  ASSERT_EQ(r.commit.size(), 1u);
  EXPECT_EQ(r.commit[0].trade_id, 3);
  EXPECT_EQ(r.release, (std::vector<ReserveId>{55}));
  EXPECT_EQ(restored.value().bank_endpoint(), "http://bank");
  EXPECT_FALSE(SettlementLedger::FromJson(nlohmann::json::object()).ok());
}

}  // namespace
}  // namespace isucoin::effects
