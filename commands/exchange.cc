#include "commands/exchange.h"

#include <algorithm>

#include "commands/exchange_state.h"

namespace isucoin::commands {

using namespace isucoin::events;

namespace {

bool InRange(std::int64_t v, std::int64_t max) { return v >= 1 && v <= max; }

std::string Describe(const char* what, std::int64_t v) {
  return std::string(what) + " " + std::to_string(v);
}

bool IsGenesisImport(const CommandBody& body) {
  return std::holds_alternative<UserImported>(body) ||
         std::holds_alternative<TradeImported>(body) ||
         std::holds_alternative<OrderImported>(body);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Dispatch

void ExchangeState::Apply(const Command& cmd, std::vector<Event>& out) {
  Emitter emit{cmd, out};
  if (!genesis_complete_ && !IsGenesisImport(cmd.body) &&
      !std::holds_alternative<GenesisSealed>(cmd.body)) {
    CompleteGenesis(emit);  // the first live command closes the genesis implicitly
  }
  std::visit([&](const auto& body) { On(body, emit); }, cmd.body);
}

Order* ExchangeState::FindOrder(Id id) {
  return orders_.Find(id);
}

Order& ExchangeState::AddOrder(const Order& order) {
  return orders_.Insert(order);
}

// ---------------------------------------------------------------------------------------------
// Genesis

void ExchangeState::On(const UserImported& c, Emitter& emit) {
  if (genesis_complete_) return emit(CommandRejected{"genesis is complete: no more imports"});
  if (c.user_id < 1) return emit(CommandRejected{Describe("invalid user id", c.user_id)});
  if (users_.contains(c.user_id))
    return emit(CommandRejected{Describe("duplicate user id", c.user_id)});
  if (c.bank_id.empty() || c.name.empty() || c.password_hash.empty())
    return emit(CommandRejected{"user import needs bank_id, name and password_hash"});
  if (user_by_bank_.contains(c.bank_id))
    return emit(CommandRejected{"duplicate bank_id " + c.bank_id});
  users_[c.user_id] = User{c.user_id, c.bank_id, c.name, c.password_hash, c.created_at};
  user_by_bank_[c.bank_id] = c.user_id;
  next_.user = std::max(next_.user, c.user_id + 1);
  emit(GenesisUser{c.user_id, c.bank_id, c.name, c.password_hash, c.created_at});
}

void ExchangeState::On(const TradeImported& c, Emitter& emit) {
  if (genesis_complete_) return emit(CommandRejected{"genesis is complete: no more imports"});
  if (c.trade_id < 1) return emit(CommandRejected{Describe("invalid trade id", c.trade_id)});
  if (genesis_trades_.contains(c.trade_id))
    return emit(CommandRejected{Describe("duplicate trade id", c.trade_id)});
  if (!InRange(c.amount, kMaxAmount) || !InRange(c.price, kMaxPrice))
    return emit(CommandRejected{Describe("trade amount or price out of range, trade", c.trade_id)});
  genesis_trades_.insert(c.trade_id);
  next_.trade = std::max(next_.trade, c.trade_id + 1);
  emit(GenesisTrade{c.trade_id, c.amount, c.price, c.created_at});
}

void ExchangeState::On(const OrderImported& c, Emitter& emit) {
  if (genesis_complete_) return emit(CommandRejected{"genesis is complete: no more imports"});
  if (c.order_id < 1) return emit(CommandRejected{Describe("invalid order id", c.order_id)});
  if (orders_.contains(c.order_id))
    return emit(CommandRejected{Describe("duplicate order id", c.order_id)});
  if (!users_.contains(c.user_id))
    return emit(CommandRejected{Describe("order import names unknown user", c.user_id)});
  if (!InRange(c.amount, kMaxAmount) || !InRange(c.price, kMaxPrice))
    return emit(CommandRejected{Describe("order amount or price out of range, order", c.order_id)});
  if (c.trade_id && !c.closed_at)
    return emit(CommandRejected{Describe("traded order without closed_at", c.order_id)});
  if (c.trade_id && !genesis_trades_.contains(*c.trade_id))
    return emit(CommandRejected{Describe("order import names unknown trade", *c.trade_id)});
  Order& order = AddOrder(Order{.id = c.order_id,
                                .user_id = c.user_id,
                                .side = c.side,
                                .amount = c.amount,
                                .price = c.price,
                                .state = c.closed_at ? OrderState::kClosed : OrderState::kOpen});
  if (order.state == OrderState::kOpen) book_.Insert(&order);
  next_.order = std::max(next_.order, c.order_id + 1);
  emit(GenesisOrder{c.order_id, c.side, c.user_id, c.amount, c.price, c.created_at, c.closed_at,
                    c.trade_id});
}

void ExchangeState::On(const GenesisSealed&, Emitter& emit) {
  if (genesis_complete_) return emit(CommandRejected{"genesis is already complete"});
  CompleteGenesis(emit);
}

void ExchangeState::CompleteGenesis(Emitter& emit) {
  genesis_complete_ = true;
  genesis_trades_.clear();
  emit(GenesisCompleted{});
  genesis_snapshot_.clear();  // the genesis' own snapshot must not nest the previous one
  genesis_snapshot_ = Snapshot();
  Sweep(emit);
}

// ---------------------------------------------------------------------------------------------
// Users

void ExchangeState::On(const SignupRequested& c, Emitter& emit) {
  if (c.name.empty() || c.bank_id.empty() || c.password_hash.empty())
    return emit(CommandRejected{"signup needs name, bank_id and password_hash"});
  if (user_by_bank_.contains(c.bank_id)) return emit(SignupRejected{c.bank_id, "bank_id_taken"});
  Id id = next_.user++;
  users_[id] = User{id, c.bank_id, c.name, c.password_hash, emit.cmd.time};
  user_by_bank_[c.bank_id] = id;
  emit(UserRegistered{id, c.bank_id, c.name, c.password_hash});
}

void ExchangeState::On(const SigninRecorded& c, Emitter& emit) {
  SigninGuard& guard = signin_guards_[c.bank_id];
  const Micros now = emit.cmd.time;
  if (guard.consecutive_failures >= kSigninFailuresBeforeBlock && now < guard.blocked_until) {
    return emit(SigninBlocked{c.bank_id, guard.blocked_until});
  }
  auto user = user_by_bank_.find(c.bank_id);
  if (c.password_ok && user != user_by_bank_.end()) {
    signin_guards_.erase(c.bank_id);
    return emit(SigninSucceeded{user->second, c.bank_id});
  }
  ++guard.consecutive_failures;
  if (guard.consecutive_failures >= kSigninFailuresBeforeBlock) {
    guard.blocked_until = now + kSigninCooldown;
  }
  emit(SigninFailed{c.bank_id, guard.consecutive_failures});
}

// ---------------------------------------------------------------------------------------------
// Orders

void ExchangeState::On(const OrderPlaced& c, Emitter& emit) {
  if (!users_.contains(c.user_id))
    return emit(CommandRejected{Describe("unknown user", c.user_id)});
  if (!InRange(c.amount, kMaxAmount))
    return emit(CommandRejected{Describe("amount must be 1..1000000000, got", c.amount)});
  if (!InRange(c.price, kMaxPrice))
    return emit(CommandRejected{Describe("price must be 1..1000000000, got", c.price)});
  Order& order = AddOrder(Order{.id = next_.order++,
                                .user_id = c.user_id,
                                .side = c.side,
                                .amount = c.amount,
                                .price = c.price});
  book_.Insert(&order);
  emit(OrderAccepted{order.id, order.user_id, order.side, order.amount, order.price});
  Sweep(emit);
}

void ExchangeState::On(const BuyCreditRefused& c, Emitter& emit) {
  emit(BuyRejected{c.user_id, c.amount, c.price, c.error});
}

void ExchangeState::On(const CancelRequested& c, Emitter& emit) {
  const std::uint64_t request = emit.cmd.offset;
  Order* order = FindOrder(c.order_id);
  if (order == nullptr)
    return emit(CancelRejected{c.order_id, c.user_id, CancelRefusal::kNotFound, request});
  if (order->user_id != c.user_id)
    return emit(CancelRejected{c.order_id, c.user_id, CancelRefusal::kNotOwner, request});
  switch (order->state) {
    case OrderState::kClosed:
      return emit(CancelRejected{c.order_id, c.user_id, CancelRefusal::kAlreadyClosed, request});
    case OrderState::kLocked:
      order->deferred_cancels.push_back(request);
      return emit(CancelDeferred{c.order_id, order->match_id, request});
    case OrderState::kOpen:
      book_.Remove(order);
      order->state = OrderState::kClosed;
      emit(OrderCancelled{order->id, order->user_id, order->side, CancelReason::kCanceled,
                          request});
      Sweep(emit);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Matching and settlement

void ExchangeState::Sweep(Emitter& emit) {
  std::vector<Order*>& legs = scratch_legs_;
  while (book_.FindMatch(legs)) {
    PendingMatch match{.id = next_.match++, .amount = legs.front()->amount};
    // Price: the oldest order's limit, moved into [highest sell limit, lowest buy limit].
    const Order* oldest = legs.front();
    std::int64_t highest_sell = 0, lowest_buy = kMaxPrice;
    for (const Order* o : legs) {
      if (o->id < oldest->id) oldest = o;
      if (o->side == Side::kSell) highest_sell = std::max(highest_sell, o->price);
      else lowest_buy = std::min(lowest_buy, o->price);
    }
    match.price = std::clamp(oldest->price, highest_sell, lowest_buy);

    MatchProposed proposed{match.id, match.price, match.amount, {}};
    proposed.legs.reserve(legs.size());
    for (Order* o : legs) {
      book_.Remove(o);
      o->state = OrderState::kLocked;
      o->match_id = match.id;
      match.legs.push_back(o->id);
      proposed.legs.push_back(
          MatchLeg{o->id, o->user_id, users_.at(o->user_id).bank_id, o->side, o->amount, o->price});
    }
    matches_.emplace(match.id, std::move(match));
    emit(std::move(proposed));
  }
}

// Answers the cancels that waited on a match. When `first_cancels` the order is still open,
// so the first request cancels it and later duplicates find it closed.
void ExchangeState::AnswerDeferredCancels(Order& order, bool first_cancels, Emitter& emit) {
  for (std::uint64_t request : order.deferred_cancels) {
    if (first_cancels) {
      first_cancels = false;
      if (order.state == OrderState::kOpen) book_.Remove(&order);
      order.state = OrderState::kClosed;
      emit(OrderCancelled{order.id, order.user_id, order.side, CancelReason::kCanceled, request});
    } else {
      emit(CancelRejected{order.id, order.user_id, CancelRefusal::kAlreadyClosed, request});
    }
  }
  order.deferred_cancels.clear();
}

void ExchangeState::On(const ReservationsReported& c, Emitter& emit) {
  auto it = matches_.find(c.match_id);
  if (it == matches_.end()) return;  // decided already, or unknown: a re-sent report
  const PendingMatch& match = it->second;

  std::map<Id, const Reservation*> by_order;
  for (const Reservation& r : c.results) by_order.emplace(r.order_id, &r);
  bool names_each_leg_once = by_order.size() == c.results.size() &&
                             by_order.size() == match.legs.size();
  for (Id leg : match.legs) names_each_leg_once = names_each_leg_once && by_order.contains(leg);
  if (!names_each_leg_once) {
    return emit(CommandRejected{Describe("reservations do not name each leg of match once, match",
                                         match.id)});
  }

  const bool all_reserved = std::all_of(c.results.begin(), c.results.end(),
                                        [](const Reservation& r) { return r.reserve_id.has_value(); });
  if (all_reserved) {
    TradeExecuted trade{next_.trade++, match.id, match.price, match.amount, {}};
    for (Id id : match.legs) {
      Order& o = orders_.at(id);
      o.state = OrderState::kClosed;
      trade.legs.push_back(TradeLeg{o.id, o.user_id, o.side, o.amount, *by_order[id]->reserve_id});
    }
    unsettled_trades_.insert(trade.trade_id);
    emit(std::move(trade));
    for (Id id : match.legs) AnswerDeferredCancels(orders_.at(id), false, emit);
    matches_.erase(it);
    return;
  }

  MatchAborted aborted{match.id, AbortReason::kReserveFailed, {}};
  std::vector<Order*> survivors;
  for (Id id : match.legs) {
    Order& o = orders_.at(id);
    const Reservation& r = *by_order[id];
    if (r.reserve_id) {
      aborted.release_reserve_ids.push_back(*r.reserve_id);
      survivors.push_back(&o);
      continue;
    }
    o.state = OrderState::kClosed;
    emit(OrderCancelled{o.id, o.user_id, o.side, CancelReason::kReserveFailed, std::nullopt});
    AnswerDeferredCancels(o, false, emit);
  }
  matches_.erase(it);
  emit(std::move(aborted));
  for (Order* o : survivors) {
    o->state = OrderState::kOpen;
    o->match_id = 0;
    book_.Insert(o);
    AnswerDeferredCancels(*o, true, emit);
  }
  Sweep(emit);
}

void ExchangeState::On(const CommitsReported& c, Emitter& emit) {
  for (Id trade_id : c.trade_ids) {
    if (unsettled_trades_.erase(trade_id) == 1) emit(TradeSettled{trade_id});
  }
}

// ---------------------------------------------------------------------------------------------
// Reset

void ExchangeState::On(const MalformedCommand& c, Emitter& emit) {
  emit(CommandRejected{"malformed command: " + c.error});
}

void ExchangeState::On(const ResetRequested& c, Emitter& emit) {
  for (auto& [id, match] : matches_) {
    for (Id leg : match.legs) AnswerDeferredCancels(orders_.at(leg), false, emit);
    emit(MatchAborted{id, AbortReason::kReset, {}});
  }
  emit(ExchangeReset{c.endpoints});
  auto genesis = Restore(genesis_snapshot_);
  // The genesis snapshot was written by this process; failing to read it back is a bug.
  if (!genesis.ok()) std::abort();
  std::unique_ptr<ExchangeState> fresh = std::move(genesis).value();
  const IdCounters kept = next_;
  std::string genesis_bytes = std::move(genesis_snapshot_);
  // Move the restored state in, member by member, keeping the counters monotonic.
  genesis_complete_ = true;
  users_ = std::move(fresh->users_);
  user_by_bank_ = std::move(fresh->user_by_bank_);
  signin_guards_ = std::move(fresh->signin_guards_);
  orders_ = std::move(fresh->orders_);
  genesis_trades_.clear();
  matches_.clear();
  unsettled_trades_.clear();
  book_ = std::move(fresh->book_);
  genesis_snapshot_ = std::move(genesis_bytes);
  next_ = IdCounters{std::max(kept.user, fresh->next_.user), std::max(kept.order, fresh->next_.order),
                     std::max(kept.trade, fresh->next_.trade), std::max(kept.match, fresh->next_.match)};
  Sweep(emit);
}

// ---------------------------------------------------------------------------------------------
// Exchange

Exchange::Exchange() : state_(std::make_unique<ExchangeState>()) {}
Exchange::Exchange(std::unique_ptr<ExchangeState> state) : state_(std::move(state)) {}
Exchange::~Exchange() = default;
Exchange::Exchange(Exchange&&) noexcept = default;
Exchange& Exchange::operator=(Exchange&&) noexcept = default;

std::vector<Event> Exchange::apply(const Command& cmd) {
  std::vector<Event> out;
  state_->Apply(cmd, out);
  return out;
}

void Exchange::apply(const Command& cmd, std::vector<Event>& out) { state_->Apply(cmd, out); }

std::string Exchange::Snapshot() const { return state_->Snapshot(); }

Result<Exchange> Exchange::Restore(std::string_view snapshot) {
  auto state = ExchangeState::Restore(snapshot);
  if (!state.ok()) return state.status();
  return Exchange(std::move(state).value());
}

std::uint64_t Exchange::StateHash() const {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64
  for (unsigned char ch : state_->Snapshot()) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

std::size_t Exchange::open_order_count() const { return state_->book().size(); }
std::optional<std::int64_t> Exchange::best_bid() const { return state_->book().BestBid(); }
std::optional<std::int64_t> Exchange::best_ask() const { return state_->book().BestAsk(); }
std::size_t Exchange::crossing_order_count() const { return state_->book().CrossingCount(); }

}  // namespace isucoin::commands
