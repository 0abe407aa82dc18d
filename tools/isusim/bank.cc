#include "tools/isusim/bank.h"

#include <set>
#include <string>

namespace isusim {

void Bank::SetCredit(const std::string& bank_id, int64_t credit) { accounts_[bank_id].credit = credit; }

Bank::AccountView Bank::PendingConst(const AccountState& a, int64_t now_ms) const {
  AccountView v;
  v.credit = a.credit;
  for (int64_t id : a.pending) {
    auto it = reservations_.find(id);
    if (it == reservations_.end() || !Live(it->second, now_ms)) continue;
    if (it->second.price < 0) {
      v.pending_withdrawals -= it->second.price;
    } else {
      v.pending_deposits += it->second.price;
    }
  }
  return v;
}

Bank::AccountView Bank::Pending(AccountState& a, int64_t now_ms) {
  std::erase_if(a.pending, [&](int64_t id) {
    auto it = reservations_.find(id);
    return it == reservations_.end() || !Live(it->second, now_ms);
  });
  return PendingConst(a, now_ms);
}

std::optional<Bank::AccountView> Bank::Account(const std::string& bank_id, int64_t now_ms) const {
  auto it = accounts_.find(bank_id);
  if (it == accounts_.end()) return std::nullopt;
  return PendingConst(it->second, now_ms);
}

Outcome Bank::Check(const std::string& bank_id, int64_t price) const {
  if (price < 0) return Error(400, "price must not be negative");
  auto it = accounts_.find(bank_id);
  if (it == accounts_.end()) return Error(404, "no such account");
  if (it->second.credit < price) return Error(400, "credit is insufficient");
  return Ok();
}

Outcome Bank::Reserve(const std::string& bank_id, int64_t price, int64_t now_ms) {
  if (price == 0) return Error(400, "price must not be 0");
  auto it = accounts_.find(bank_id);
  if (it == accounts_.end()) return Error(404, "no such account");
  AccountView v = Pending(it->second, now_ms);
  if (price < 0) {
    // Credit minus what pending withdrawals already hold must cover this one (INT64_MIN has no
    // negation, and no account could cover it anyway).
    if (price == INT64_MIN || v.credit - v.pending_withdrawals < -price) {
      return Error(400, "credit is insufficient");
    }
  }
  Reservation r;
  r.id = next_id_++;
  r.bank_id = bank_id;
  r.price = price;
  r.reserved_at_ms = now_ms;
  reservations_.emplace(r.id, r);
  it->second.pending.push_back(r.id);
  return Ok({{"reserve_id", r.id}});
}

Outcome Bank::Validate(const std::vector<int64_t>& reserve_ids, int64_t now_ms, bool committing) {
  if (reserve_ids.empty()) return Error(400, "reserve_ids is empty");
  std::set<int64_t> seen;
  for (int64_t id : reserve_ids) {
    if (!seen.insert(id).second) return Error(400, "reserve_id " + std::to_string(id) + " is listed twice");
  }
  // Unknown ids first: a 404 tells the client its id is wrong, which matters more than state.
  for (int64_t id : reserve_ids) {
    if (!reservations_.count(id)) return Error(404, "reserve_id " + std::to_string(id) + " not found");
  }
  if (committing) {
    for (int64_t id : reserve_ids) ++reservations_[id].commit_attempts;
  }
  for (int64_t id : reserve_ids) {
    const Reservation& r = reservations_.at(id);
    const std::string name = "reserve_id " + std::to_string(id);
    if (r.settled == Settled::kCommitted) return Error(400, name + " is already committed");
    if (r.settled == Settled::kCancelled) return Error(400, name + " is already cancelled");
    if (Expired(r, now_ms)) return Error(400, name + " is expired");
  }
  return Ok();
}

Outcome Bank::Commit(const std::vector<int64_t>& reserve_ids, int64_t now_ms) {
  Outcome v = Validate(reserve_ids, now_ms, true);
  if (v.status != 200) return v;
  // Check the arithmetic of the whole batch before changing anything.
  std::unordered_map<std::string, int64_t> after;
  for (int64_t id : reserve_ids) {
    const Reservation& r = reservations_.at(id);
    auto [it, fresh] = after.try_emplace(r.bank_id, 0);
    if (fresh) {
      auto acc = accounts_.find(r.bank_id);
      it->second = acc == accounts_.end() ? 0 : acc->second.credit;
    }
    if (__builtin_add_overflow(it->second, r.price, &it->second)) {
      return Error(400, "reserve_id " + std::to_string(id) + " would overflow the credit");
    }
  }
  for (const auto& [bank_id, credit] : after) accounts_[bank_id].credit = credit;
  for (int64_t id : reserve_ids) {
    Reservation& r = reservations_.at(id);
    r.settled = Settled::kCommitted;
    ++r.commit_count;
  }
  return Ok();
}

Outcome Bank::Cancel(const std::vector<int64_t>& reserve_ids, int64_t now_ms) {
  Outcome v = Validate(reserve_ids, now_ms, false);
  if (v.status != 200) return v;
  for (int64_t id : reserve_ids) reservations_.at(id).settled = Settled::kCancelled;
  return Ok();
}

const char* Bank::StateName(const Reservation& r, bool expired) {
  switch (r.settled) {
    case Settled::kCommitted: return "committed";
    case Settled::kCancelled: return "cancelled";
    case Settled::kPending: return expired ? "expired" : "pending";
  }
  return "pending";
}

nlohmann::json Bank::Reservations(int64_t now_ms) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, r] : reservations_) {
    out.push_back({{"reserve_id", id},
                   {"bank_id", r.bank_id},
                   {"price", r.price},
                   {"state", StateName(r, Expired(r, now_ms))},
                   {"reserved_at_ms", r.reserved_at_ms},
                   {"commit_count", r.commit_count},
                   {"commit_attempts", r.commit_attempts}});
  }
  return out;
}

void Bank::Reset() {
  accounts_.clear();
  reservations_.clear();
}

}  // namespace isusim
