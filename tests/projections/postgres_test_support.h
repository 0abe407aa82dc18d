// Shared by the PostgreSQL read model tests: the database from ISUCOIN_TEST_POSTGRES (started
// by scripts/test; a test FAILS without it — run ctest alone with the variable set), a
// scripted trading session through the real matcher, and comparisons of the SQL tables with
// projections::ReadModel.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "commands/exchange.h"
#include "events/codec.h"
#include "events/log.h"
#include "projections/read_model.h"

namespace isucoin::projections::pgtest {

using namespace isucoin::events;

inline constexpr Micros kT0 = 1'539'648'000'000'000;  // 2018-10-16T09:00:00+09:00

// The conninfo, or "" after a failure explaining how to provide it.
inline std::string TestConninfo() {
  const char* c = std::getenv("ISUCOIN_TEST_POSTGRES");
  if (c == nullptr || *c == '\0') {
    ADD_FAILURE() << "ISUCOIN_TEST_POSTGRES is not set: this test needs a real PostgreSQL. "
                     "Run it through ./scripts/test (which starts a throwaway cluster), or set "
                     "ISUCOIN_TEST_POSTGRES to a libpq conninfo before running ctest.";
    return "";
  }
  return c;
}

// A schema name unique to this process and test.
inline std::string TestSchema(const std::string& tag) {
  return "t_" + tag + "_" + std::to_string(::getpid());
}

inline void DropSchema(const std::string& conninfo, const std::string& schema) {
  pqxx::connection c(conninfo);
  pqxx::work tx(c);
  tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
  tx.commit();
}

// A deterministic trading session driven through commands::Exchange: genesis (users, a trade,
// orders), sign-ups, orders, matches reserved (some failing), trades settled out of order,
// cancels, and an /initialize (ExchangeReset) at `reset_at` steps (0 = none).
class Session {
 public:
  explicit Session(std::uint32_t seed = 1) : rng_(seed) {}

  // Runs `steps` random steps; returns the events in log order.
  void Genesis() {
    Do(UserImported{1, "isucon-001", "genesis one", "$2b$04$a", kT0 - 86'400'000'000});
    Do(UserImported{2, "isucon-002", "genesis two", "$2b$04$b", kT0 - 86'000'000'000});
    Do(TradeImported{1, 3, 100, kT0 - 3'600'000'000});
    Do(OrderImported{1, Side::kSell, 1, 3, 100, kT0 - 3'700'000'000, kT0 - 3'600'000'000, 1});
    Do(OrderImported{2, Side::kBuy, 2, 3, 100, kT0 - 3'650'000'000, kT0 - 3'600'000'000, 1});
    Do(OrderImported{3, Side::kBuy, 2, 2, 90, kT0 - 3'000'000'000, std::nullopt, std::nullopt});
    Do(OrderImported{4, Side::kSell, 1, 1, 120, kT0 - 2'000'000'000, kT0 - 1'000'000'000,
                     std::nullopt});
    Do(GenesisSealed{});
    users_ = {1, 2};
  }

  void Steps(int steps, int reset_at = 0) {
    for (int i = 0; i < steps; ++i) {
      if (reset_at && i == reset_at) {
        Do(ResetRequested{{"http://bank", "app", "http://logger", "app"}});
        pending_matches_.clear();
        executed_.clear();
        orders_.clear();
        users_ = {1, 2};
        continue;
      }
      const int r = Pick(100);
      if (users_.size() < 3 || r < 4) {
        const std::string name = "u" + std::to_string(next_user_++);
        for (const Event& e : Do(SignupRequested{name, "bank-" + name, "$2b$04$h"})) {
          if (auto* u = std::get_if<UserRegistered>(&e.body)) users_.push_back(u->user_id);
        }
      } else if (r < 60) {
        const Id user = users_[Pick(users_.size())];
        const Side side = Pick(2) ? Side::kBuy : Side::kSell;
        Do(OrderPlaced{user, side, 1 + Pick(4), 95 + Pick(11)});
      } else if (r < 78 && !pending_matches_.empty()) {
        const MatchProposed m = pending_matches_.front();
        pending_matches_.erase(pending_matches_.begin());
        ReservationsReported rep{m.match_id, {}};
        const bool fail = Pick(10) == 0;
        for (std::size_t k = 0; k < m.legs.size(); ++k) {
          if (fail && k + 1 == m.legs.size()) {
            rep.results.push_back({m.legs[k].order_id, std::nullopt, "credit_insufficient"});
          } else {
            rep.results.push_back({m.legs[k].order_id, 1000 + m.legs[k].order_id, ""});
          }
        }
        Do(rep);
      } else if (r < 92 && !executed_.empty()) {
        // Out of order: settle one or two trades picked at random.
        CommitsReported c;
        for (int k = 0; k < 2 && !executed_.empty(); ++k) {
          const std::size_t at = Pick(executed_.size());
          c.trade_ids.push_back(executed_[at]);
          executed_.erase(executed_.begin() + static_cast<std::ptrdiff_t>(at));
        }
        Do(c);
      } else if (!orders_.empty()) {
        const auto& [order, user] = orders_[Pick(orders_.size())];
        Do(CancelRequested{user, order});
      }
    }
  }

  // Settles everything executed (so the end state has no pending trade).
  void SettleAll() {
    if (executed_.empty()) return;
    Do(CommitsReported{executed_});
    executed_.clear();
  }

  const std::vector<Event>& events() const { return events_; }

  void AppendTo(Log& log) const {
    std::vector<std::string> payloads;
    for (const Event& e : events_) payloads.push_back(EncodeEvent(e));
    for (std::size_t i = 0; i < payloads.size(); i += 1000) {
      const std::size_t n = std::min<std::size_t>(1000, payloads.size() - i);
      auto r = log.Append(std::span<const std::string>(payloads.data() + i, n));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

 private:
  std::int64_t Pick(std::size_t n) {
    return static_cast<std::int64_t>(rng_() % n);
  }
  std::vector<Event> Do(CommandBody body) {
    time_ += 200'000 + Pick(1'500'000);
    auto out = exchange_.apply(Command{offset_++, time_, std::move(body)});
    for (const Event& e : out) {
      if (auto* m = std::get_if<MatchProposed>(&e.body)) pending_matches_.push_back(*m);
      if (auto* t = std::get_if<TradeExecuted>(&e.body)) executed_.push_back(t->trade_id);
      if (auto* a = std::get_if<OrderAccepted>(&e.body)) orders_.push_back({a->order_id, a->user_id});
    }
    events_.insert(events_.end(), out.begin(), out.end());
    return out;
  }

  std::mt19937 rng_;
  commands::Exchange exchange_;
  std::uint64_t offset_ = 0;
  Micros time_ = kT0;
  int next_user_ = 1;
  std::vector<Id> users_;
  std::vector<MatchProposed> pending_matches_;
  std::vector<Id> executed_;
  std::vector<std::pair<Id, Id>> orders_;  // order, user
  std::vector<Event> events_;
};

inline ReadModel FoldUntil(const std::vector<Event>& events, std::size_t end) {
  ReadModel model(9 * 3600);
  for (std::size_t i = 0; i < end && i < events.size(); ++i) model.Apply(events[i]);
  return model;
}

// Checks that the tables of `schema` show what `model` shows: users, each user's orders
// (as GET /orders lists them), settled trades, candles of the chart window, balances.
inline void ExpectTablesEqualReadModel(const std::string& conninfo, const std::string& schema,
                                       const ReadModel& model) {
  pqxx::connection c(conninfo);
  pqxx::work tx(c);
  tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema));
  // users
  auto users = tx.exec("SELECT id, bank_id, name, password_hash, ts_to_us(created_at) FROM "
                       "users ORDER BY id");
  EXPECT_EQ(users.size(), model.user_count()) << schema;
  std::vector<Id> user_ids;
  for (const auto& r : users) {
    const Id id = r[0].as<Id>();
    user_ids.push_back(id);
    const UserView* u = model.FindUser(id);
    ASSERT_NE(u, nullptr) << "user " << id;
    EXPECT_EQ(r[1].as<std::string>(), u->bank_id);
    EXPECT_EQ(r[2].as<std::string>(), u->name);
    EXPECT_EQ(r[3].as<std::string>(), u->password_hash);
    EXPECT_EQ(r[4].as<Micros>(), u->created_at) << "user " << id;
  }
  // orders, per user, as GET /orders shows them
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM orders")[0].as<std::size_t>(), model.order_count());
  std::size_t checked_orders = 0;
  for (Id uid : user_ids) {
    auto rows = tx.exec_params(
        "SELECT id, side, amount, price, ts_to_us(created_at), ts_to_us(closed_at), trade_id "
        "FROM orders WHERE user_id = $1 AND state <> 'cancelled' ORDER BY created_at, id",
        uid);
    const auto mine = model.OrdersOf(uid);
    ASSERT_EQ(rows.size(), mine.size()) << "orders of user " << uid;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      const auto& r = rows[i];
      const OrderView& o = mine[i];
      EXPECT_EQ(r[0].as<Id>(), o.id);
      EXPECT_EQ(r[1].as<std::string>(), o.side == Side::kBuy ? "buy" : "sell");
      EXPECT_EQ(r[2].as<std::int64_t>(), o.amount);
      EXPECT_EQ(r[3].as<std::int64_t>(), o.price);
      EXPECT_EQ(r[4].as<Micros>(), o.created_at);
      EXPECT_EQ(r[5].is_null() ? std::optional<Micros>() : r[5].as<Micros>(), o.closed_at)
          << "order " << o.id;
      EXPECT_EQ(r[6].is_null() ? std::optional<Id>() : r[6].as<Id>(), o.trade_id)
          << "order " << o.id;
      ++checked_orders;
    }
  }
  // trades: the settled ones are exactly the read model's
  auto trades = tx.exec(
      "SELECT id, amount, price, ts_to_us(created_at) FROM trades WHERE settled ORDER BY id");
  Id max_id = 0;
  for (const auto& r : trades) {
    const Id id = r[0].as<Id>();
    max_id = id;
    auto t = model.FindTrade(id);
    ASSERT_TRUE(t.has_value()) << "trade " << id << " settled in SQL only";
    EXPECT_EQ(r[1].as<std::int64_t>(), t->amount);
    EXPECT_EQ(r[2].as<std::int64_t>(), t->price);
    EXPECT_EQ(r[3].as<Micros>(), t->created_at);
  }
  const Id all_max = tx.exec1("SELECT coalesce(max(id), 0) FROM trades")[0].as<Id>();
  for (Id id = 1; id <= std::max(max_id, all_max) + 2; ++id) {
    const bool settled_sql =
        !tx.exec_params("SELECT 1 FROM trades WHERE id = $1 AND settled", id).empty();
    EXPECT_EQ(settled_sql, model.FindTrade(id).has_value()) << "trade " << id;
  }
  // candles
  const char* names[] = {"second", "minute", "hour"};
  const ChartResolution res[] = {ChartResolution::kSecond, ChartResolution::kMinute,
                                 ChartResolution::kHour};
  for (int r = 0; r < 3; ++r) {
    const auto chart = model.Chart(res[r]);
    if (chart.empty()) {
      EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM candles WHERE resolution = $1",
                                std::string(names[r]))[0].as<int>(), 0);
      continue;
    }
    auto rows = tx.exec_params(
        "SELECT ts_to_us(bucket), open, close, high, low FROM candles WHERE resolution = $1 "
        "AND bucket >= us_to_ts($2) ORDER BY bucket",
        std::string(names[r]), chart.front().time);
    ASSERT_EQ(rows.size(), chart.size()) << names[r];
    for (std::size_t i = 0; i < chart.size(); ++i) {
      EXPECT_EQ(rows[i][0].as<Micros>(), chart[i].time) << names[r];
      EXPECT_EQ(rows[i][1].as<std::int64_t>(), chart[i].open) << names[r];
      EXPECT_EQ(rows[i][2].as<std::int64_t>(), chart[i].close) << names[r];
      EXPECT_EQ(rows[i][3].as<std::int64_t>(), chart[i].high) << names[r];
      EXPECT_EQ(rows[i][4].as<std::int64_t>(), chart[i].low) << names[r];
    }
  }
  // balances (a missing row is all zeros)
  for (Id uid : user_ids) {
    const Balance b = model.BalanceOf(uid);
    auto rows = tx.exec_params(
        "SELECT chairs_bought, chairs_sold, yen_paid, yen_received, open_buy_exposure, "
        "awaiting_settlement FROM balances WHERE user_id = $1",
        uid);
    std::vector<std::int64_t> sql(6, 0);
    if (!rows.empty()) {
      for (int i = 0; i < 6; ++i) sql[i] = rows[0][i].as<std::int64_t>();
    }
    const std::vector<std::int64_t> want = {b.chairs_bought, b.chairs_sold,
                                            b.yen_paid,      b.yen_received,
                                            b.open_buy_exposure, b.awaiting_settlement};
    EXPECT_EQ(sql, want) << "balance of user " << uid;
  }
  // the position: every event seen, the last sequence applied
  const auto pos = tx.exec1("SELECT last_cause, last_index FROM sink_position");
  const auto last = model.last_applied();
  ASSERT_EQ(pos[0].is_null(), !last.has_value());
  if (last) {
    EXPECT_EQ(pos[0].as<std::uint64_t>(), last->cause);
    EXPECT_EQ(pos[1].as<std::uint32_t>(), last->index);
  }
  (void)checked_orders;
}

// Every row of every table of `schema`, as text, sorted: for row-for-row comparisons.
inline std::vector<std::string> DumpTables(const std::string& conninfo,
                                           const std::string& schema) {
  pqxx::connection c(conninfo);
  pqxx::work tx(c);
  std::vector<std::string> out;
  const std::string q = tx.quote_name(schema) + ".";
  for (std::string t : {"users", "orders", "trades", "trade_legs", "candles", "balances"}) {
    for (std::string prefix : {"", "genesis_"}) {
      for (const auto& r : tx.exec("SELECT x::text FROM " + q + prefix + t + " x ORDER BY 1")) {
        out.push_back(prefix + t + " " + r[0].as<std::string>());
      }
    }
  }
  for (const auto& r : tx.exec("SELECT events_offset, last_cause, last_index, genesis_sealed, "
                               "resets FROM " + q + "sink_position")) {
    std::string line = "position";
    for (const auto& f : r) line += " " + std::string(f.is_null() ? "null" : f.c_str());
    out.push_back(line);
  }
  return out;
}

}  // namespace isucoin::projections::pgtest
