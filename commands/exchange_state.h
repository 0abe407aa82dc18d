// ExchangeState: everything the matcher knows, and the handlers of each command type.
// Internal to commands/; the public face is Exchange (exchange.h).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands/order.h"
#include "commands/order_book.h"
#include "commands/order_table.h"
#include "events/records.h"
#include "events/status.h"

namespace isucoin::commands {

struct User {
  Id id = 0;
  std::string bank_id;
  std::string name;
  std::string password_hash;
  Micros created_at = 0;
};

struct SigninGuard {
  std::int64_t consecutive_failures = 0;
  Micros blocked_until = 0;
};

struct PendingMatch {
  Id id = 0;
  std::int64_t price = 0;
  std::int64_t amount = 0;
  std::vector<Id> legs;  // order ids, leg order
};

struct IdCounters {
  Id user = 1;
  Id order = 1;
  Id trade = 1;
  Id match = 1;
};

inline constexpr std::int64_t kSigninFailuresBeforeBlock = 5;
inline constexpr Micros kSigninCooldown = 10LL * 60 * 1'000'000;

class ExchangeState {
 public:
  ExchangeState() = default;
  ExchangeState(const ExchangeState&) = delete;
  ExchangeState& operator=(const ExchangeState&) = delete;

  void Apply(const events::Command& cmd, std::vector<events::Event>& out);

  std::string Snapshot() const;  // snapshot.cc
  static Result<std::unique_ptr<ExchangeState>> Restore(std::string_view bytes);

  const OrderBook& book() const { return book_; }

 private:
  // One command's emission context: its events get consecutive indexes.
  struct Emitter {
    const events::Command& cmd;
    std::vector<events::Event>& out;
    std::uint32_t next_index = 0;
    void operator()(events::EventBody body) {
      out.push_back(events::Event{events::Sequence{cmd.offset, next_index++}, cmd.time,
                                  std::move(body)});
    }
  };

  void On(const events::UserImported& c, Emitter& emit);
  void On(const events::TradeImported& c, Emitter& emit);
  void On(const events::OrderImported& c, Emitter& emit);
  void On(const events::GenesisSealed& c, Emitter& emit);
  void On(const events::SignupRequested& c, Emitter& emit);
  void On(const events::SigninRecorded& c, Emitter& emit);
  void On(const events::OrderPlaced& c, Emitter& emit);
  void On(const events::BuyCreditRefused& c, Emitter& emit);
  void On(const events::CancelRequested& c, Emitter& emit);
  void On(const events::ReservationsReported& c, Emitter& emit);
  void On(const events::CommitsReported& c, Emitter& emit);
  void On(const events::ResetRequested& c, Emitter& emit);
  void On(const events::MalformedCommand& c, Emitter& emit);

  void CompleteGenesis(Emitter& emit);
  // Proposes matches until none is possible (MATCHING.md "The sweep").
  void Sweep(Emitter& emit);
  void AnswerDeferredCancels(Order& order, bool first_cancels, Emitter& emit);
  Order* FindOrder(Id id);
  Order& AddOrder(const Order& order);
  // Rebuilds the book from orders_ (after a restore).
  void RebuildBook();

  bool genesis_complete_ = false;
  IdCounters next_;
  std::unordered_map<Id, User> users_;              // lookups only; never iterated for output
  std::unordered_map<std::string, Id> user_by_bank_;
  std::unordered_map<std::string, SigninGuard> signin_guards_;
  OrderTable orders_;                               // every order ever, by id
  std::set<Id> genesis_trades_;                     // imported trade ids, for order imports
  std::map<Id, PendingMatch> matches_;              // pending, by id (reset walks them in order)
  std::set<Id> unsettled_trades_;                   // executed, commit not yet reported
  OrderBook book_;
  std::string genesis_snapshot_;                    // the state ResetRequested returns to
  std::vector<Order*> scratch_legs_;
};

}  // namespace isucoin::commands
