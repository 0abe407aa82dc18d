// The ISUBANK state machine: accounts, reservations and their settlement, without sockets or
// clocks (every call takes the current time), so it is tested directly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/isusim/outcome.h"

namespace isusim {

class Bank {
 public:
  struct AccountView {
    int64_t credit = 0;
    int64_t pending_withdrawals = 0;  // positive: the sum of |price| of pending withdrawals
    int64_t pending_deposits = 0;
  };

  explicit Bank(int64_t reservation_ttl_ms) : ttl_ms_(reservation_ttl_ms) {}

  // Creates the account or overwrites its credit; reservations are kept.
  void SetCredit(const std::string& bank_id, int64_t credit);
  std::optional<AccountView> Account(const std::string& bank_id, int64_t now_ms) const;

  // SPEC.md "ISUBANK". Reservations are not counted by Check.
  Outcome Check(const std::string& bank_id, int64_t price) const;
  Outcome Reserve(const std::string& bank_id, int64_t price, int64_t now_ms);
  // All or nothing: any unknown id → 404; any id not pending → 400 naming it; else all applied.
  Outcome Commit(const std::vector<int64_t>& reserve_ids, int64_t now_ms);
  Outcome Cancel(const std::vector<int64_t>& reserve_ids, int64_t now_ms);

  // Every reservation, by id: {reserve_id, bank_id, price, state, reserved_at_ms, commit_count,
  // commit_attempts}.
  nlohmann::json Reservations(int64_t now_ms) const;

  // Forgets accounts and reservations. Ids keep increasing, so a client still holding an old id
  // gets 404 instead of settling someone else's new reservation.
  void Reset();

 private:
  enum class Settled { kPending, kCommitted, kCancelled };
  struct Reservation {
    int64_t id = 0;
    std::string bank_id;
    int64_t price = 0;
    int64_t reserved_at_ms = 0;
    Settled settled = Settled::kPending;
    int commit_count = 0;     // commits that settled it: 0 or 1, proof of "exactly once"
    int commit_attempts = 0;  // /commit calls naming it whose ids were all known and distinct
  };
  struct AccountState {
    int64_t credit = 0;
    // Ids that were pending when last looked at; pruned lazily, so a reserve costs
    // O(outstanding reservations of the account), not O(all reservations).
    std::vector<int64_t> pending;
  };

  bool Expired(const Reservation& r, int64_t now_ms) const { return now_ms - r.reserved_at_ms >= ttl_ms_; }
  bool Live(const Reservation& r, int64_t now_ms) const {
    return r.settled == Settled::kPending && !Expired(r, now_ms);
  }
  // Sums the live pending reservations of an account, dropping settled/expired ids from its list.
  AccountView Pending(AccountState& a, int64_t now_ms);
  AccountView PendingConst(const AccountState& a, int64_t now_ms) const;
  Outcome Validate(const std::vector<int64_t>& reserve_ids, int64_t now_ms, bool committing);
  static const char* StateName(const Reservation& r, bool expired);

  int64_t ttl_ms_;
  int64_t next_id_ = 1;
  std::unordered_map<std::string, AccountState> accounts_;
  std::map<int64_t, Reservation> reservations_;
};

}  // namespace isusim
