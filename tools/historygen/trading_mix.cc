#include "tools/historygen/trading_mix.h"

#include <algorithm>
#include <string>

namespace isucoin::tools {

using namespace isucoin::events;

TradingMix::TradingMix(TradingMixOptions options)
    : options_(options), rng_(options.seed), offset_(options.first_offset),
      time_(options.start_time) {}

std::int64_t TradingMix::Uniform(std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
}

Id TradingMix::User() { return Uniform(1, options_.users); }

void TradingMix::Emit(std::vector<Command>& out, CommandBody body) {
  Command cmd{offset_++, time_ += options_.step, std::move(body)};
  scratch_.clear();
  shadow_.apply(cmd, scratch_);
  for (const Event& e : scratch_) Observe(e);
  out.push_back(std::move(cmd));
}

void TradingMix::Observe(const Event& e) {
  if (auto* a = std::get_if<OrderAccepted>(&e.body)) {
    owner_[a->order_id] = a->user_id;
    open_.push_back(a->order_id);
  } else if (auto* c = std::get_if<OrderCancelled>(&e.body)) {
    owner_.erase(c->order_id);
  } else if (auto* m = std::get_if<MatchProposed>(&e.body)) {
    // Locked orders leave the cancel pool; survivors of an abort are not put back (simpler).
    for (const auto& leg : m->legs) owner_.erase(leg.order_id);
    pending_.push_back(*m);
  } else if (auto* t = std::get_if<TradeExecuted>(&e.body)) {
    executed_.push_back(t->trade_id);
  }
}

void TradingMix::Setup(std::vector<Command>& out) {
  for (int u = 1; u <= options_.users; ++u) {
    Emit(out, SignupRequested{"user" + std::to_string(u), "bank-" + std::to_string(u),
                              "$2b$10$hash"});
  }
  for (int i = 0; i < options_.resting_orders; ++i) {
    const bool buy = i % 2 == 0;
    const std::int64_t price = buy ? Uniform(9000, 9999) : Uniform(10001, 11000);
    Emit(out, OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 10), price});
  }
}

void TradingMix::Step(std::vector<Command>& out) {
  const int dice = static_cast<int>(Uniform(0, 99));
  if (dice < 40) {
    Passive(out);
  } else if (dice < 65) {
    if (!CancelOne(out)) Passive(out);
  } else if (dice < 80) {
    Aggressive(out);
  } else if (dice < 95) {
    if (!ReportOne(out)) Passive(out);
  } else if (!CommitAll(out)) {
    Passive(out);
  }
}

void TradingMix::SettleAll(std::vector<Command>& out) {
  while (ReportOne(out)) {
  }
  CommitAll(out);
}

void TradingMix::Passive(std::vector<Command>& out) {
  const bool buy = Uniform(0, 1) == 0;
  const std::int64_t bid = shadow_.best_bid().value_or(9999);
  const std::int64_t ask = shadow_.best_ask().value_or(10001);
  const std::int64_t price = buy ? std::min(ask - 1, bid - Uniform(0, 50))
                                 : std::max(bid + 1, ask + Uniform(0, 50));
  Emit(out, OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 10),
                        std::max<std::int64_t>(price, 1)});
}

void TradingMix::Aggressive(std::vector<Command>& out) {
  const bool buy = Uniform(0, 1) == 0;
  auto price = buy ? shadow_.best_ask() : shadow_.best_bid();
  if (!price) return Passive(out);
  Emit(out, OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 3), *price});
}

bool TradingMix::CancelOne(std::vector<Command>& out) {
  while (!open_.empty()) {
    const auto i = static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(open_.size()) - 1));
    const Id order = open_[i];
    open_[i] = open_.back();
    open_.pop_back();
    auto it = owner_.find(order);
    if (it == owner_.end()) continue;  // traded or cancelled since
    Emit(out, CancelRequested{it->second, order});
    return true;
  }
  return false;
}

bool TradingMix::ReportOne(std::vector<Command>& out) {
  if (pending_.empty()) return false;
  MatchProposed m = std::move(pending_.front());
  pending_.pop_front();
  ReservationsReported report{m.match_id, {}};
  const bool fail_one = Uniform(0, 99) < 5;
  for (std::size_t i = 0; i < m.legs.size(); ++i) {
    if (fail_one && i + 1 == m.legs.size()) {
      report.results.push_back({m.legs[i].order_id, std::nullopt, "credit is insufficient"});
    } else {
      report.results.push_back({m.legs[i].order_id, ++reserve_id_, ""});
    }
  }
  Emit(out, std::move(report));
  return true;
}

bool TradingMix::CommitAll(std::vector<Command>& out) {
  if (executed_.empty()) return false;
  std::vector<Id> trades = std::move(executed_);
  executed_.clear();
  Emit(out, CommitsReported{std::move(trades)});
  return true;
}

}  // namespace isucoin::tools
