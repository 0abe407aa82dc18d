#include "projections/postgres_sink.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include <pqxx/pqxx>

#include "events/applied_sequence.h"
#include "events/codec.h"
#include "events/fast_decode.h"
#include "events/time_format.h"
#include "projections/postgres_schema.h"

namespace isucoin::projections {

using namespace isucoin::events;

namespace {

constexpr Micros kSecondUs = 1'000'000;
constexpr int kResolutions = 3;
const char* const kResolutionName[kResolutions] = {"second", "minute", "hour"};
constexpr Micros kBucketWidth[kResolutions] = {kSecondUs, 60 * kSecondUs, 3600 * kSecondUs};

// ---- the in-memory image of the tables

struct UserRow {
  Id id = 0;
  std::string bank_id, name, password_hash;
  Micros created_at = 0;
};
struct OrderRow {
  Id id = 0;
  Id user_id = 0;
  Side side = Side::kBuy;
  std::int64_t amount = 0, price = 0;
  Micros created_at = 0;
  std::optional<Micros> closed_at;
  std::optional<Id> trade_id;
  std::string state = "open";
  std::optional<Id> match_id;
};
struct TradeRow {
  Id id = 0;
  std::int64_t amount = 0, price = 0;
  Micros created_at = 0;
  bool settled = false;
  std::optional<Micros> settled_at;
  std::optional<Id> match_id;
  bool genesis = false;
};
struct LegRow {
  Id trade_id = 0, order_id = 0, user_id = 0;
  Side side = Side::kBuy;
  std::int64_t amount = 0, reserve_id = 0;
};
struct CandleRow {
  std::int64_t open = 0, close = 0, high = 0, low = 0;
  Id first_trade = 0, last_trade = 0;
};
struct BalanceRow {
  std::int64_t chairs_bought = 0, chairs_sold = 0, yen_paid = 0, yen_received = 0,
               open_buy_exposure = 0, awaiting_settlement = 0;
};

struct Image {
  std::map<Id, UserRow> users;
  std::map<Id, OrderRow> orders;
  std::map<Id, TradeRow> trades;
  std::map<Id, std::vector<LegRow>> legs;  // by trade id
  std::map<Micros, CandleRow> candles[kResolutions];
  std::map<Id, BalanceRow> balances;
  std::map<Id, std::vector<Id>> matches;  // pending match -> its locked legs' order ids
};

// Folds events into an Image, remembering which rows changed since the last Clear().
class Folder {
 public:
  explicit Folder(int utc_offset) : utc_offset_(utc_offset) {}

  Image live;
  std::optional<Image> genesis;
  AppliedSequence applied;
  Offset next_offset = 0;
  std::uint64_t resets = 0;
  bool track = true;

  // Dirty rows since the last flush.
  std::set<Id> d_users, d_orders, d_trades, d_legs, d_balances;
  std::set<std::pair<int, Micros>> d_candles;
  bool reset_pending = false;
  bool genesis_pending = false;

  void ClearDirty() {
    d_users.clear(); d_orders.clear(); d_trades.clear(); d_legs.clear(); d_balances.clear();
    d_candles.clear();
    reset_pending = genesis_pending = false;
  }
  std::size_t DirtyRows() const {
    return d_users.size() + d_orders.size() + d_trades.size() + d_legs.size() +
           d_balances.size() + d_candles.size();
  }

  // Applies one event; returns true when the batch must end with it (genesis, reset).
  bool Apply(const Event& e) {
    if (!applied.Admit(e.seq)) return false;
    return std::visit([&](const auto& body) { return On(e, body); }, e.body);
  }

 private:
  BalanceRow& Bal(Id user) {
    if (track) d_balances.insert(user);
    return live.balances[user];
  }
  OrderRow* Order(Id id) {
    auto it = live.orders.find(id);
    if (it == live.orders.end()) return nullptr;
    if (track) d_orders.insert(id);
    return &it->second;
  }
  Micros BucketStart(Micros t, int r) const {
    const Micros offset = static_cast<Micros>(utc_offset_) * kSecondUs;
    const Micros width = kBucketWidth[r];
    const Micros local = t + offset;
    return local - ((local % width) + width) % width - offset;
  }
  void ShowTrade(const TradeRow& t) {
    for (int r = 0; r < kResolutions; ++r) {
      const Micros b = BucketStart(t.created_at, r);
      if (track) d_candles.insert({r, b});
      auto [it, inserted] = live.candles[r].try_emplace(
          b, CandleRow{t.price, t.price, t.price, t.price, t.id, t.id});
      if (inserted) continue;
      CandleRow& c = it->second;
      c.high = std::max(c.high, t.price);
      c.low = std::min(c.low, t.price);
      if (t.id < c.first_trade) { c.first_trade = t.id; c.open = t.price; }
      if (t.id > c.last_trade) { c.last_trade = t.id; c.close = t.price; }
    }
  }

  bool On(const Event&, const GenesisUser& x) {
    live.users[x.user_id] = UserRow{x.user_id, x.bank_id, x.name, x.password_hash, x.created_at};
    if (track) d_users.insert(x.user_id);
    return false;
  }
  bool On(const Event&, const GenesisTrade& x) {
    TradeRow t{x.trade_id, x.amount, x.price, x.created_at, true, x.created_at, std::nullopt,
               true};
    live.trades[t.id] = t;
    if (track) d_trades.insert(t.id);
    ShowTrade(t);
    return false;
  }
  bool On(const Event&, const GenesisOrder& x) {
    OrderRow o{x.order_id, x.user_id, x.side, x.amount, x.price, x.created_at,
               x.closed_at, x.trade_id, "open", std::nullopt};
    if (o.trade_id) o.state = "settled";
    else if (o.closed_at) o.state = "cancelled";
    live.orders[o.id] = o;
    if (track) d_orders.insert(o.id);
    if (o.trade_id) {
      auto trade = live.trades.find(*o.trade_id);
      if (trade != live.trades.end()) {
        BalanceRow& b = Bal(o.user_id);
        const std::int64_t value = o.amount * trade->second.price;
        if (o.side == Side::kBuy) { b.chairs_bought += o.amount; b.yen_paid += value; }
        else { b.chairs_sold += o.amount; b.yen_received += value; }
      }
    } else if (!o.closed_at && o.side == Side::kBuy) {
      Bal(o.user_id).open_buy_exposure += o.amount * o.price;
    }
    return false;
  }
  bool On(const Event&, const GenesisCompleted&) {
    genesis = live;
    if (track) genesis_pending = true;
    return true;
  }
  bool On(const Event&, const ExchangeReset&) {
    live = genesis ? *genesis : Image{};
    ++resets;
    if (track) {
      ClearDirty();
      reset_pending = true;
    }
    return true;
  }
  bool On(const Event& e, const UserRegistered& x) {
    live.users[x.user_id] = UserRow{x.user_id, x.bank_id, x.name, x.password_hash, e.time};
    if (track) d_users.insert(x.user_id);
    return false;
  }
  bool On(const Event& e, const OrderAccepted& x) {
    live.orders[x.order_id] = OrderRow{x.order_id, x.user_id, x.side, x.amount, x.price,
                                       e.time, std::nullopt, std::nullopt, "open", std::nullopt};
    if (track) d_orders.insert(x.order_id);
    if (x.side == Side::kBuy) Bal(x.user_id).open_buy_exposure += x.amount * x.price;
    return false;
  }
  bool On(const Event& e, const OrderCancelled& x) {
    OrderRow* o = Order(x.order_id);
    if (!o) return false;
    // Open or locked, a buy's exposure goes (ReadModel: RemoveFromBook or the locked branch).
    if (o->side == Side::kBuy) Bal(o->user_id).open_buy_exposure -= o->amount * o->price;
    o->state = "cancelled";
    o->closed_at = e.time;
    return false;
  }
  bool On(const Event&, const MatchProposed& x) {
    std::vector<Id>& legs = live.matches[x.match_id];
    for (const MatchLeg& leg : x.legs) {
      OrderRow* o = Order(leg.order_id);
      if (!o) continue;
      o->state = "locked";
      o->match_id = x.match_id;
      legs.push_back(o->id);
    }
    return false;
  }
  bool On(const Event&, const MatchAborted& x) {
    auto match = live.matches.find(x.match_id);
    if (match == live.matches.end()) return false;
    for (Id id : match->second) {
      OrderRow* o = Order(id);
      if (!o || o->state != "locked") continue;  // cancelled for a failed reservation
      o->state = "open";
      o->match_id.reset();
    }
    live.matches.erase(match);
    return false;
  }
  bool On(const Event& e, const TradeExecuted& x) {
    live.trades[x.trade_id] =
        TradeRow{x.trade_id, x.amount, x.price, e.time, false, std::nullopt, x.match_id, false};
    if (track) { d_trades.insert(x.trade_id); d_legs.insert(x.trade_id); }
    std::vector<LegRow>& legs = live.legs[x.trade_id];
    for (const TradeLeg& leg : x.legs) {
      legs.push_back(LegRow{x.trade_id, leg.order_id, leg.user_id, leg.side, leg.amount,
                            leg.reserve_id});
      BalanceRow& b = Bal(leg.user_id);
      if (OrderRow* o = Order(leg.order_id)) {
        o->state = "executed";
        if (leg.side == Side::kBuy) b.open_buy_exposure -= o->amount * o->price;
      }
      b.awaiting_settlement += leg.amount * x.price;
    }
    live.matches.erase(x.match_id);
    return false;
  }
  bool On(const Event& e, const TradeSettled& x) {
    auto it = live.trades.find(x.trade_id);
    if (it == live.trades.end() || it->second.settled) return false;
    TradeRow& t = it->second;
    t.settled = true;
    t.settled_at = e.time;
    if (track) d_trades.insert(t.id);
    for (const LegRow& leg : live.legs[t.id]) {
      if (OrderRow* o = Order(leg.order_id)) {
        o->trade_id = t.id;
        o->closed_at = t.created_at;
        o->state = "settled";
      }
      BalanceRow& b = Bal(leg.user_id);
      const std::int64_t value = leg.amount * t.price;
      b.awaiting_settlement -= value;
      if (leg.side == Side::kBuy) { b.chairs_bought += leg.amount; b.yen_paid += value; }
      else { b.chairs_sold += leg.amount; b.yen_received += value; }
    }
    ShowTrade(t);
    return false;
  }
  template <typename T>
  bool On(const Event&, const T&) { return false; }

  int utc_offset_;
};

// ---- SQL

std::optional<std::int64_t> Opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::int64_t>();
}

Side ParseSide(const std::string& s) { return s == "sell" ? Side::kSell : Side::kBuy; }

const char* kSelect[6] = {
    "SELECT id, bank_id, name, password_hash, ts_to_us(created_at) FROM {}users",
    "SELECT id, user_id, side, amount, price, ts_to_us(created_at), ts_to_us(closed_at), "
    "trade_id, state, match_id FROM {}orders",
    "SELECT id, amount, price, ts_to_us(created_at), settled, ts_to_us(settled_at), match_id, "
    "genesis FROM {}trades",
    "SELECT trade_id, order_id, user_id, side, amount, reserve_id FROM {}trade_legs ORDER BY "
    "trade_id, order_id",
    "SELECT resolution, ts_to_us(bucket), open, close, high, low, first_trade, last_trade FROM "
    "{}candles",
    "SELECT user_id, chairs_bought, chairs_sold, yen_paid, yen_received, open_buy_exposure, "
    "awaiting_settlement FROM {}balances",
};

std::string WithPrefix(const char* sql, const std::string& prefix) {
  std::string s = sql;
  s.replace(s.find("{}"), 2, prefix);
  return s;
}

Image LoadImage(pqxx::transaction_base& tx, const std::string& prefix) {
  Image img;
  for (const auto& r : tx.exec(WithPrefix(kSelect[0], prefix))) {
    img.users[r[0].as<Id>()] = UserRow{r[0].as<Id>(), r[1].as<std::string>(),
                                       r[2].as<std::string>(), r[3].as<std::string>(),
                                       r[4].as<Micros>()};
  }
  for (const auto& r : tx.exec(WithPrefix(kSelect[1], prefix))) {
    OrderRow o{r[0].as<Id>(), r[1].as<Id>(), ParseSide(r[2].as<std::string>()),
               r[3].as<std::int64_t>(), r[4].as<std::int64_t>(), r[5].as<Micros>(), Opt(r[6]),
               Opt(r[7]), r[8].as<std::string>(), Opt(r[9])};
    if (o.state == "locked" && o.match_id) img.matches[*o.match_id].push_back(o.id);
    img.orders[o.id] = o;
  }
  for (auto& [match, ids] : img.matches) std::sort(ids.begin(), ids.end());
  for (const auto& r : tx.exec(WithPrefix(kSelect[2], prefix))) {
    img.trades[r[0].as<Id>()] =
        TradeRow{r[0].as<Id>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                 r[3].as<Micros>(), r[4].as<bool>(), Opt(r[5]), Opt(r[6]), r[7].as<bool>()};
  }
  for (const auto& r : tx.exec(WithPrefix(kSelect[3], prefix))) {
    img.legs[r[0].as<Id>()].push_back(LegRow{r[0].as<Id>(), r[1].as<Id>(), r[2].as<Id>(),
                                             ParseSide(r[3].as<std::string>()),
                                             r[4].as<std::int64_t>(), r[5].as<std::int64_t>()});
  }
  for (const auto& r : tx.exec(WithPrefix(kSelect[4], prefix))) {
    const std::string res = r[0].as<std::string>();
    const int ri = res == "second" ? 0 : res == "minute" ? 1 : 2;
    img.candles[ri][r[1].as<Micros>()] =
        CandleRow{r[2].as<std::int64_t>(), r[3].as<std::int64_t>(), r[4].as<std::int64_t>(),
                  r[5].as<std::int64_t>(), r[6].as<Id>(), r[7].as<Id>()};
  }
  for (const auto& r : tx.exec(WithPrefix(kSelect[5], prefix))) {
    img.balances[r[0].as<Id>()] =
        BalanceRow{r[1].as<std::int64_t>(), r[2].as<std::int64_t>(), r[3].as<std::int64_t>(),
                   r[4].as<std::int64_t>(), r[5].as<std::int64_t>(), r[6].as<std::int64_t>()};
  }
  return img;
}

void Prepare(pqxx::connection& c) {
  c.prepare("up_user",
            "INSERT INTO users VALUES ($1, $2, $3, $4, us_to_ts($5)) ON CONFLICT (id) DO UPDATE "
            "SET bank_id = excluded.bank_id, name = excluded.name, password_hash = "
            "excluded.password_hash, created_at = excluded.created_at");
  c.prepare("up_order",
            "INSERT INTO orders VALUES ($1, $2, $3, $4, $5, us_to_ts($6), us_to_ts($7), $8, $9, "
            "$10) ON CONFLICT (id) DO UPDATE SET closed_at = excluded.closed_at, trade_id = "
            "excluded.trade_id, state = excluded.state, match_id = excluded.match_id");
  c.prepare("up_trade",
            "INSERT INTO trades VALUES ($1, $2, $3, us_to_ts($4), $5, us_to_ts($6), $7, $8) ON "
            "CONFLICT (id) DO UPDATE SET settled = excluded.settled, settled_at = "
            "excluded.settled_at");
  c.prepare("up_leg",
            "INSERT INTO trade_legs VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING");
  c.prepare("up_candle",
            "INSERT INTO candles VALUES ($1, us_to_ts($2), $3, $4, $5, $6, $7, $8) ON CONFLICT "
            "(resolution, bucket) DO UPDATE SET open = excluded.open, close = excluded.close, "
            "high = excluded.high, low = excluded.low, first_trade = excluded.first_trade, "
            "last_trade = excluded.last_trade");
  c.prepare("up_balance",
            "INSERT INTO balances VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO "
            "UPDATE SET chairs_bought = excluded.chairs_bought, chairs_sold = "
            "excluded.chairs_sold, yen_paid = excluded.yen_paid, yen_received = "
            "excluded.yen_received, open_buy_exposure = excluded.open_buy_exposure, "
            "awaiting_settlement = excluded.awaiting_settlement");
}

std::string SideText(Side s) { return s == Side::kBuy ? "buy" : "sell"; }

void WritePosition(pqxx::transaction_base& tx, const Folder& f) {
  const auto last = f.applied.last();
  std::optional<std::int64_t> cause, index;
  if (last) {
    cause = static_cast<std::int64_t>(last->cause);
    index = static_cast<std::int64_t>(last->index);
  }
  tx.exec_params(
      "UPDATE sink_position SET events_offset = $1, last_cause = $2, last_index = $3, "
      "genesis_sealed = $4, resets = $5, updated_at = now() WHERE id = 1",
      static_cast<std::int64_t>(f.next_offset), cause, index, f.genesis.has_value(),
      static_cast<std::int64_t>(f.resets));
}

// Writes the rows changed since the last flush and the position; the caller commits.
void WriteBatch(pqxx::transaction_base& tx, const Folder& f) {
  if (f.reset_pending) {
    tx.exec("TRUNCATE users, orders, trades, trade_legs, candles, balances");
    for (const char* t : kPostgresLiveTables) {
      tx.exec(std::string("INSERT INTO ") + t + " SELECT * FROM genesis_" + t);
    }
  }
  const Image& img = f.live;
  for (Id id : f.d_users) {
    const UserRow& u = img.users.at(id);
    tx.exec_prepared("up_user", u.id, u.bank_id, u.name, u.password_hash, u.created_at);
  }
  for (Id id : f.d_orders) {
    const OrderRow& o = img.orders.at(id);
    tx.exec_prepared("up_order", o.id, o.user_id, SideText(o.side), o.amount, o.price,
                     o.created_at, o.closed_at, o.trade_id, o.state, o.match_id);
  }
  for (Id id : f.d_trades) {
    const TradeRow& t = img.trades.at(id);
    tx.exec_prepared("up_trade", t.id, t.amount, t.price, t.created_at, t.settled,
                     t.settled_at, t.match_id, t.genesis);
  }
  for (Id id : f.d_legs) {
    auto it = img.legs.find(id);
    if (it == img.legs.end()) continue;
    for (const LegRow& l : it->second) {
      tx.exec_prepared("up_leg", l.trade_id, l.order_id, l.user_id, SideText(l.side), l.amount,
                       l.reserve_id);
    }
  }
  for (const auto& [r, bucket] : f.d_candles) {
    const CandleRow& c = img.candles[r].at(bucket);
    tx.exec_prepared("up_candle", std::string(kResolutionName[r]), bucket, c.open, c.close,
                     c.high, c.low, c.first_trade, c.last_trade);
  }
  for (Id id : f.d_balances) {
    const BalanceRow& b = img.balances.at(id);
    tx.exec_prepared("up_balance", id, b.chairs_bought, b.chairs_sold, b.yen_paid,
                     b.yen_received, b.open_buy_exposure, b.awaiting_settlement);
  }
  if (f.genesis_pending) {
    for (const char* t : kPostgresLiveTables) {
      tx.exec(std::string("TRUNCATE genesis_") + t);
      tx.exec(std::string("INSERT INTO genesis_") + t + " SELECT * FROM " + t);
    }
  }
  WritePosition(tx, f);
}

// ---- COPY (replay)

std::optional<std::string> S(std::int64_t v) { return std::to_string(v); }
std::optional<std::string> S(const std::optional<std::int64_t>& v) {
  if (!v) return std::nullopt;
  return std::to_string(*v);
}
std::optional<std::string> T(Micros v) { return FormatTime(v, 0); }
std::optional<std::string> T(const std::optional<Micros>& v) {
  if (!v) return std::nullopt;
  return FormatTime(*v, 0);
}
std::optional<std::string> B(bool v) { return std::string(v ? "t" : "f"); }

std::uint64_t CopyImage(pqxx::transaction_base& tx, const Image& img, const std::string& prefix) {
  std::uint64_t rows = 0;
  {
    pqxx::stream_to s(tx, prefix + "users");
    for (const auto& [id, u] : img.users) {
      s << std::make_tuple(S(u.id), u.bank_id, u.name, u.password_hash, T(u.created_at));
      ++rows;
    }
    s.complete();
  }
  {
    pqxx::stream_to s(tx, prefix + "orders");
    for (const auto& [id, o] : img.orders) {
      s << std::make_tuple(S(o.id), S(o.user_id), SideText(o.side), S(o.amount), S(o.price),
                   T(o.created_at), T(o.closed_at), S(o.trade_id), o.state, S(o.match_id));
      ++rows;
    }
    s.complete();
  }
  {
    pqxx::stream_to s(tx, prefix + "trades");
    for (const auto& [id, t] : img.trades) {
      s << std::make_tuple(S(t.id), S(t.amount), S(t.price), T(t.created_at), B(t.settled),
                   T(t.settled_at), S(t.match_id), B(t.genesis));
      ++rows;
    }
    s.complete();
  }
  {
    pqxx::stream_to s(tx, prefix + "trade_legs");
    for (const auto& [id, legs] : img.legs) {
      for (const LegRow& l : legs) {
        s << std::make_tuple(S(l.trade_id), S(l.order_id), S(l.user_id), SideText(l.side), S(l.amount),
                     S(l.reserve_id));
        ++rows;
      }
    }
    s.complete();
  }
  {
    pqxx::stream_to s(tx, prefix + "candles");
    for (int r = 0; r < kResolutions; ++r) {
      for (const auto& [bucket, c] : img.candles[r]) {
        s << std::make_tuple(std::string(kResolutionName[r]), T(bucket), S(c.open), S(c.close),
                     S(c.high), S(c.low), S(c.first_trade), S(c.last_trade));
        ++rows;
      }
    }
    s.complete();
  }
  {
    pqxx::stream_to s(tx, prefix + "balances");
    for (const auto& [id, b] : img.balances) {
      s << std::make_tuple(S(id), S(b.chairs_bought), S(b.chairs_sold), S(b.yen_paid),
                   S(b.yen_received), S(b.open_buy_exposure), S(b.awaiting_settlement));
      ++rows;
    }
    s.complete();
  }
  return rows;
}

// Reads [folder.next_offset, end) into the folder in batches; `on_batch` after each read.
Status Fold(Log& log, Folder& folder, Offset end, std::uint64_t* applied,
            std::uint64_t* undecodable) {
  while (folder.next_offset < end) {
    auto records = log.Read(folder.next_offset,
                            std::min<std::uint64_t>(end - folder.next_offset, 10000));
    if (!records.ok()) return records.status();
    if (records.value().empty()) return Status::IOError("events log ended before its end offset");
    for (const LogRecord& rec : records.value()) {
      auto event = DecodeEventFast(rec.payload);
      folder.next_offset = rec.offset + 1;
      if (!event.ok()) {
        ++*undecodable;
        continue;
      }
      // Apply() answers "this ends a batch" (genesis, reset), not "this was applied".
      const bool fresh = folder.applied.ShouldApply(event.value().seq);
      folder.Apply(event.value());
      if (fresh) ++*applied;
    }
  }
  return Status::Ok();
}

}  // namespace

// ---- PostgresSink

struct PostgresSink::Impl {
  explicit Impl(int utc_offset) : folder(utc_offset) {}
  std::unique_ptr<pqxx::connection> conn;
  Folder folder;
  PostgresSinkStats stats;
  mutable std::mutex stats_mu;
};

PostgresSink::PostgresSink(Log& log, PostgresSinkOptions options)
    : log_(log), options_(std::move(options)) {}

PostgresSink::~PostgresSink() { Stop(); }

namespace {

// Connects, migrates, loads the tables and the position into `folder`.
void Connect(const PostgresSinkOptions& o, std::unique_ptr<pqxx::connection>* conn,
             Folder* folder) {
  conn->reset();
  auto c = std::make_unique<pqxx::connection>(o.conninfo);
  {
    pqxx::work tx(*c);
    MigratePostgresSchema(tx, o.schema);
    tx.commit();
  }
  {
    pqxx::nontransaction n(*c);
    n.exec("SET search_path TO " + n.quote_name(o.schema));
  }
  Prepare(*c);
  Folder loaded(0);
  {
    pqxx::read_transaction tx(*c);
    auto pos = tx.exec1(
        "SELECT events_offset, last_cause, last_index, genesis_sealed, resets FROM sink_position "
        "WHERE id = 1");
    folder->next_offset = pos[0].as<std::uint64_t>();
    folder->applied = AppliedSequence(
        pos[1].is_null() ? std::nullopt
                         : std::optional<Sequence>(Sequence{pos[1].as<std::uint64_t>(),
                                                            pos[2].as<std::uint32_t>()}));
    folder->resets = pos[4].as<std::uint64_t>();
    folder->live = LoadImage(tx, "");
    folder->genesis.reset();
    if (pos[3].as<bool>()) folder->genesis = LoadImage(tx, "genesis_");
  }
  folder->ClearDirty();
  *conn = std::move(c);
}

}  // namespace

Status PostgresSink::Start() {
  impl_ = std::make_unique<Impl>(options_.utc_offset_seconds);
  try {
    Connect(options_, &impl_->conn, &impl_->folder);
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("postgres sink: ") + e.what());
  }
  position_ = impl_->folder.next_offset;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void PostgresSink::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Status PostgresSink::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

PostgresSinkStats PostgresSink::stats() const {
  if (!impl_) return {};
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

namespace {

// One batch: reads and folds up to max_batch_events events (waiting at most max_batch_delay
// for more once some arrived), below `end`, then commits rows + position. Returns how many
// records it consumed.
std::uint64_t RunBatch(Log& log, const PostgresSinkOptions& o, pqxx::connection& conn,
                       Folder& f, Offset end, PostgresSinkStats* stats,
                       const std::atomic<bool>* stop) {
  const Offset start = f.next_offset;
  const auto deadline = std::chrono::steady_clock::now() + o.max_batch_delay;
  std::uint64_t events = 0;
  bool boundary = false;
  while (!boundary && f.next_offset < end && f.next_offset - start < o.max_batch_events) {
    auto records = log.Read(f.next_offset, std::min<std::uint64_t>(
                                               o.max_batch_events - (f.next_offset - start),
                                               end - f.next_offset));
    if (!records.ok()) throw std::runtime_error(records.status().ToString());
    if (records.value().empty()) {
      if (f.next_offset == start) break;  // nothing at all: no transaction
      if (std::chrono::steady_clock::now() >= deadline || (stop && stop->load())) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      log.WaitFor(f.next_offset, std::max(left, std::chrono::milliseconds(1)));
      continue;
    }
    for (const LogRecord& rec : records.value()) {
      auto event = DecodeEventFast(rec.payload);
      f.next_offset = rec.offset + 1;
      if (!event.ok()) {
        ++stats->undecodable;
        std::fprintf(stderr, "postgres sink: skipping undecodable event at offset %llu: %s\n",
                     static_cast<unsigned long long>(rec.offset),
                     event.status().ToString().c_str());
        continue;
      }
      const bool applied_before = f.applied.ShouldApply(event.value().seq);
      if (f.Apply(event.value())) boundary = true;
      if (applied_before) ++events;
      if (boundary) break;  // genesis and reset end their batch
    }
    if (!boundary && std::chrono::steady_clock::now() >= deadline) break;
  }
  if (f.next_offset == start) return 0;
  pqxx::work tx(conn);
  WriteBatch(tx, f);
  tx.commit();
  f.ClearDirty();
  stats->events_applied += events;
  ++stats->transactions;
  return f.next_offset - start;
}

}  // namespace

Status PostgresSink::RunUntil(Offset end) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>(options_.utc_offset_seconds);
    try {
      Connect(options_, &impl_->conn, &impl_->folder);
    } catch (const std::exception& e) {
      return Status::Unavailable(std::string("postgres sink: ") + e.what());
    }
  }
  try {
    while (impl_->folder.next_offset < end) {
      PostgresSinkStats s;
      {
        std::lock_guard lock(impl_->stats_mu);
        s = impl_->stats;
      }
      const auto n = RunBatch(log_, options_, *impl_->conn, impl_->folder, end, &s, nullptr);
      {
        std::lock_guard lock(impl_->stats_mu);
        impl_->stats = s;
      }
      position_ = impl_->folder.next_offset;
      if (n == 0) return Status::IOError("postgres sink: events log ends before offset " +
                                         std::to_string(end));
    }
  } catch (const std::exception& e) {
    impl_.reset();  // the image may hold an uncommitted batch: reload on the next call
    return Status::Unavailable(std::string("postgres sink: ") + e.what());
  }
  return Status::Ok();
}

void PostgresSink::Loop() {
  while (!stop_.load()) {
    try {
      if (!impl_->conn) {
        Connect(options_, &impl_->conn, &impl_->folder);
        position_ = impl_->folder.next_offset;
        std::lock_guard lock(mu_);
        health_ = Status::Ok();
      }
      log_.WaitFor(impl_->folder.next_offset, std::chrono::milliseconds(100));
      PostgresSinkStats s;
      {
        std::lock_guard lock(impl_->stats_mu);
        s = impl_->stats;
      }
      RunBatch(log_, options_, *impl_->conn, impl_->folder, ~Offset{0}, &s, &stop_);
      {
        std::lock_guard lock(impl_->stats_mu);
        impl_->stats = s;
      }
      position_ = impl_->folder.next_offset;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "postgres sink: %s (reconnecting in 1 s)\n", e.what());
      {
        std::lock_guard lock(mu_);
        health_ = Status::Unavailable(std::string("postgres sink: ") + e.what());
      }
      impl_->conn.reset();  // reload rows and position: the batch was not committed
      for (int i = 0; i < 10 && !stop_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

// ---- replay

Result<ReplayToPostgresResult> ReplayToPostgres(Log& log, const std::string& conninfo,
                                                const std::string& schema,
                                                std::optional<Offset> until_offset,
                                                int utc_offset_seconds) {
  ReplayToPostgresResult result;
  Folder folder(utc_offset_seconds);
  folder.track = false;
  const Offset end = until_offset ? std::min(*until_offset, log.End()) : log.End();
  std::uint64_t undecodable = 0;
  if (Status s = Fold(log, folder, end, &result.events_applied, &undecodable); !s.ok()) return s;
  result.end = folder.next_offset;
  const std::string rebuild = schema + "_rebuild";
  try {
    pqxx::connection conn(conninfo);
    {
      pqxx::work tx(conn);
      tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(rebuild) + " CASCADE");
      MigratePostgresSchema(tx, rebuild);  // sets search_path to it
      const std::string q = tx.quote_name(rebuild) + ".";
      result.rows += CopyImage(tx, folder.live, q);
      if (folder.genesis) result.rows += CopyImage(tx, *folder.genesis, q + "genesis_");
      WritePosition(tx, folder);
      tx.commit();
    }
    {
      pqxx::work tx(conn);
      const std::string old = schema + "_replaced";
      tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(old) + " CASCADE");
      tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
              "isucoin-migrate:" + schema);
      const bool exists = !tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                          schema).empty();
      if (exists) {
        tx.exec("ALTER SCHEMA " + tx.quote_name(schema) + " RENAME TO " + tx.quote_name(old));
      }
      tx.exec("ALTER SCHEMA " + tx.quote_name(rebuild) + " RENAME TO " +
              tx.quote_name(schema));
      if (exists) tx.exec("DROP SCHEMA " + tx.quote_name(old) + " CASCADE");
      tx.commit();
    }
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("replay to postgres: ") + e.what());
  }
  return result;
}

}  // namespace isucoin::projections
