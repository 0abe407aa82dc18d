#include "projections/read_model.h"

#include <algorithm>

namespace isucoin::projections {

using namespace isucoin::events;

namespace {

constexpr Micros kSecond = 1'000'000;

Micros BucketWidth(ChartResolution r) {
  switch (r) {
    case ChartResolution::kSecond: return kSecond;
    case ChartResolution::kMinute: return 60 * kSecond;
    case ChartResolution::kHour: return 3600 * kSecond;
  }
  return kSecond;
}

// SPEC.md: 300 s, 300 min, 48 h.
int WindowBuckets(ChartResolution r) { return r == ChartResolution::kHour ? 48 : 300; }

constexpr ChartResolution kResolutions[] = {ChartResolution::kSecond, ChartResolution::kMinute,
                                            ChartResolution::kHour};

}  // namespace

bool ReadModel::Apply(const Event& event) {
  if (!applied_.Admit(event.seq)) return false;
  std::visit([&](const auto& body) { On(event, body); }, event.body);
  return true;
}

// ---- genesis

void ReadModel::On(const Event&, const GenesisUser& x) {
  users_[x.user_id] = UserView{x.user_id, x.bank_id, x.name, x.password_hash, x.created_at};
  user_by_bank_[x.bank_id] = x.user_id;
}

void ReadModel::On(const Event&, const GenesisTrade& x) {
  trade_settled_[x.trade_id] = true;
  TradeView trade{x.trade_id, x.amount, x.price, x.created_at};
  trades_[x.trade_id] = trade;
  ShowTrade(trade);
  AdvanceSettledCursor();
}

void ReadModel::On(const Event&, const GenesisOrder& x) {
  OrderView o{x.order_id, x.side,      x.user_id,  x.amount, x.price,
              x.created_at, x.closed_at, x.trade_id, x.closed_at && !x.trade_id};
  orders_[o.id] = o;
  auto& mine = orders_by_user_[o.user_id];
  mine.insert(std::upper_bound(mine.begin(), mine.end(), o.id), o.id);
  if (o.trade_id) {
    traded_by_user_[o.user_id][*o.trade_id].push_back(o.id);
    auto trade = trades_.find(*o.trade_id);
    if (trade != trades_.end()) {
      Balance& b = balances_[o.user_id];
      const std::int64_t value = o.amount * trade->second.price;
      if (o.side == Side::kBuy) {
        b.chairs_bought += o.amount;
        b.yen_paid += value;
      } else {
        b.chairs_sold += o.amount;
        b.yen_received += value;
      }
    }
  } else if (!o.closed_at) {
    AddToBook(o);
  }
}

void ReadModel::On(const Event&, const GenesisCompleted&) {
  genesis_.reset();
  genesis_ = std::make_shared<const ReadModel>(*this);
}

void ReadModel::On(const Event&, const ExchangeReset& x) {
  const AppliedSequence applied = applied_;  // the log goes on: sequences never go back
  std::shared_ptr<const ReadModel> genesis = genesis_;
  if (genesis) {
    *this = *genesis;
  } else {
    *this = ReadModel(utc_offset_);
  }
  applied_ = applied;
  genesis_ = genesis;
  endpoints_ = x.endpoints;
}

// ---- users and orders

void ReadModel::On(const Event& e, const UserRegistered& x) {
  users_[x.user_id] = UserView{x.user_id, x.bank_id, x.name, x.password_hash, e.time};
  user_by_bank_[x.bank_id] = x.user_id;
}

void ReadModel::On(const Event& e, const OrderAccepted& x) {
  OrderView o{x.order_id, x.side, x.user_id, x.amount, x.price, e.time, std::nullopt,
              std::nullopt, false};
  orders_[o.id] = o;
  orders_by_user_[o.user_id].push_back(o.id);  // ids only grow
  AddToBook(o);
}

void ReadModel::On(const Event& e, const OrderCancelled& x) {
  auto it = orders_.find(x.order_id);
  if (it == orders_.end()) return;
  OrderView& o = it->second;
  if (locked_.erase(o.id) == 0) RemoveFromBook(o);  // open orders are in the book
  else if (o.side == Side::kBuy) balances_[o.user_id].open_buy_exposure -= o.amount * o.price;
  o.cancelled = true;
  o.closed_at = e.time;
}

void ReadModel::On(const Event&, const MatchProposed& x) {
  std::vector<Id>& legs = matches_[x.match_id];
  for (const MatchLeg& leg : x.legs) {
    auto it = orders_.find(leg.order_id);
    if (it == orders_.end()) continue;
    // Locked: out of the best prices, still counted in the buyer's exposure.
    const OrderView& o = it->second;
    CountOpen(o, -1);
    locked_.insert(o.id);
    legs.push_back(o.id);
  }
}

void ReadModel::On(const Event&, const MatchAborted& x) {
  auto match = matches_.find(x.match_id);
  if (match == matches_.end()) return;
  for (Id id : match->second) {
    if (locked_.erase(id) == 0) continue;  // cancelled for a failed reservation
    CountOpen(orders_.at(id), +1);
  }
  matches_.erase(match);
}

void ReadModel::On(const Event& e, const TradeExecuted& x) {
  executed_[x.trade_id] = ExecutedTrade{x, e.time};
  trade_settled_[x.trade_id] = false;
  unsettled_.insert(x.trade_id);
  for (const TradeLeg& leg : x.legs) {
    locked_.erase(leg.order_id);
    Balance& b = balances_[leg.user_id];
    if (leg.side == Side::kBuy) {
      auto it = orders_.find(leg.order_id);
      if (it != orders_.end()) b.open_buy_exposure -= it->second.amount * it->second.price;
    }
    b.awaiting_settlement += leg.amount * x.price;
  }
  matches_.erase(x.match_id);
}

void ReadModel::On(const Event&, const TradeSettled& x) {
  auto it = executed_.find(x.trade_id);
  if (it == executed_.end()) return;
  const TradeExecuted& t = it->second.trade;
  const TradeView trade{t.trade_id, t.amount, t.price, it->second.time};
  for (const TradeLeg& leg : t.legs) {
    auto order = orders_.find(leg.order_id);
    if (order != orders_.end()) {
      order->second.trade_id = t.trade_id;
      order->second.closed_at = trade.created_at;
    }
    traded_by_user_[leg.user_id][t.trade_id].push_back(leg.order_id);
    Balance& b = balances_[leg.user_id];
    const std::int64_t value = leg.amount * t.price;
    b.awaiting_settlement -= value;
    if (leg.side == Side::kBuy) {
      b.chairs_bought += leg.amount;
      b.yen_paid += value;
    } else {
      b.chairs_sold += leg.amount;
      b.yen_received += value;
    }
  }
  trades_[trade.id] = trade;
  trade_settled_[trade.id] = true;
  unsettled_.erase(trade.id);
  executed_.erase(it);
  ShowTrade(trade);
  AdvanceSettledCursor();
}

// ---- helpers

void ReadModel::CountOpen(const OrderView& o, int delta) {
  auto& side = o.side == Side::kBuy ? open_buys_ : open_sells_;
  if ((side[o.price] += delta) == 0) side.erase(o.price);
}

void ReadModel::AddToBook(const OrderView& o) {
  CountOpen(o, +1);
  if (o.side == Side::kBuy) balances_[o.user_id].open_buy_exposure += o.amount * o.price;
}

void ReadModel::RemoveFromBook(const OrderView& o) {
  CountOpen(o, -1);
  if (o.side == Side::kBuy) balances_[o.user_id].open_buy_exposure -= o.amount * o.price;
}

void ReadModel::AdvanceSettledCursor() {
  if (unsettled_.empty()) {
    settled_cursor_ = trade_settled_.empty() ? 0 : trade_settled_.rbegin()->first;
    return;
  }
  auto it = trade_settled_.lower_bound(*unsettled_.begin());
  settled_cursor_ = it == trade_settled_.begin() ? 0 : std::prev(it)->first;
}

Micros ReadModel::BucketStart(Micros t, ChartResolution r) const {
  // Buckets follow the exchange's clock, so an hour starts at :00 local time.
  const Micros offset = static_cast<Micros>(utc_offset_) * kSecond;
  const Micros width = BucketWidth(r);
  Micros local = t + offset;
  Micros start = local - ((local % width) + width) % width;
  return start - offset;
}

void ReadModel::ShowTrade(const TradeView& trade) {
  for (ChartResolution r : kResolutions) {
    auto [it, inserted] = candles_[static_cast<int>(r)].try_emplace(
        BucketStart(trade.created_at, r),
        Candle{BucketStart(trade.created_at, r), trade.price, trade.price, trade.price,
               trade.price, trade.id, trade.id});
    if (inserted) continue;
    Candle& c = it->second;
    c.high = std::max(c.high, trade.price);
    c.low = std::min(c.low, trade.price);
    if (trade.id < c.first_trade) {
      c.first_trade = trade.id;
      c.open = trade.price;
    }
    if (trade.id > c.last_trade) {
      c.last_trade = trade.id;
      c.close = trade.price;
    }
  }
  if (trade.id > latest_trade_) {
    latest_trade_ = trade.id;
    latest_trade_time_ = trade.created_at;
  }
}

// ---- queries

const UserView* ReadModel::FindUser(Id id) const {
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : &it->second;
}

const UserView* ReadModel::FindUserByBankId(const std::string& bank_id) const {
  auto it = user_by_bank_.find(bank_id);
  return it == user_by_bank_.end() ? nullptr : FindUser(it->second);
}

const OrderView* ReadModel::FindOrder(Id id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::optional<TradeView> ReadModel::FindTrade(Id id) const {
  auto it = trades_.find(id);
  if (it == trades_.end()) return std::nullopt;
  return it->second;
}

std::vector<OrderView> ReadModel::OrdersOf(Id user_id) const {
  std::vector<OrderView> out;
  auto it = orders_by_user_.find(user_id);
  if (it == orders_by_user_.end()) return out;
  for (Id id : it->second) {
    const OrderView& o = orders_.at(id);
    if (!o.cancelled) out.push_back(o);
  }
  // Ids follow acceptance order; created_at comes from the same clock, but an imported
  // dataset may not: sort by created_at, ties by id (SPEC.md: oldest created_at first).
  std::stable_sort(out.begin(), out.end(), [](const OrderView& a, const OrderView& b) {
    return a.created_at < b.created_at;
  });
  return out;
}

std::vector<OrderView> ReadModel::TradedOrdersSince(Id user_id, Id trade_cursor,
                                                    std::optional<Id> up_to) const {
  std::vector<OrderView> out;
  auto it = traded_by_user_.find(user_id);
  if (it == traded_by_user_.end()) return out;
  const Id last = up_to.value_or(settled_cursor_);
  for (auto t = it->second.upper_bound(trade_cursor); t != it->second.end() && t->first <= last;
       ++t) {
    for (Id id : t->second) out.push_back(orders_.at(id));
  }
  return out;
}

std::optional<std::int64_t> ReadModel::lowest_sell_price() const {
  if (open_sells_.empty()) return std::nullopt;
  return open_sells_.begin()->first;
}

std::optional<std::int64_t> ReadModel::highest_buy_price() const {
  if (open_buys_.empty()) return std::nullopt;
  return open_buys_.rbegin()->first;
}

std::vector<Candle> ReadModel::Chart(ChartResolution r) const {
  std::vector<Candle> out;
  if (latest_trade_ == 0) return out;
  const auto& candles = candles_[static_cast<int>(r)];
  const Micros end = BucketStart(latest_trade_time_, r);
  const Micros first = end - (WindowBuckets(r) - 1) * BucketWidth(r);
  for (auto it = candles.lower_bound(first); it != candles.end() && it->first <= end; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Balance ReadModel::BalanceOf(Id user_id) const {
  auto it = balances_.find(user_id);
  return it == balances_.end() ? Balance{} : it->second;
}

}  // namespace isucoin::projections
