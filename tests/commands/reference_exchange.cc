#include "tests/commands/reference_exchange.h"

#include <algorithm>
#include <type_traits>
#include <utility>

namespace isucoin::testing {

namespace ev = isucoin::events;

namespace {

constexpr ev::Micros kBlockFor = 10LL * 60 * 1'000'000;  // 10 minutes
constexpr std::int64_t kMaxFailuresBeforeBlock = 5;

bool InRange(std::int64_t v, std::int64_t max) { return v >= 1 && v <= max; }

ev::Side Opposite(ev::Side s) { return s == ev::Side::kBuy ? ev::Side::kSell : ev::Side::kBuy; }

}  // namespace

void ReferenceExchange::Emit(ev::EventBody body) {
  ev::Event e;
  e.seq = ev::Sequence{cmd_->offset, static_cast<std::uint32_t>(out_->size())};
  e.time = cmd_->time;
  e.body = std::move(body);
  out_->push_back(std::move(e));
}

void ReferenceExchange::Reject(std::string reason) { Emit(ev::CommandRejected{std::move(reason)}); }

std::vector<ev::Event> ReferenceExchange::apply(const ev::Command& cmd) {
  std::vector<ev::Event> out;
  cmd_ = &cmd;
  out_ = &out;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, ev::UserImported>) {
          OnUserImported(c);
        } else if constexpr (std::is_same_v<T, ev::TradeImported>) {
          OnTradeImported(c);
        } else if constexpr (std::is_same_v<T, ev::OrderImported>) {
          OnOrderImported(c);
        } else if constexpr (std::is_same_v<T, ev::GenesisSealed>) {
          if (genesis_complete_) {
            Reject("genesis already complete");
          } else {
            CompleteGenesis();
          }
        } else {
          if (!genesis_complete_) CompleteGenesis();
          if constexpr (std::is_same_v<T, ev::SignupRequested>) OnSignup(c);
          if constexpr (std::is_same_v<T, ev::SigninRecorded>) OnSignin(c);
          if constexpr (std::is_same_v<T, ev::OrderPlaced>) OnOrderPlaced(c);
          if constexpr (std::is_same_v<T, ev::BuyCreditRefused>) OnBuyCreditRefused(c);
          if constexpr (std::is_same_v<T, ev::CancelRequested>) OnCancel(c);
          if constexpr (std::is_same_v<T, ev::ReservationsReported>) OnReservations(c);
          if constexpr (std::is_same_v<T, ev::CommitsReported>) OnCommits(c);
          if constexpr (std::is_same_v<T, ev::ResetRequested>) OnReset(c.endpoints);
          if constexpr (std::is_same_v<T, ev::MalformedCommand>)
            Emit(ev::CommandRejected{"malformed command: " + c.error});
        }
      },
      cmd.body);
  cmd_ = nullptr;
  out_ = nullptr;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Genesis

void ReferenceExchange::OnUserImported(const ev::UserImported& c) {
  if (genesis_complete_) return Reject("genesis already complete");
  if (c.user_id <= 0) return Reject("user id out of range");
  if (s_.users.count(c.user_id)) return Reject("duplicate user id");
  if (s_.user_by_bank.count(c.bank_id)) return Reject("duplicate bank_id");
  s_.users[c.user_id] = User{c.user_id, c.bank_id};
  s_.user_by_bank[c.bank_id] = c.user_id;
  max_user_ = std::max(max_user_, c.user_id);
  Emit(ev::GenesisUser{c.user_id, c.bank_id, c.name, c.password_hash, c.created_at});
}

void ReferenceExchange::OnTradeImported(const ev::TradeImported& c) {
  if (genesis_complete_) return Reject("genesis already complete");
  if (c.trade_id <= 0) return Reject("trade id out of range");
  if (!InRange(c.amount, ev::kMaxAmount)) return Reject("amount out of range");
  if (!InRange(c.price, ev::kMaxPrice)) return Reject("price out of range");
  if (s_.genesis_trades.count(c.trade_id)) return Reject("duplicate trade id");
  s_.genesis_trades.insert(c.trade_id);
  max_trade_ = std::max(max_trade_, c.trade_id);
  Emit(ev::GenesisTrade{c.trade_id, c.amount, c.price, c.created_at});
}

void ReferenceExchange::OnOrderImported(const ev::OrderImported& c) {
  if (genesis_complete_) return Reject("genesis already complete");
  if (c.order_id <= 0) return Reject("order id out of range");
  if (s_.orders.count(c.order_id)) return Reject("duplicate order id");
  if (!s_.users.count(c.user_id)) return Reject("unknown user");
  if (!InRange(c.amount, ev::kMaxAmount)) return Reject("amount out of range");
  if (!InRange(c.price, ev::kMaxPrice)) return Reject("price out of range");
  if (c.trade_id && !c.closed_at) return Reject("trade_id without closed_at");
  if (c.trade_id && !s_.genesis_trades.count(*c.trade_id)) return Reject("unknown trade");
  Order o;
  o.id = c.order_id;
  o.side = c.side;
  o.user_id = c.user_id;
  o.amount = c.amount;
  o.price = c.price;
  o.status = !c.closed_at ? Status::kOpen : (c.trade_id ? Status::kTraded : Status::kCancelled);
  s_.orders[o.id] = o;
  max_order_ = std::max(max_order_, c.order_id);
  Emit(ev::GenesisOrder{c.order_id, c.side, c.user_id, c.amount, c.price, c.created_at,
                        c.closed_at, c.trade_id});
}

void ReferenceExchange::CompleteGenesis() {
  genesis_complete_ = true;
  Emit(ev::GenesisCompleted{});
  genesis_ = s_;  // the genesis is the state when GenesisCompleted is emitted, before its sweep
  next_user_ = max_user_ + 1;
  next_order_ = max_order_ + 1;
  next_trade_ = max_trade_ + 1;
  next_match_ = 1;  // the genesis holds no matches
  Sweep();
}

// ---------------------------------------------------------------------------------------------
// Users

void ReferenceExchange::OnSignup(const ev::SignupRequested& c) {
  if (c.name.empty() || c.bank_id.empty() || c.password_hash.empty()) {
    return Reject("empty field");
  }
  if (s_.user_by_bank.count(c.bank_id)) {
    return Emit(ev::SignupRejected{c.bank_id, "bank_id_taken"});
  }
  Id id = next_user_++;
  s_.users[id] = User{id, c.bank_id};
  s_.user_by_bank[c.bank_id] = id;
  Emit(ev::UserRegistered{id, c.bank_id, c.name, c.password_hash});
}

void ReferenceExchange::OnSignin(const ev::SigninRecorded& c) {
  SigninState& st = s_.signin[c.bank_id];
  if (st.failures >= kMaxFailuresBeforeBlock && cmd_->time < st.blocked_until) {
    return Emit(ev::SigninBlocked{c.bank_id, st.blocked_until});
  }
  auto user = s_.user_by_bank.find(c.bank_id);
  if (c.password_ok && user != s_.user_by_bank.end()) {
    st.failures = 0;
    return Emit(ev::SigninSucceeded{user->second, c.bank_id});
  }
  st.failures += 1;
  if (st.failures >= kMaxFailuresBeforeBlock) st.blocked_until = cmd_->time + kBlockFor;
  Emit(ev::SigninFailed{c.bank_id, st.failures});
}

// ---------------------------------------------------------------------------------------------
// Orders

void ReferenceExchange::OnOrderPlaced(const ev::OrderPlaced& c) {
  if (!s_.users.count(c.user_id)) return Reject("unknown user");
  if (!InRange(c.amount, ev::kMaxAmount)) return Reject("amount out of range");
  if (!InRange(c.price, ev::kMaxPrice)) return Reject("price out of range");
  Order o;
  o.id = next_order_++;
  o.side = c.side;
  o.user_id = c.user_id;
  o.amount = c.amount;
  o.price = c.price;
  s_.orders[o.id] = o;
  Emit(ev::OrderAccepted{o.id, o.user_id, o.side, o.amount, o.price});
  Sweep();
}

void ReferenceExchange::OnBuyCreditRefused(const ev::BuyCreditRefused& c) {
  Emit(ev::BuyRejected{c.user_id, c.amount, c.price, c.error});
}

void ReferenceExchange::OnCancel(const ev::CancelRequested& c) {
  const std::uint64_t req = cmd_->offset;
  auto it = s_.orders.find(c.order_id);
  if (it == s_.orders.end()) {
    return Emit(ev::CancelRejected{c.order_id, c.user_id, ev::CancelRefusal::kNotFound, req});
  }
  Order& o = it->second;
  if (o.user_id != c.user_id) {
    return Emit(ev::CancelRejected{c.order_id, c.user_id, ev::CancelRefusal::kNotOwner, req});
  }
  switch (o.status) {
    case Status::kTraded:
    case Status::kCancelled:
      return Emit(
          ev::CancelRejected{c.order_id, c.user_id, ev::CancelRefusal::kAlreadyClosed, req});
    case Status::kLocked:
      o.deferred.push_back(DeferredCancel{req, c.user_id});
      return Emit(ev::CancelDeferred{c.order_id, o.match_id, req});
    case Status::kOpen:
      o.status = Status::kCancelled;
      Emit(ev::OrderCancelled{o.id, o.user_id, o.side, ev::CancelReason::kCanceled, req});
      Sweep();
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

std::vector<const ReferenceExchange::Order*> ReferenceExchange::SortedOpen(ev::Side side) const {
  std::vector<const Order*> v;
  for (const auto& [id, o] : s_.orders) {
    if (o.status == Status::kOpen && o.side == side) v.push_back(&o);
  }
  std::sort(v.begin(), v.end(), [side](const Order* a, const Order* b) {
    if (a->price != b->price) {
      return side == ev::Side::kSell ? a->price < b->price : a->price > b->price;
    }
    return a->id < b->id;
  });
  return v;
}

std::optional<std::vector<ev::Id>> ReferenceExchange::Walk(const Order& x) const {
  std::int64_t rem = x.amount;
  std::vector<Id> taken;
  for (const Order* o : SortedOpen(Opposite(x.side))) {
    bool acceptable = x.side == ev::Side::kBuy ? o->price <= x.price : o->price >= x.price;
    if (!acceptable) break;  // priority order: every later one is worse
    if (o->amount <= rem) {
      taken.push_back(o->id);
      rem -= o->amount;
      if (rem == 0) return taken;
    }
  }
  return std::nullopt;
}

std::vector<ev::Id> ReferenceExchange::Candidates() const {
  auto buys = SortedOpen(ev::Side::kBuy);
  auto sells = SortedOpen(ev::Side::kSell);
  std::vector<Id> c;
  std::size_t i = 0;
  for (; i < buys.size() && i < sells.size(); ++i) {
    if (buys[i]->amount >= sells[i]->amount) {
      c.push_back(buys[i]->id);
      c.push_back(sells[i]->id);
    } else {
      c.push_back(sells[i]->id);
      c.push_back(buys[i]->id);
    }
  }
  for (std::size_t j = i; j < buys.size(); ++j) c.push_back(buys[j]->id);
  for (std::size_t j = i; j < sells.size(); ++j) c.push_back(sells[j]->id);
  return c;
}

bool ReferenceExchange::AtFixpoint() const {
  for (Id id : Candidates()) {
    if (Walk(s_.orders.at(id))) return false;
  }
  return true;
}

void ReferenceExchange::Sweep() {
  for (;;) {
    bool matched = false;
    for (Id cid : Candidates()) {
      const Order& x = s_.orders.at(cid);
      auto taken = Walk(x);
      if (!taken) continue;

      std::vector<Id> ids{x.id};
      ids.insert(ids.end(), taken->begin(), taken->end());

      Match m;
      m.id = next_match_++;
      m.amount = x.amount;
      Id oldest = *std::min_element(ids.begin(), ids.end());
      std::int64_t price = s_.orders.at(oldest).price;
      std::int64_t highest_sell = 0;
      std::int64_t lowest_buy = ev::kMaxPrice + 1;
      for (Id id : ids) {
        const Order& o = s_.orders.at(id);
        if (o.side == ev::Side::kSell) highest_sell = std::max(highest_sell, o.price);
        if (o.side == ev::Side::kBuy) lowest_buy = std::min(lowest_buy, o.price);
      }
      if (price < highest_sell) price = highest_sell;
      if (price > lowest_buy) price = lowest_buy;
      m.price = price;
      for (Id id : ids) {
        Order& o = s_.orders.at(id);
        m.legs.push_back(ev::MatchLeg{o.id, o.user_id, s_.users.at(o.user_id).bank_id, o.side,
                                      o.amount, o.price});
        o.status = Status::kLocked;
        o.match_id = m.id;
      }
      Emit(ev::MatchProposed{m.id, m.price, m.amount, m.legs});
      s_.pending[m.id] = std::move(m);
      matched = true;
      break;
    }
    if (!matched) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Settlement

void ReferenceExchange::OnReservations(const ev::ReservationsReported& c) {
  auto mit = s_.pending.find(c.match_id);
  if (mit == s_.pending.end()) return;  // unknown, executed or aborted: ignored
  const Match m = mit->second;

  // Each leg named exactly once (and nothing else).
  if (c.results.size() != m.legs.size()) return Reject("results do not match the legs");
  std::vector<const ev::Reservation*> per_leg;
  for (const auto& leg : m.legs) {
    const ev::Reservation* found = nullptr;
    int n = 0;
    for (const auto& r : c.results) {
      if (r.order_id == leg.order_id) {
        found = &r;
        ++n;
      }
    }
    if (n != 1) return Reject("results do not match the legs");
    per_leg.push_back(found);
  }
  s_.pending.erase(c.match_id);

  auto reject_deferred = [&](Order& o) {
    for (const auto& d : o.deferred) {
      Emit(ev::CancelRejected{o.id, d.user_id, ev::CancelRefusal::kAlreadyClosed, d.request});
    }
    o.deferred.clear();
  };

  bool all_ok = std::all_of(per_leg.begin(), per_leg.end(),
                            [](const ev::Reservation* r) { return r->reserve_id.has_value(); });
  if (all_ok) {
    ev::TradeExecuted t;
    t.trade_id = next_trade_++;
    t.match_id = m.id;
    t.price = m.price;
    t.amount = m.amount;
    for (std::size_t i = 0; i < m.legs.size(); ++i) {
      const auto& leg = m.legs[i];
      t.legs.push_back(
          ev::TradeLeg{leg.order_id, leg.user_id, leg.side, leg.amount, *per_leg[i]->reserve_id});
      Order& o = s_.orders.at(leg.order_id);
      o.status = Status::kTraded;
      o.match_id = 0;
    }
    s_.executed_trades[t.trade_id] = false;
    Emit(std::move(t));
    for (const auto& leg : m.legs) reject_deferred(s_.orders.at(leg.order_id));
    return;
  }

  std::vector<std::int64_t> release;
  for (std::size_t i = 0; i < m.legs.size(); ++i) {
    Order& o = s_.orders.at(m.legs[i].order_id);
    if (per_leg[i]->reserve_id) {
      release.push_back(*per_leg[i]->reserve_id);
      continue;
    }
    o.status = Status::kCancelled;
    o.match_id = 0;
    Emit(ev::OrderCancelled{o.id, o.user_id, o.side, ev::CancelReason::kReserveFailed,
                            std::nullopt});
    reject_deferred(o);
  }
  Emit(ev::MatchAborted{m.id, ev::AbortReason::kReserveFailed, release});
  for (std::size_t i = 0; i < m.legs.size(); ++i) {
    if (!per_leg[i]->reserve_id) continue;
    Order& o = s_.orders.at(m.legs[i].order_id);
    o.status = Status::kOpen;  // back to the book; priority is (price, id), so unchanged
    o.match_id = 0;
  }
  for (std::size_t i = 0; i < m.legs.size(); ++i) {
    if (!per_leg[i]->reserve_id) continue;
    Order& o = s_.orders.at(m.legs[i].order_id);
    if (o.deferred.empty()) continue;
    o.status = Status::kCancelled;
    Emit(ev::OrderCancelled{o.id, o.user_id, o.side, ev::CancelReason::kCanceled,
                            o.deferred.front().request});
    for (std::size_t k = 1; k < o.deferred.size(); ++k) {
      Emit(ev::CancelRejected{o.id, o.deferred[k].user_id, ev::CancelRefusal::kAlreadyClosed,
                              o.deferred[k].request});
    }
    o.deferred.clear();
  }
  Sweep();
}

void ReferenceExchange::OnCommits(const ev::CommitsReported& c) {
  for (Id id : c.trade_ids) {
    auto it = s_.executed_trades.find(id);
    if (it == s_.executed_trades.end() || it->second) continue;
    it->second = true;
    Emit(ev::TradeSettled{id});
  }
}

void ReferenceExchange::OnReset(const ev::ServiceEndpoints& endpoints) {
  for (const auto& [match_id, m] : s_.pending) {
    for (const auto& leg : m.legs) {
      const Order& o = s_.orders.at(leg.order_id);
      for (const auto& d : o.deferred) {
        Emit(ev::CancelRejected{o.id, d.user_id, ev::CancelRefusal::kAlreadyClosed, d.request});
      }
    }
    Emit(ev::MatchAborted{match_id, ev::AbortReason::kReset, {}});
  }
  Emit(ev::ExchangeReset{endpoints});
  s_ = genesis_;  // id counters are members outside s_: never reused
  Sweep();
}

}  // namespace isucoin::testing
