// SettlementLedger: the decisions of the settlement worker, without I/O (DESIGN.md "The
// matcher", steps 2-4). The worker (settlement.h) feeds it the events it reads and the answers
// the bank gives, and carries out the Actions it returns; the ledger alone knows what is
// still owed to whom. Everything it holds is outstanding work, so its state is exactly what a
// checkpoint must keep, and Resume() turns a restored state back into work.
//
// Life of a match:  MatchProposed → reserving (legs come back one by one) → reporting (all
// legs answered; ReservationsReported being appended) → reported → TradeExecuted or
// MatchAborted ends it. Life of a trade: TradeExecuted → committing (reserve ids not yet
// committed) → reporting (CommitsReported being appended) → reported → TradeSettled ends it.
//
// Reservations the exchange will never use are released with /cancel: those of aborted matches,
// those coming back for a match that ended meanwhile (a reset, or a second report after a
// restart), and those of a match that traded with other reserve ids than ours.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "events/records.h"
#include "events/status.h"

namespace isucoin::effects {

using events::Id;
using events::Micros;
using ReserveId = std::int64_t;

// One leg to reserve at the bank: buyers withdraw amount × price, sellers deposit it.
struct LegToReserve {
  Id match_id = 0;
  std::size_t leg_index = 0;
  Id order_id = 0;
  std::string bank_id;
  std::int64_t price = 0;  // signed bank price: < 0 for a buyer
};

struct TradeToCommit {
  Id trade_id = 0;
  std::vector<ReserveId> reserve_ids;
  Micros reserved_since = 0;  // no reservation of the trade is older than this
};

struct SettlementActions {
  std::vector<LegToReserve> reserve;
  std::vector<TradeToCommit> commit;
  std::vector<ReserveId> release;
  std::vector<events::ReservationsReported> report_reservations;
  std::vector<Id> report_commits;

  bool empty() const {
    return reserve.empty() && commit.empty() && release.empty() &&
           report_reservations.empty() && report_commits.empty();
  }
  void Merge(SettlementActions&& other);
};

// The bank's price for a leg (SPEC.md "Trading rules"): −amount × price for a buyer,
// +amount × price for a seller, at the match's price. Cannot overflow (records.h limits).
std::int64_t BankPrice(const events::MatchLeg& leg, std::int64_t match_price);

class SettlementLedger {
 public:
  enum class MatchPhase { kReserving, kReporting, kReported };
  enum class TradePhase { kCommitting, kReporting, kReported };

  struct PendingMatch {
    events::MatchProposed proposal;
    Micros proposed_at = 0;
    std::vector<std::optional<events::Reservation>> results;  // per leg, once answered
    MatchPhase phase = MatchPhase::kReserving;
  };
  struct UnsettledTrade {
    Id trade_id = 0;
    Micros reserved_since = 0;
    std::vector<ReserveId> reserve_ids;
    std::set<ReserveId> uncommitted;
    bool incident = false;  // the bank refused a commit: never reported as paid
    TradePhase phase = TradePhase::kCommitting;
    std::uint64_t epoch = 0;  // resets seen before it executed
  };

  // Applies one event (the caller drops duplicates with AppliedSequence). Events other than
  // MatchProposed, MatchAborted, TradeExecuted, TradeSettled and ExchangeReset change nothing.
  SettlementActions Apply(const events::Event& event);

  // The bank's definitive answer for one leg (a reserve_id, or why not).
  SettlementActions OnLegReserved(Id match_id, std::size_t leg_index, events::Reservation result);
  void OnReservationsReported(const std::vector<Id>& match_ids);

  // These reserve ids of the trade are committed (by this call or an earlier one).
  SettlementActions OnCommitted(Id trade_id, const std::vector<ReserveId>& reserve_ids);
  // The bank refused to commit `reserve_id` for good (expired, unknown): the trade cannot be
  // paid in full and is never reported. Returns true when this ended the trade's commits.
  bool OnCommitIncident(Id trade_id, ReserveId reserve_id);
  void OnCommitsReported(const std::vector<Id>& trade_ids);

  void OnReleased(const std::vector<ReserveId>& reserve_ids);

  // Every piece of outstanding work, as actions (after a restart).
  SettlementActions Resume() const;

  bool IsMatchPending(Id match_id) const { return matches_.count(match_id) != 0; }
  bool IsTradeUncommitted(Id trade_id, ReserveId reserve_id) const;

  // Bank endpoint and app id: the worker's options until an ExchangeReset names others.
  const std::string& bank_endpoint() const { return bank_endpoint_; }
  const std::string& bank_appid() const { return bank_appid_; }
  void SetBank(std::string endpoint, std::string appid);
  // True once an ExchangeReset named the bank: the log then outranks the worker's options.
  bool bank_from_log() const { return bank_from_log_; }

  const std::map<Id, PendingMatch>& matches() const { return matches_; }
  const std::map<Id, UnsettledTrade>& trades() const { return trades_; }
  const std::set<ReserveId>& releases() const { return releases_; }

  // Checkpoint body; FromJson reports what is wrong with a damaged one.
  nlohmann::json ToJson() const;
  static Result<SettlementLedger> FromJson(const nlohmann::json& json);

 private:
  std::map<Id, PendingMatch> matches_;
  std::map<Id, UnsettledTrade> trades_;
  std::set<ReserveId> releases_;  // reservations to cancel
  std::string bank_endpoint_;
  std::string bank_appid_;
  std::uint64_t epoch_ = 0;
  bool bank_from_log_ = false;
};

}  // namespace isucoin::effects
