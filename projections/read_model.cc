#include "projections/read_model.h"

#include <algorithm>
#include <string>
#include <vector>

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

// ---- snapshots: a little-endian binary image of every member, hash containers in key order.

namespace isucoin::projections {

using namespace isucoin::events;

namespace {

constexpr std::uint32_t kModelFormat = 1;

struct Writer {
  std::string& out;
  void U64(std::uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    out.append(b, 8);
  }
  void I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
  void Str(const std::string& s) {
    U64(s.size());
    out.append(s);
  }
  void OptI64(const std::optional<std::int64_t>& v) {
    U64(v.has_value());
    if (v) I64(*v);
  }
  template <typename M, typename F>
  void SortedMap(const M& m, F&& each) {  // unordered containers, written in key order
    std::vector<typename M::key_type> keys;
    keys.reserve(m.size());
    for (const auto& kv : m) keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end());
    U64(keys.size());
    for (const auto& k : keys) each(k, m.at(k));
  }
  template <typename M, typename F>
  void Map(const M& m, F&& each) {
    U64(m.size());
    for (const auto& [k, v] : m) each(k, v);
  }
  void Ids(const std::vector<Id>& ids) {
    U64(ids.size());
    for (Id id : ids) I64(id);
  }
  void Order(const OrderView& o) {
    I64(o.id);
    U64(static_cast<std::uint64_t>(o.side));
    I64(o.user_id);
    I64(o.amount);
    I64(o.price);
    I64(o.created_at);
    OptI64(o.closed_at);
    OptI64(o.trade_id);
    U64(o.cancelled);
  }
  void Endpoints(const ServiceEndpoints& e) {
    Str(e.bank_endpoint);
    Str(e.bank_appid);
    Str(e.log_endpoint);
    Str(e.log_appid);
  }
};

}  // namespace

class ReadModel::Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  std::uint64_t U64() {
    if (in_.size() - pos_ < 8) {
      ok_ = false;
      pos_ = in_.size();
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  std::int64_t I64() { return static_cast<std::int64_t>(U64()); }
  // A count that cannot exceed what is left (each element takes at least 8 bytes).
  std::uint64_t Count() {
    std::uint64_t n = U64();
    if (n > (in_.size() - pos_) / 8) {
      ok_ = false;
      pos_ = in_.size();
      return 0;
    }
    return n;
  }
  std::string Str() {
    std::uint64_t n = U64();
    if (n > in_.size() - pos_) {
      ok_ = false;
      pos_ = in_.size();
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::optional<std::int64_t> OptI64() {
    if (U64() == 0) return std::nullopt;
    return I64();
  }
  Side ReadSide() {
    std::uint64_t v = U64();
    if (v > 1) ok_ = false;
    return static_cast<Side>(v);
  }
  std::vector<Id> Ids() {
    std::vector<Id> ids(Count());
    for (Id& id : ids) id = I64();
    return ids;
  }
  OrderView Order() {
    OrderView o;
    o.id = I64();
    o.side = ReadSide();
    o.user_id = I64();
    o.amount = I64();
    o.price = I64();
    o.created_at = I64();
    o.closed_at = OptI64();
    o.trade_id = OptI64();
    o.cancelled = U64() != 0;
    return o;
  }
  ServiceEndpoints Endpoints() {
    ServiceEndpoints e;
    e.bank_endpoint = Str();
    e.bank_appid = Str();
    e.log_endpoint = Str();
    e.log_appid = Str();
    return e;
  }
  std::string_view Rest(std::uint64_t n) {
    if (n > in_.size() - pos_) {
      ok_ = false;
      pos_ = in_.size();
      return {};
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void ReadModel::SerializeTo(std::string& out) const {
  Writer w{out};
  w.U64(kModelFormat);
  w.I64(utc_offset_);
  const auto last = applied_.last();
  w.U64(last.has_value());
  if (last) {
    w.U64(last->cause);
    w.U64(last->index);
  }
  w.SortedMap(users_, [&](Id id, const UserView& u) {
    w.I64(id);
    w.Str(u.bank_id);
    w.Str(u.name);
    w.Str(u.password_hash);
    w.I64(u.created_at);
  });
  // user_by_bank_ is rebuilt from users_ ... unless a bank id was re-registered: write it.
  w.SortedMap(user_by_bank_, [&](const std::string& bank, Id id) {
    w.Str(bank);
    w.I64(id);
  });
  w.SortedMap(orders_, [&](Id, const OrderView& o) { w.Order(o); });
  w.SortedMap(orders_by_user_, [&](Id user, const std::vector<Id>& ids) {
    w.I64(user);
    w.Ids(ids);
  });
  w.SortedMap(traded_by_user_, [&](Id user, const std::map<Id, std::vector<Id>>& m) {
    w.I64(user);
    w.Map(m, [&](Id trade, const std::vector<Id>& ids) {
      w.I64(trade);
      w.Ids(ids);
    });
  });
  w.Map(trades_, [&](Id, const TradeView& t) {
    w.I64(t.id);
    w.I64(t.amount);
    w.I64(t.price);
    w.I64(t.created_at);
  });
  w.Map(executed_, [&](Id, const ExecutedTrade& e) {
    w.I64(e.time);
    w.I64(e.trade.trade_id);
    w.I64(e.trade.match_id);
    w.I64(e.trade.price);
    w.I64(e.trade.amount);
    w.U64(e.trade.legs.size());
    for (const TradeLeg& l : e.trade.legs) {
      w.I64(l.order_id);
      w.I64(l.user_id);
      w.U64(static_cast<std::uint64_t>(l.side));
      w.I64(l.amount);
      w.I64(l.reserve_id);
    }
  });
  w.Map(trade_settled_, [&](Id id, bool settled) {
    w.I64(id);
    w.U64(settled);
  });
  w.U64(unsettled_.size());
  for (Id id : unsettled_) w.I64(id);
  w.I64(settled_cursor_);
  for (const auto* side : {&open_sells_, &open_buys_}) {
    w.Map(*side, [&](std::int64_t price, std::int64_t n) {
      w.I64(price);
      w.I64(n);
    });
  }
  w.Map(matches_, [&](Id match, const std::vector<Id>& ids) {
    w.I64(match);
    w.Ids(ids);
  });
  std::vector<Id> locked(locked_.begin(), locked_.end());
  std::sort(locked.begin(), locked.end());
  w.Ids(locked);
  for (const auto& candles : candles_) {
    w.Map(candles, [&](Micros, const Candle& c) {
      w.I64(c.time);
      w.I64(c.open);
      w.I64(c.close);
      w.I64(c.high);
      w.I64(c.low);
      w.I64(c.first_trade);
      w.I64(c.last_trade);
    });
  }
  w.I64(latest_trade_);
  w.I64(latest_trade_time_);
  w.SortedMap(balances_, [&](Id user, const Balance& b) {
    w.I64(user);
    w.I64(b.chairs_bought);
    w.I64(b.chairs_sold);
    w.I64(b.yen_paid);
    w.I64(b.yen_received);
    w.I64(b.open_buy_exposure);
    w.I64(b.awaiting_settlement);
  });
  w.Endpoints(endpoints_);
  if (genesis_) {
    std::string g;
    genesis_->SerializeTo(g);
    w.U64(1);
    w.Str(g);
  } else {
    w.U64(0);
  }
}

std::string ReadModel::Serialize() const {
  std::string out;
  out.reserve(64 + orders_.size() * 96 + users_.size() * 128);
  SerializeTo(out);
  return out;
}

Status ReadModel::DeserializeFrom(Reader& r) {
  if (r.U64() != kModelFormat) return Status::Invalid("read model snapshot: unknown format");
  utc_offset_ = static_cast<int>(r.I64());
  if (r.U64() != 0) {
    Sequence s;
    s.cause = r.U64();
    s.index = static_cast<std::uint32_t>(r.U64());
    applied_ = AppliedSequence(s);
  } else {
    applied_ = AppliedSequence();
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    UserView u;
    u.id = r.I64();
    u.bank_id = r.Str();
    u.name = r.Str();
    u.password_hash = r.Str();
    u.created_at = r.I64();
    users_[u.id] = std::move(u);
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    std::string bank = r.Str();
    user_by_bank_[std::move(bank)] = r.I64();
  }
  auto orders = r.Count();
  orders_.reserve(orders);
  for (; orders > 0 && r.ok(); --orders) {
    OrderView o = r.Order();
    orders_[o.id] = o;
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    Id user = r.I64();
    orders_by_user_[user] = r.Ids();
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    auto& m = traded_by_user_[r.I64()];
    for (auto k = r.Count(); k > 0 && r.ok(); --k) {
      Id trade = r.I64();
      m[trade] = r.Ids();
    }
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    TradeView t;
    t.id = r.I64();
    t.amount = r.I64();
    t.price = r.I64();
    t.created_at = r.I64();
    trades_.emplace_hint(trades_.end(), t.id, t);
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    ExecutedTrade e;
    e.time = r.I64();
    e.trade.trade_id = r.I64();
    e.trade.match_id = r.I64();
    e.trade.price = r.I64();
    e.trade.amount = r.I64();
    for (auto k = r.Count(); k > 0 && r.ok(); --k) {
      TradeLeg l;
      l.order_id = r.I64();
      l.user_id = r.I64();
      l.side = r.ReadSide();
      l.amount = r.I64();
      l.reserve_id = r.I64();
      e.trade.legs.push_back(l);
    }
    executed_.emplace_hint(executed_.end(), e.trade.trade_id, std::move(e));
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    Id id = r.I64();
    trade_settled_.emplace_hint(trade_settled_.end(), id, r.U64() != 0);
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) unsettled_.insert(unsettled_.end(), r.I64());
  settled_cursor_ = r.I64();
  for (auto* side : {&open_sells_, &open_buys_}) {
    for (auto n = r.Count(); n > 0 && r.ok(); --n) {
      std::int64_t price = r.I64();
      side->emplace_hint(side->end(), price, r.I64());
    }
  }
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    Id match = r.I64();
    matches_.emplace_hint(matches_.end(), match, r.Ids());
  }
  for (Id id : r.Ids()) locked_.insert(id);
  for (auto& candles : candles_) {
    for (auto n = r.Count(); n > 0 && r.ok(); --n) {
      Candle c;
      c.time = r.I64();
      c.open = r.I64();
      c.close = r.I64();
      c.high = r.I64();
      c.low = r.I64();
      c.first_trade = r.I64();
      c.last_trade = r.I64();
      candles.emplace_hint(candles.end(), c.time, c);
    }
  }
  latest_trade_ = r.I64();
  latest_trade_time_ = r.I64();
  for (auto n = r.Count(); n > 0 && r.ok(); --n) {
    Balance& b = balances_[r.I64()];
    b.chairs_bought = r.I64();
    b.chairs_sold = r.I64();
    b.yen_paid = r.I64();
    b.yen_received = r.I64();
    b.open_buy_exposure = r.I64();
    b.awaiting_settlement = r.I64();
  }
  endpoints_ = r.Endpoints();
  if (r.U64() != 0) {
    const std::uint64_t n = r.U64();
    std::string_view g = r.Rest(n);
    if (!r.ok()) return Status::Corruption("read model snapshot: truncated genesis");
    Reader gr(g);
    auto genesis = std::make_shared<ReadModel>(utc_offset_);
    if (Status s = genesis->DeserializeFrom(gr); !s.ok()) return s;
    if (!gr.done()) return Status::Corruption("read model snapshot: trailing genesis bytes");
    genesis_ = std::move(genesis);
  }
  if (!r.ok()) return Status::Corruption("read model snapshot: truncated or malformed");
  return Status::Ok();
}

Result<ReadModel> ReadModel::Deserialize(std::string_view bytes) {
  Reader r(bytes);
  ReadModel model;
  if (Status s = model.DeserializeFrom(r); !s.ok()) return s;
  if (!r.done()) return Status::Corruption("read model snapshot: trailing bytes");
  return model;
}

std::uint64_t ReadModel::StateDigest() const {
  const std::string bytes = Serialize();
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace isucoin::projections
