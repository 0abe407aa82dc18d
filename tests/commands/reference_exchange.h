// ReferenceExchange: a deliberately simple, brute-force reading of commands/MATCHING.md.
//
// It exists only to be compared with the production matcher (commands/exchange.h) by the
// property test: both must emit identical events for any command stream. Clarity over speed:
// orders live in a std::map, every sweep iteration re-sorts the open orders and tries every
// candidate's walk from scratch, and a reset copies the whole genesis state back.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/records.h"

namespace isucoin::testing {

class ReferenceExchange {
 public:
  using Id = events::Id;

  enum class Status { kOpen, kLocked, kTraded, kCancelled };

  struct DeferredCancel {
    std::uint64_t request = 0;  // offset of the CancelRequested
    Id user_id = 0;             // who asked
  };

  struct Order {
    Id id = 0;
    events::Side side = events::Side::kBuy;
    Id user_id = 0;
    std::int64_t amount = 0;
    std::int64_t price = 0;
    Status status = Status::kOpen;
    Id match_id = 0;                     // while locked
    std::vector<DeferredCancel> deferred;  // while locked
  };

  struct User {
    Id id = 0;
    std::string bank_id;
  };

  struct Match {
    Id id = 0;
    std::int64_t price = 0;
    std::int64_t amount = 0;
    std::vector<events::MatchLeg> legs;
  };

  struct SigninState {
    std::int64_t failures = 0;
    events::Micros blocked_until = 0;
  };

  std::vector<events::Event> apply(const events::Command& cmd);

  // The walk of `x` against the current open orders (MATCHING.md "Walk of X"): the taken orders
  // in walk order when it succeeds, nullopt otherwise. Public so the property test can check
  // that a sweep really reached its fixpoint.
  std::optional<std::vector<Id>> Walk(const Order& x) const;
  // The sweep's candidate order for the current book (MATCHING.md "The sweep", step 2).
  std::vector<Id> Candidates() const;
  // True when no candidate's walk would succeed: what every command must leave behind.
  bool AtFixpoint() const;

  const std::map<Id, Order>& orders() const { return s_.orders; }
  bool genesis_complete() const { return genesis_complete_; }

 private:
  // Everything that ResetRequested restores. The id counters live outside (never reused).
  struct State {
    std::map<Id, User> users;
    std::map<std::string, Id> user_by_bank;
    std::map<Id, Order> orders;
    std::set<Id> genesis_trades;
    std::map<Id, bool> executed_trades;  // trade_id -> settled
    std::map<Id, Match> pending;         // match_id -> match
    std::map<std::string, SigninState> signin;
  };

  void Emit(events::EventBody body);
  void Reject(std::string reason);
  void CompleteGenesis();
  void Sweep();
  std::vector<const Order*> SortedOpen(events::Side side) const;

  void OnUserImported(const events::UserImported& c);
  void OnTradeImported(const events::TradeImported& c);
  void OnOrderImported(const events::OrderImported& c);
  void OnSignup(const events::SignupRequested& c);
  void OnSignin(const events::SigninRecorded& c);
  void OnOrderPlaced(const events::OrderPlaced& c);
  void OnBuyCreditRefused(const events::BuyCreditRefused& c);
  void OnCancel(const events::CancelRequested& c);
  void OnReservations(const events::ReservationsReported& c);
  void OnCommits(const events::CommitsReported& c);
  void OnReset(const isucoin::events::ServiceEndpoints& endpoints);

  State s_;
  State genesis_;
  bool genesis_complete_ = false;
  // "above the genesis' highest id": maxima seen during the import, then dense counters.
  Id max_user_ = 0, max_order_ = 0, max_trade_ = 0;
  Id next_user_ = 0, next_order_ = 0, next_trade_ = 0, next_match_ = 0;

  // The command being applied.
  const events::Command* cmd_ = nullptr;
  std::vector<events::Event>* out_ = nullptr;
};

}  // namespace isucoin::testing
