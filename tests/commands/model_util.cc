#include "tests/commands/model_util.h"

#include <algorithm>
#include <sstream>
#include <type_traits>

namespace isucoin::testing {

namespace ev = isucoin::events;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

const char* S(ev::Side s) { return s == ev::Side::kBuy ? "buy" : "sell"; }
const char* CppSide(ev::Side s) { return s == ev::Side::kBuy ? "ev::Side::kBuy" : "ev::Side::kSell"; }

std::string Quote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  return r + "\"";
}

template <typename T>
std::string Opt(const std::optional<T>& v) {
  return v ? std::to_string(*v) : std::string("none");
}
template <typename T>
std::string CppOpt(const std::optional<T>& v) {
  return v ? std::to_string(*v) : std::string("std::nullopt");
}

const char* Refusal(ev::CancelRefusal r) {
  switch (r) {
    case ev::CancelRefusal::kNotFound: return "not_found";
    case ev::CancelRefusal::kNotOwner: return "not_owner";
    case ev::CancelRefusal::kAlreadyClosed: return "already_closed";
  }
  return "?";
}

}  // namespace

std::string Describe(const ev::Command& cmd) {
  std::ostringstream o;
  o << "@" << cmd.offset << " t=" << cmd.time << " ";
  std::visit(
      Overloaded{
          [&](const ev::UserImported& c) {
            o << "UserImported{user=" << c.user_id << " bank=" << Quote(c.bank_id) << "}";
          },
          [&](const ev::TradeImported& c) {
            o << "TradeImported{trade=" << c.trade_id << " " << c.amount << "@" << c.price << "}";
          },
          [&](const ev::OrderImported& c) {
            o << "OrderImported{order=" << c.order_id << " " << S(c.side) << " user=" << c.user_id
              << " " << c.amount << "@" << c.price << " closed_at=" << Opt(c.closed_at)
              << " trade=" << Opt(c.trade_id) << "}";
          },
          [&](const ev::GenesisSealed&) { o << "GenesisSealed{}"; },
          [&](const ev::SignupRequested& c) {
            o << "SignupRequested{name=" << Quote(c.name) << " bank=" << Quote(c.bank_id)
              << " hash=" << Quote(c.password_hash) << "}";
          },
          [&](const ev::SigninRecorded& c) {
            o << "SigninRecorded{bank=" << Quote(c.bank_id) << " ok=" << c.password_ok << "}";
          },
          [&](const ev::OrderPlaced& c) {
            o << "OrderPlaced{user=" << c.user_id << " " << S(c.side) << " " << c.amount << "@"
              << c.price << "}";
          },
          [&](const ev::BuyCreditRefused& c) {
            o << "BuyCreditRefused{user=" << c.user_id << " " << c.amount << "@" << c.price << "}";
          },
          [&](const ev::CancelRequested& c) {
            o << "CancelRequested{user=" << c.user_id << " order=" << c.order_id << "}";
          },
          [&](const ev::ReservationsReported& c) {
            o << "ReservationsReported{match=" << c.match_id << " [";
            for (const auto& r : c.results) {
              o << " #" << r.order_id << (r.reserve_id ? ":ok " + std::to_string(*r.reserve_id)
                                                       : ":fail");
            }
            o << " ]}";
          },
          [&](const ev::CommitsReported& c) {
            o << "CommitsReported{";
            for (auto id : c.trade_ids) o << " " << id;
            o << " }";
          },
          [&](const ev::ResetRequested&) { o << "ResetRequested{}"; },
          [&](const ev::MalformedCommand& c) { o << "MalformedCommand{" << c.error << "}"; },
      },
      cmd.body);
  return o.str();
}

std::string Describe(const ev::Event& e) {
  std::ostringstream o;
  o << "(" << e.seq.cause << "," << e.seq.index << " t=" << e.time << ") ";
  std::visit(
      Overloaded{
          [&](const ev::GenesisUser& x) {
            o << "GenesisUser{user=" << x.user_id << " bank=" << Quote(x.bank_id) << "}";
          },
          [&](const ev::GenesisTrade& x) {
            o << "GenesisTrade{trade=" << x.trade_id << " " << x.amount << "@" << x.price << "}";
          },
          [&](const ev::GenesisOrder& x) {
            o << "GenesisOrder{order=" << x.order_id << " " << S(x.side) << " user=" << x.user_id
              << " " << x.amount << "@" << x.price << " closed_at=" << Opt(x.closed_at)
              << " trade=" << Opt(x.trade_id) << "}";
          },
          [&](const ev::GenesisCompleted&) { o << "GenesisCompleted{}"; },
          [&](const ev::UserRegistered& x) {
            o << "UserRegistered{user=" << x.user_id << " bank=" << Quote(x.bank_id) << "}";
          },
          [&](const ev::SignupRejected& x) {
            o << "SignupRejected{bank=" << Quote(x.bank_id) << " reason=" << x.reason << "}";
          },
          [&](const ev::SigninSucceeded& x) {
            o << "SigninSucceeded{user=" << x.user_id << " bank=" << Quote(x.bank_id) << "}";
          },
          [&](const ev::SigninFailed& x) {
            o << "SigninFailed{bank=" << Quote(x.bank_id)
              << " failures=" << x.consecutive_failures << "}";
          },
          [&](const ev::SigninBlocked& x) {
            o << "SigninBlocked{bank=" << Quote(x.bank_id) << " until=" << x.until << "}";
          },
          [&](const ev::OrderAccepted& x) {
            o << "OrderAccepted{order=" << x.order_id << " user=" << x.user_id << " "
              << S(x.side) << " " << x.amount << "@" << x.price << "}";
          },
          [&](const ev::BuyRejected& x) {
            o << "BuyRejected{user=" << x.user_id << " " << x.amount << "@" << x.price
              << " error=" << Quote(x.error) << "}";
          },
          [&](const ev::OrderCancelled& x) {
            o << "OrderCancelled{order=" << x.order_id << " user=" << x.user_id << " "
              << S(x.side) << " reason="
              << (x.reason == ev::CancelReason::kCanceled ? "canceled" : "reserve_failed")
              << " request=" << Opt(x.request) << "}";
          },
          [&](const ev::CancelRejected& x) {
            o << "CancelRejected{order=" << x.order_id << " user=" << x.user_id
              << " reason=" << Refusal(x.reason) << " request=" << x.request << "}";
          },
          [&](const ev::CancelDeferred& x) {
            o << "CancelDeferred{order=" << x.order_id << " match=" << x.match_id
              << " request=" << x.request << "}";
          },
          [&](const ev::MatchProposed& x) {
            o << "MatchProposed{match=" << x.match_id << " price=" << x.price
              << " amount=" << x.amount << " legs=[";
            for (const auto& l : x.legs) {
              o << " #" << l.order_id << " " << S(l.side) << " u" << l.user_id << "/"
                << l.bank_id << " " << l.amount << "@" << l.price << ";";
            }
            o << " ]}";
          },
          [&](const ev::MatchAborted& x) {
            o << "MatchAborted{match=" << x.match_id << " reason="
              << (x.reason == ev::AbortReason::kReset ? "reset" : "reserve_failed")
              << " release=[";
            for (auto r : x.release_reserve_ids) o << " " << r;
            o << " ]}";
          },
          [&](const ev::TradeExecuted& x) {
            o << "TradeExecuted{trade=" << x.trade_id << " match=" << x.match_id
              << " price=" << x.price << " amount=" << x.amount << " legs=[";
            for (const auto& l : x.legs) {
              o << " #" << l.order_id << " " << S(l.side) << " u" << l.user_id << " "
                << l.amount << " r" << l.reserve_id << ";";
            }
            o << " ]}";
          },
          [&](const ev::TradeSettled& x) { o << "TradeSettled{trade=" << x.trade_id << "}"; },
          [&](const ev::ExchangeReset&) { o << "ExchangeReset{}"; },
          [&](const ev::CommandRejected& x) {
            o << "CommandRejected{" << Quote(x.reason) << "}";
          },
      },
      e.body);
  return o.str();
}

std::string Describe(const std::vector<ev::Event>& events) {
  if (events.empty()) return "    (no events)\n";
  std::string s;
  for (const auto& e : events) s += "    " + Describe(e) + "\n";
  return s;
}

std::string ToCpp(const ev::Command& cmd) {
  std::ostringstream o;
  o << "Cmd(" << cmd.offset << ", " << cmd.time << ", ";
  std::visit(
      Overloaded{
          [&](const ev::UserImported& c) {
            o << "ev::UserImported{" << c.user_id << ", " << Quote(c.bank_id) << ", "
              << Quote(c.name) << ", " << Quote(c.password_hash) << ", " << c.created_at << "}";
          },
          [&](const ev::TradeImported& c) {
            o << "ev::TradeImported{" << c.trade_id << ", " << c.amount << ", " << c.price << ", "
              << c.created_at << "}";
          },
          [&](const ev::OrderImported& c) {
            o << "ev::OrderImported{" << c.order_id << ", " << CppSide(c.side) << ", "
              << c.user_id << ", " << c.amount << ", " << c.price << ", " << c.created_at << ", "
              << CppOpt(c.closed_at) << ", " << CppOpt(c.trade_id) << "}";
          },
          [&](const ev::GenesisSealed&) { o << "ev::GenesisSealed{}"; },
          [&](const ev::SignupRequested& c) {
            o << "ev::SignupRequested{" << Quote(c.name) << ", " << Quote(c.bank_id) << ", "
              << Quote(c.password_hash) << "}";
          },
          [&](const ev::SigninRecorded& c) {
            o << "ev::SigninRecorded{" << Quote(c.bank_id) << ", "
              << (c.password_ok ? "true" : "false") << "}";
          },
          [&](const ev::OrderPlaced& c) {
            o << "ev::OrderPlaced{" << c.user_id << ", " << CppSide(c.side) << ", " << c.amount
              << ", " << c.price << "}";
          },
          [&](const ev::BuyCreditRefused& c) {
            o << "ev::BuyCreditRefused{" << c.user_id << ", " << c.amount << ", " << c.price
              << ", " << Quote(c.error) << "}";
          },
          [&](const ev::CancelRequested& c) {
            o << "ev::CancelRequested{" << c.user_id << ", " << c.order_id << "}";
          },
          [&](const ev::ReservationsReported& c) {
            o << "ev::ReservationsReported{" << c.match_id << ", {";
            for (std::size_t i = 0; i < c.results.size(); ++i) {
              const auto& r = c.results[i];
              o << (i ? ", " : "") << "{" << r.order_id << ", " << CppOpt(r.reserve_id) << ", "
                << Quote(r.error) << "}";
            }
            o << "}}";
          },
          [&](const ev::CommitsReported& c) {
            o << "ev::CommitsReported{{";
            for (std::size_t i = 0; i < c.trade_ids.size(); ++i) {
              o << (i ? ", " : "") << c.trade_ids[i];
            }
            o << "}}";
          },
          [&](const ev::ResetRequested&) { o << "ev::ResetRequested{}"; },
          [&](const ev::MalformedCommand& c) {
            o << "ev::MalformedCommand{" << Quote(c.error) << "}";
          },
      },
      cmd.body);
  o << ")";
  return o.str();
}

std::vector<ev::Event> NormalizeForComparison(std::vector<ev::Event> events) {
  for (auto& e : events) {
    if (auto* r = std::get_if<ev::CommandRejected>(&e.body)) r->reason.clear();
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// StreamGenerator

StreamGenerator::StreamGenerator(std::uint64_t seed, int body_commands)
    : rng_(seed), remaining_(body_commands) {
  deep_book_ = Chance(0.5);
  GenerateGenesis();
}

bool StreamGenerator::Chance(double p) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
}

std::int64_t StreamGenerator::Uniform(std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
}

ev::Command StreamGenerator::Make(ev::CommandBody body) {
  ev::Command c;
  c.offset = offset_++;
  // Time advances by small steps, sometimes by minutes (sign-in cool-down is 10 minutes).
  if (Chance(0.08)) {
    time_ += Uniform(60, 15 * 60) * 1'000'000;
  } else {
    time_ += Uniform(0, 3'000'000);
  }
  c.time = time_;
  c.body = std::move(body);
  return c;
}

void StreamGenerator::GenerateGenesis() {
  if (Chance(0.25)) return;  // no genesis at all: the first command completes it implicitly
  std::vector<ev::CommandBody> g;
  // Users: ids with gaps, occasionally a duplicate id or bank_id (rejected).
  std::vector<ev::Id> users;
  ev::Id uid = Uniform(1, 4);
  int nusers = static_cast<int>(Uniform(0, 4));
  for (int i = 0; i < nusers; ++i) {
    std::string bank = "bank-" + std::to_string(uid);
    g.push_back(ev::UserImported{uid, bank, "user" + std::to_string(uid), "$2a$04$hash", 1000});
    users.push_back(uid);
    if (Chance(0.04)) g.push_back(ev::UserImported{Uniform(-1, 0), "bank-neg", "neg", "h", 1});
    if (Chance(0.1)) {  // duplicate id or duplicate bank_id
      if (Chance(0.5)) {
        g.push_back(ev::UserImported{uid, "bank-dup" + std::to_string(uid), "dup", "h", 1000});
      } else {
        g.push_back(ev::UserImported{uid + 100, bank, "dup", "h", 1000});
      }
    }
    uid += Uniform(1, 3);
  }
  // Trades.
  std::vector<ev::Id> trades;
  ev::Id tid = Uniform(1, 5);
  int ntrades = static_cast<int>(Uniform(0, 3));
  for (int i = 0; i < ntrades; ++i) {
    g.push_back(ev::TradeImported{tid, Uniform(1, 10), Uniform(95, 105), 2000});
    trades.push_back(tid);
    if (Chance(0.05)) g.push_back(ev::TradeImported{tid, 1, 100, 2000});         // duplicate
    if (Chance(0.05)) g.push_back(ev::TradeImported{tid + 50, 0, 100, 2000});    // bad amount
    if (Chance(0.03)) g.push_back(ev::TradeImported{tid + 60, 1, -5, 2000});     // bad price
    if (Chance(0.03)) g.push_back(ev::TradeImported{0, 1, 100, 2000});           // bad id
    tid += Uniform(1, 3);
  }
  // Orders: closed traded, cancelled, open (possibly crossing), and some invalid rows.
  ev::Id oid = Uniform(1, 6);
  int norders = users.empty() ? 0 : static_cast<int>(Uniform(0, 8));
  for (int i = 0; i < norders; ++i) {
    ev::OrderImported o;
    o.order_id = oid;
    o.side = Chance(0.5) ? ev::Side::kBuy : ev::Side::kSell;
    o.user_id = users[Uniform(0, users.size() - 1)];
    o.amount = Uniform(1, 10);
    o.price = Uniform(95, 105);
    o.created_at = 3000 + i;
    double kind = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (kind < 0.2 && !trades.empty()) {
      o.closed_at = 4000;
      o.trade_id = trades[Uniform(0, trades.size() - 1)];
    } else if (kind < 0.3) {
      o.closed_at = 4000;
    }
    g.push_back(o);
    if (Chance(0.08)) {  // an invalid row
      ev::OrderImported bad = o;
      bad.order_id = oid + 200;
      switch (Uniform(0, 6)) {
        case 6: bad.order_id = 0; break;
        case 0: bad.order_id = oid; break;                   // duplicate id
        case 1: bad.user_id = 999; break;                    // unknown user
        case 2: bad.closed_at = 5; bad.trade_id = 777; break;  // unknown trade
        case 3: bad.closed_at.reset(); bad.trade_id = trades.empty() ? 1 : trades[0]; break;
        case 4: bad.amount = 0; break;
        default: bad.price = ev::kMaxPrice + 1; break;
      }
      g.push_back(bad);
    }
    oid += Uniform(1, 2);
  }
  if (Chance(0.7)) g.push_back(ev::GenesisSealed{});
  for (auto& b : g) genesis_.push_back(Make(std::move(b)));
}

std::optional<ev::Command> StreamGenerator::Next() {
  if (genesis_pos_ < genesis_.size()) return genesis_[genesis_pos_++];
  if (remaining_ <= 0) return std::nullopt;
  --remaining_;
  return Make(RandomBody());
}

void StreamGenerator::Observe(const std::vector<ev::Event>& events) {
  for (const auto& e : events) {
    std::visit(
        Overloaded{
            [&](const ev::GenesisUser& x) {
              users_.push_back(x.user_id);
              bank_ids_.push_back(x.bank_id);
            },
            [&](const ev::UserRegistered& x) {
              users_.push_back(x.user_id);
              bank_ids_.push_back(x.bank_id);
            },
            [&](const ev::GenesisOrder& x) { order_owner_[x.order_id] = x.user_id; },
            [&](const ev::OrderAccepted& x) { order_owner_[x.order_id] = x.user_id; },
            [&](const ev::MatchProposed& x) {
              pending_[x.match_id] = x;
              max_match_ = std::max(max_match_, x.match_id);
            },
            [&](const ev::TradeExecuted& x) {
              pending_.erase(x.match_id);
              finished_matches_.push_back(x.match_id);
              trades_.push_back(x.trade_id);
            },
            [&](const ev::MatchAborted& x) {
              pending_.erase(x.match_id);
              finished_matches_.push_back(x.match_id);
            },
            [&](const ev::GenesisCompleted&) {
              genesis_users_ = users_;
              genesis_bank_ids_ = bank_ids_;
              genesis_orders_ = order_owner_;
            },
            [&](const ev::ExchangeReset&) {
              // Users and orders created since the genesis are gone; keep a few as stale ids.
              for (auto u : users_) stale_users_.push_back(u);
              for (const auto& [id, owner] : order_owner_) stale_orders_[id] = owner;
              users_ = genesis_users_;
              bank_ids_ = genesis_bank_ids_;
              order_owner_ = genesis_orders_;
            },
            [&](const auto&) {},
        },
        e.body);
  }
}

std::string StreamGenerator::RandomBankId() {
  if (!bank_ids_.empty() && Chance(0.7)) return bank_ids_[Uniform(0, bank_ids_.size() - 1)];
  return "bank-x" + std::to_string(Uniform(1, 4));  // unknown, or a later signup's
}

ev::Id StreamGenerator::RandomUser() {
  if (!stale_users_.empty() && Chance(0.02)) {
    return stale_users_[Uniform(0, stale_users_.size() - 1)];  // maybe gone since a reset
  }
  if (users_.empty() || Chance(0.02)) return Uniform(1, 30);  // maybe unknown
  return users_[Uniform(0, users_.size() - 1)];
}

ev::CommandBody StreamGenerator::RandomBody() {
  if (users_.size() < 2 && Chance(0.5)) return RandomSignup();
  int r = static_cast<int>(Uniform(0, 999));
  if (r < 400) return RandomOrder();
  if (r < 580) return RandomReservations();
  if (r < 700) return RandomCancel();
  if (r < 770) return RandomCommits();
  if (r < 820) return RandomSignup();
  if (r < 940) return RandomSignin();
  if (r < 955) {
    return ev::BuyCreditRefused{RandomUser(), Uniform(1, 10), Uniform(95, 105),
                                "credit is insufficient"};
  }
  if (r < 962) return ev::ResetRequested{};
  if (r < 980) return ev::GenesisSealed{};
  return RandomImport();
}

ev::CommandBody StreamGenerator::RandomOrder() {
  ev::OrderPlaced o;
  o.user_id = RandomUser();
  o.side = Chance(0.5) ? ev::Side::kBuy : ev::Side::kSell;
  o.amount = Uniform(1, 10);
  if (deep_book_) {
    // Buys mostly below sells: the book grows deep and only its edges cross, so walks pass
    // over orders and multi-leg fills appear.
    o.price = o.side == ev::Side::kBuy ? Uniform(90, 101) : Uniform(99, 110);
  } else {
    o.price = Uniform(95, 105);
  }
  if (Chance(0.02)) o.amount = Chance(0.5) ? 0 : ev::kMaxAmount + 1;
  if (Chance(0.02)) o.price = Chance(0.5) ? 0 : ev::kMaxPrice + 1;
  if (Chance(0.01)) o.price = ev::kMaxPrice;
  if (Chance(0.005)) o.amount = ev::kMaxAmount;
  if (Chance(0.005)) o.amount = -o.amount;
  return o;
}

ev::CommandBody StreamGenerator::RandomCancel() {
  ev::CancelRequested c;
  // Prefer locked orders (deferred cancels), then any known order.
  if (!pending_.empty() && Chance(0.4)) {
    auto it = pending_.begin();
    std::advance(it, Uniform(0, pending_.size() - 1));
    const auto& leg = it->second.legs[Uniform(0, it->second.legs.size() - 1)];
    c.order_id = leg.order_id;
    c.user_id = Chance(0.9) ? leg.user_id : RandomUser();
    return c;
  }
  if (!stale_orders_.empty() && Chance(0.05)) {  // an order from before a reset
    auto it = stale_orders_.begin();
    std::advance(it, Uniform(0, stale_orders_.size() - 1));
    c.order_id = it->first;
    c.user_id = it->second;
    return c;
  }
  if (!order_owner_.empty() && Chance(0.9)) {
    auto it = order_owner_.begin();
    std::advance(it, Uniform(0, order_owner_.size() - 1));
    c.order_id = it->first;
    c.user_id = Chance(0.8) ? it->second : RandomUser();
    return c;
  }
  c.order_id = Uniform(-1, 60);
  c.user_id = RandomUser();
  return c;
}

ev::CommandBody StreamGenerator::RandomReservations() {
  ev::ReservationsReported r;
  if (pending_.empty() || Chance(0.06)) {
    // Duplicate report of a finished match, or an unknown match id.
    if (!finished_matches_.empty() && Chance(0.6)) {
      r.match_id = finished_matches_[Uniform(0, finished_matches_.size() - 1)];
    } else {
      r.match_id = max_match_ + Uniform(1, 3);
    }
    r.results.push_back(ev::Reservation{Uniform(1, 20), next_reserve_id_++, ""});
    return r;
  }
  auto it = pending_.begin();
  if (Chance(0.3)) std::advance(it, Uniform(0, pending_.size() - 1));
  const ev::MatchProposed& m = it->second;
  r.match_id = m.match_id;
  bool all_ok = Chance(0.6);
  for (const auto& leg : m.legs) {
    if (all_ok || Chance(0.6)) {
      r.results.push_back(ev::Reservation{leg.order_id, next_reserve_id_++, ""});
    } else {
      r.results.push_back(ev::Reservation{leg.order_id, std::nullopt, "credit is insufficient"});
    }
  }
  if (Chance(0.05)) r.results.front().error = "odd";  // reserve_id decides, not the error
  if (Chance(0.3)) std::shuffle(r.results.begin(), r.results.end(), rng_);
  if (Chance(0.04)) {  // malformed: a leg missing, named twice, or a stranger
    switch (Uniform(0, 3)) {
      case 0: r.results.pop_back(); break;
      case 1: r.results.push_back(r.results.front()); break;
      case 2: r.results.back() = r.results.front(); break;  // right size, one leg twice
      default: r.results.back().order_id += 1000; break;
    }
  }
  return r;
}

ev::CommandBody StreamGenerator::RandomCommits() {
  ev::CommitsReported c;
  int n = static_cast<int>(Uniform(1, 3));
  for (int i = 0; i < n; ++i) {
    if (!trades_.empty() && Chance(0.85)) {
      c.trade_ids.push_back(trades_[Uniform(0, trades_.size() - 1)]);
    } else {
      c.trade_ids.push_back(Uniform(1, 40));  // unknown, genesis, or not yet executed
    }
  }
  return c;
}

ev::CommandBody StreamGenerator::RandomSignup() {
  ev::SignupRequested s;
  s.name = "n" + std::to_string(Uniform(1, 9));
  s.bank_id = Chance(0.25) ? RandomBankId() : "bank-s" + std::to_string(Uniform(1, 12));
  s.password_hash = "$2a$04$h";
  if (Chance(0.03)) {
    switch (Uniform(0, 2)) {
      case 0: s.name.clear(); break;
      case 1: s.bank_id.clear(); break;
      default: s.password_hash.clear(); break;
    }
  }
  return s;
}

ev::CommandBody StreamGenerator::RandomSignin() {
  // A small pool so that five consecutive failures actually happen.
  ev::SigninRecorded s;
  if (Chance(0.7)) {
    s.bank_id = bank_ids_.empty() ? "bank-x1" : bank_ids_.front();
  } else {
    s.bank_id = RandomBankId();
  }
  s.password_ok = Chance(0.25);
  return s;
}

ev::CommandBody StreamGenerator::RandomImport() {
  switch (Uniform(0, 2)) {
    case 0: return ev::UserImported{Uniform(50, 60), "bank-late", "late", "h", 1};
    case 1: return ev::TradeImported{Uniform(50, 60), 1, 100, 1};
    default: {
      ev::OrderImported o;
      o.order_id = Uniform(50, 60);
      o.user_id = users_.empty() ? 1 : users_.front();
      o.amount = 1;
      o.price = 100;
      return o;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// InvariantChecker

std::string InvariantChecker::Check(const ev::Command& cmd, const std::vector<ev::Event>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    const ev::Event& e = events[i];
    if (e.seq.cause != cmd.offset || e.seq.index != i || e.time != cmd.time) {
      return "event " + std::to_string(i) + " is not tagged Sequence{" +
             std::to_string(cmd.offset) + "," + std::to_string(i) + "} time " +
             std::to_string(cmd.time) + ": " + Describe(e);
    }
    std::string err = CheckOne(e);
    if (!err.empty()) return err + " in " + Describe(e);
  }
  return "";
}

std::string InvariantChecker::CheckOne(const ev::Event& e) {
  if (const auto* x = std::get_if<ev::GenesisOrder>(&e.body)) {
    OrderInfo o{x->side, x->user_id, x->amount, x->price, x->trade_id.has_value(),
                x->closed_at.has_value() && !x->trade_id.has_value(), 0};
    orders_[x->order_id] = o;
  } else if (std::get_if<ev::GenesisCompleted>(&e.body)) {
    genesis_orders_ = orders_;
  } else if (const auto* x = std::get_if<ev::OrderAccepted>(&e.body)) {
    if (orders_.count(x->order_id)) return "order id reused";
    orders_[x->order_id] = OrderInfo{x->side, x->user_id, x->amount, x->price, false, false, 0};
  } else if (const auto* x = std::get_if<ev::MatchProposed>(&e.body)) {
    if (pending_.count(x->match_id) || finished_matches_.count(x->match_id)) {
      return "match id reused";
    }
    if (x->legs.size() < 2) return "a match needs at least two legs";
    std::int64_t buy_sum = 0, sell_sum = 0, highest_sell = 0, lowest_buy = ev::kMaxPrice + 1;
    int buys = 0, sells = 0;
    std::set<ev::Id> seen;
    for (const auto& leg : x->legs) {
      auto it = orders_.find(leg.order_id);
      if (it == orders_.end()) return "leg names an unknown order";
      const OrderInfo& o = it->second;
      if (!seen.insert(leg.order_id).second) return "order appears twice in one match";
      if (o.traded) return "order already traded is proposed again";
      if (o.cancelled) return "cancelled order is proposed";
      if (o.locked_in) return "order already locked is proposed again";
      if (leg.amount != o.amount) return "partial fill: leg amount differs from the order's";
      if (leg.price != o.price || leg.side != o.side || leg.user_id != o.user_id) {
        return "leg does not describe its order";
      }
      if (leg.side == ev::Side::kBuy) {
        buy_sum += leg.amount;
        ++buys;
        lowest_buy = std::min(lowest_buy, leg.price);
      } else {
        sell_sum += leg.amount;
        ++sells;
        highest_sell = std::max(highest_sell, leg.price);
      }
    }
    if (buy_sum != sell_sum || buy_sum != x->amount) return "sides do not add up to the amount";
    if (buys != 1 && sells != 1) return "neither side has a single order";
    if (x->amount != x->legs.front().amount) return "amount is not the first leg's amount";
    bool first_alone = x->legs.front().side == ev::Side::kBuy ? buys == 1 : sells == 1;
    if (!first_alone) return "first leg is not alone on its side";
    if (x->price < highest_sell || x->price > lowest_buy) return "price outside a leg's limit";
    for (const auto& leg : x->legs) orders_[leg.order_id].locked_in = x->match_id;
    pending_[x->match_id] = *x;
  } else if (const auto* x = std::get_if<ev::TradeExecuted>(&e.body)) {
    auto it = pending_.find(x->match_id);
    if (it == pending_.end()) return "trade of a match that is not pending";
    const ev::MatchProposed& m = it->second;
    if (!trade_ids_.insert(x->trade_id).second) return "trade id reused";
    if (x->price != m.price || x->amount != m.amount || x->legs.size() != m.legs.size()) {
      return "trade differs from its proposal";
    }
    std::set<std::int64_t> reserve_ids;
    for (std::size_t i = 0; i < x->legs.size(); ++i) {
      const auto& l = x->legs[i];
      const auto& p = m.legs[i];
      if (l.order_id != p.order_id || l.user_id != p.user_id || l.side != p.side ||
          l.amount != p.amount) {
        return "trade leg differs from its proposal";
      }
      if (!reserve_ids.insert(l.reserve_id).second) return "reserve id used twice";
      OrderInfo& o = orders_[l.order_id];
      if (o.traded) return "order traded twice";
      if (o.cancelled) return "cancelled order traded";
      o.traded = true;
      o.locked_in = 0;
    }
    pending_.erase(it);
    finished_matches_.insert(x->match_id);
  } else if (const auto* x = std::get_if<ev::MatchAborted>(&e.body)) {
    auto it = pending_.find(x->match_id);
    if (it == pending_.end()) return "abort of a match that is not pending";
    for (const auto& leg : it->second.legs) orders_[leg.order_id].locked_in = 0;
    pending_.erase(it);
    finished_matches_.insert(x->match_id);
  } else if (const auto* x = std::get_if<ev::OrderCancelled>(&e.body)) {
    auto it = orders_.find(x->order_id);
    if (it == orders_.end()) return "cancel of an unknown order";
    OrderInfo& o = it->second;
    if (o.traded) return "traded order cancelled";
    if (o.cancelled) return "order cancelled twice";
    if (x->reason == ev::CancelReason::kCanceled && o.locked_in) {
      return "locked order cancelled by its owner";
    }
    o.cancelled = true;
  } else if (const auto* x = std::get_if<ev::CommandRejected>(&e.body)) {
    if (x->reason.empty()) return "CommandRejected without a reason";
  } else if (std::get_if<ev::ExchangeReset>(&e.body)) {
    if (!pending_.empty()) return "reset left a match pending";
    orders_ = genesis_orders_;
  }
  return "";
}

}  // namespace isucoin::testing
