#include "tools/historygen/historygen.h"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "events/codec.h"

namespace isucoin::tools {

using namespace isucoin::events;

struct HistoryGenerator::State {
  HistoryOptions options;
  std::mt19937_64 rng;
  commands::Exchange shadow;
  Micros time;
  std::uint64_t offset = 0;
  bool setup_done = false;
  std::unordered_map<Id, Id> owner;  // open order -> user
  std::vector<Id> open;
  std::deque<MatchProposed> pending;
  std::vector<Id> executed;
  std::int64_t reserve_id = 0;
  std::vector<std::string> batch;
  std::vector<Event> out;

  explicit State(HistoryOptions o) : options(o), rng(o.seed), time(o.start_time) {}

  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  }
  Id User() { return Uniform(1, options.users); }

  void Emit(CommandBody body) {
    Command cmd{offset++, time += options.step, std::move(body)};
    out.clear();
    shadow.apply(cmd, out);
    for (const Event& e : out) Observe(e);
    batch.push_back(EncodeCommand(cmd));
  }

  void Observe(const Event& e) {
    if (auto* a = std::get_if<OrderAccepted>(&e.body)) {
      owner[a->order_id] = a->user_id;
      open.push_back(a->order_id);
    } else if (auto* c = std::get_if<OrderCancelled>(&e.body)) {
      owner.erase(c->order_id);
    } else if (auto* m = std::get_if<MatchProposed>(&e.body)) {
      for (const auto& leg : m->legs) owner.erase(leg.order_id);
      pending.push_back(*m);
    } else if (auto* t = std::get_if<TradeExecuted>(&e.body)) {
      executed.push_back(t->trade_id);
    }
  }

  void Passive() {
    bool buy = Uniform(0, 1) == 0;
    std::int64_t bid = shadow.best_bid().value_or(9999);
    std::int64_t ask = shadow.best_ask().value_or(10001);
    std::int64_t price = buy ? std::min(ask - 1, bid - Uniform(0, 50)) : std::max(bid + 1, ask + Uniform(0, 50));
    Emit(OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 10), std::max<std::int64_t>(price, 1)});
  }
  void Aggressive() {
    bool buy = Uniform(0, 1) == 0;
    auto price = buy ? shadow.best_ask() : shadow.best_bid();
    if (!price) return Passive();
    Emit(OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 3), *price});
  }
  bool CancelOne() {
    while (!open.empty()) {
      std::size_t i = static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(open.size()) - 1));
      Id order = open[i];
      open[i] = open.back();
      open.pop_back();
      auto it = owner.find(order);
      if (it == owner.end()) continue;
      Emit(CancelRequested{it->second, order});
      return true;
    }
    return false;
  }
  bool ReportOne() {
    if (pending.empty()) return false;
    MatchProposed m = std::move(pending.front());
    pending.pop_front();
    ReservationsReported report{m.match_id, {}};
    bool fail_one = Uniform(0, 99) < 5;
    for (std::size_t i = 0; i < m.legs.size(); ++i) {
      if (fail_one && i + 1 == m.legs.size()) {
        report.results.push_back({m.legs[i].order_id, std::nullopt, "credit is insufficient"});
      } else {
        report.results.push_back({m.legs[i].order_id, ++reserve_id, ""});
      }
    }
    Emit(std::move(report));
    return true;
  }
  bool CommitAll() {
    if (executed.empty()) return false;
    Emit(CommitsReported{std::move(executed)});
    executed.clear();
    return true;
  }
  void Mix() {
    int dice = static_cast<int>(Uniform(0, 99));
    if (dice < 40) Passive();
    else if (dice < 65) { if (!CancelOne()) Passive(); }
    else if (dice < 80) Aggressive();
    else if (dice < 95) { if (!ReportOne()) Passive(); }
    else if (!CommitAll()) Passive();
  }
};

HistoryGenerator::HistoryGenerator(Log& commands, Log& events, HistoryOptions options)
    : commands_(commands), events_(events),
      matcher_(std::make_unique<commands::Matcher>(commands, events)),
      state_(std::make_unique<State>(options)) {
  state_->offset = commands.End();
}

HistoryGenerator::~HistoryGenerator() = default;

Status HistoryGenerator::Flush() {
  State& s = *state_;
  if (s.batch.empty()) return Status::Ok();
  auto appended = commands_.Append(s.batch);
  if (!appended.ok()) return appended.status();
  s.batch.clear();
  for (;;) {
    auto n = matcher_->Step(4096);
    if (!n.ok()) return n.status();
    if (n.value() == 0) return Status::Ok();
  }
}

Status HistoryGenerator::Generate(std::uint64_t min_events, bool settle_all) {
  State& s = *state_;
  if (s.offset != 0 && !s.setup_done) {
    return Status::Invalid("history generator: the commands log must start empty");
  }
  if (!s.setup_done) {
    if (Status st = matcher_->Recover(); !st.ok()) return st;
    for (int u = 1; u <= s.options.users; ++u) {
      s.Emit(SignupRequested{"user" + std::to_string(u), "bank-" + std::to_string(u), "$2b$10$hash"});
      if (s.batch.size() >= s.options.batch) if (Status st = Flush(); !st.ok()) return st;
    }
    for (int i = 0; i < s.options.resting_orders; ++i) {
      bool buy = i % 2 == 0;
      std::int64_t price = buy ? s.Uniform(9000, 9999) : s.Uniform(10001, 11000);
      s.Emit(OrderPlaced{s.User(), buy ? Side::kBuy : Side::kSell, s.Uniform(1, 10), price});
      if (s.batch.size() >= s.options.batch) if (Status st = Flush(); !st.ok()) return st;
    }
    s.setup_done = true;
  }
  while (events_.End() < min_events) {
    while (s.batch.size() < s.options.batch) s.Mix();
    if (Status st = Flush(); !st.ok()) return st;
  }
  if (settle_all) {
    while (!s.pending.empty()) s.ReportOne();
    s.CommitAll();
  }
  return Flush();
}

}  // namespace isucoin::tools
