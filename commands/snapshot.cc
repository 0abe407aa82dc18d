// The matcher's state as canonical bytes: every collection written in id (or key) order, so
// equal states give equal bytes and equal StateHash()es. The book itself is not written: it is
// the open orders, rebuilt in priority order on restore.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "commands/exchange_state.h"

namespace isucoin::commands {

using nlohmann::json;

namespace {

constexpr int kSnapshotVersion = 1;

template <typename Map>
std::vector<typename Map::key_type> SortedKeys(const Map& map) {
  std::vector<typename Map::key_type> keys;
  keys.reserve(map.size());
  for (const auto& [key, _] : map) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

std::string ExchangeState::Snapshot() const {
  json users = json::array();
  for (Id id : SortedKeys(users_)) {
    const User& u = users_.at(id);
    users.push_back({u.id, u.bank_id, u.name, u.password_hash, u.created_at});
  }
  json orders = json::array();
  orders_.ForEachById([&](const Order& o) {
    orders.push_back({o.id, o.user_id, static_cast<int>(o.side), o.amount, o.price,
                      static_cast<int>(o.state), o.match_id, o.deferred_cancels});
  });
  json guards = json::array();
  for (const std::string& bank_id : SortedKeys(signin_guards_)) {
    const SigninGuard& g = signin_guards_.at(bank_id);
    guards.push_back({bank_id, g.consecutive_failures, g.blocked_until});
  }
  json matches = json::array();
  for (const auto& [id, m] : matches_) matches.push_back({m.id, m.price, m.amount, m.legs});

  json state = {
      {"version", kSnapshotVersion},
      {"genesis_complete", genesis_complete_},
      {"next", {next_.user, next_.order, next_.trade, next_.match}},
      {"users", std::move(users)},
      {"orders", std::move(orders)},
      {"signin_guards", std::move(guards)},
      {"genesis_trades", genesis_trades_},
      {"matches", std::move(matches)},
      {"unsettled_trades", unsettled_trades_},
      {"genesis", genesis_snapshot_},
  };
  return state.dump();
}

Result<std::unique_ptr<ExchangeState>> ExchangeState::Restore(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("snapshot: not a JSON object");
  auto state = std::make_unique<ExchangeState>();
  try {
    if (j.at("version").get<int>() != kSnapshotVersion)
      return Status::Invalid("snapshot: unsupported version");
    state->genesis_complete_ = j.at("genesis_complete").get<bool>();
    const json& next = j.at("next");
    state->next_ = IdCounters{next.at(0).get<Id>(), next.at(1).get<Id>(), next.at(2).get<Id>(),
                              next.at(3).get<Id>()};
    for (const json& u : j.at("users")) {
      User user{u.at(0).get<Id>(), u.at(1).get<std::string>(), u.at(2).get<std::string>(),
                u.at(3).get<std::string>(), u.at(4).get<Micros>()};
      state->user_by_bank_[user.bank_id] = user.id;
      state->users_[user.id] = std::move(user);
    }
    for (const json& o : j.at("orders")) {
      Order order{.id = o.at(0).get<Id>(),
                  .user_id = o.at(1).get<Id>(),
                  .side = static_cast<Side>(o.at(2).get<int>()),
                  .amount = o.at(3).get<std::int64_t>(),
                  .price = o.at(4).get<std::int64_t>(),
                  .state = static_cast<OrderState>(o.at(5).get<int>()),
                  .match_id = o.at(6).get<Id>(),
                  .deferred_cancels = o.at(7).get<std::vector<std::uint64_t>>()};
      state->AddOrder(order);
    }
    for (const json& g : j.at("signin_guards")) {
      state->signin_guards_[g.at(0).get<std::string>()] =
          SigninGuard{g.at(1).get<std::int64_t>(), g.at(2).get<Micros>()};
    }
    state->genesis_trades_ = j.at("genesis_trades").get<std::set<Id>>();
    for (const json& m : j.at("matches")) {
      PendingMatch match{m.at(0).get<Id>(), m.at(1).get<std::int64_t>(),
                         m.at(2).get<std::int64_t>(), m.at(3).get<std::vector<Id>>()};
      state->matches_.emplace(match.id, std::move(match));
    }
    state->unsettled_trades_ = j.at("unsettled_trades").get<std::set<Id>>();
    state->genesis_snapshot_ = j.at("genesis").get<std::string>();
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("snapshot: ") + e.what());
  }
  state->RebuildBook();
  return state;
}

void ExchangeState::RebuildBook() {
  // Inserting in id order puts every order at the tail of its level: priority by construction.
  orders_.ForEachById([&](Order& o) {
    if (o.state == OrderState::kOpen) book_.Insert(&o);
  });
}

}  // namespace isucoin::commands
