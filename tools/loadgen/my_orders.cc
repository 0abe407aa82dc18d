#include "tools/loadgen/my_orders.h"

#include <algorithm>

namespace isucoin::loadgen {

using nlohmann::json;

namespace {
void Add(Violations* out, std::string kind, std::string detail) {
  if (detail.size() > 600) detail = detail.substr(0, 600) + "…";
  out->push_back({std::move(kind), std::move(detail)});
}
}  // namespace

void MyOrders::Placed(std::int64_t id, const std::string& type, std::int64_t amount,
                      std::int64_t price, bool maybe_sent_twice) {
  std::lock_guard lock(mu_);
  if (maybe_sent_twice) possible_twins_.push_back({type, amount, price});
  Known& k = orders_[id];
  k.type = type;
  k.amount = amount;
  k.price = price;
  k.details_known = true;
}

void MyOrders::PlacementUnknown() {
  std::lock_guard lock(mu_);
  ++unknown_placements_;
}

void MyOrders::Cancelled(std::int64_t id) {
  std::lock_guard lock(mu_);
  orders_[id].state = State::kCancelled;
}

void MyOrders::CancelUnknown(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto it = orders_.find(id);
  if (it != orders_.end() && it->second.state == State::kOpen) it->second.state = State::kCancelUnknown;
}

void MyOrders::CancelRefused(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto it = orders_.find(id);
  if (it != orders_.end() && it->second.state == State::kOpen) it->second.state = State::kCancelRefused;
}

void MyOrders::ReportedByInfo(const json& traded_orders, std::int64_t answer_cursor,
                              Violations* out) {
  std::lock_guard lock(mu_);
  for (const auto& o : traded_orders) {
    if (!o.is_object() || !o.contains("id") || !o["id"].is_number_integer()) continue;
    const auto id = o["id"].get<std::int64_t>();
    reported_.insert(id);
    auto it = orders_.find(id);
    if (it != orders_.end() && it->second.state == State::kCancelled) {
      Add(out, "cancelled_order_traded", "cancel acknowledged, then /info reports " + o.dump());
    }
  }
  // A restarted server could in principle answer a lower cursor; the chain keeps the highest.
  reported_cursor_ = std::max(reported_cursor_, answer_cursor);
}

int MyOrders::CheckList(const json& orders, Violations* out) {
  std::lock_guard lock(mu_);
  if (!orders.is_array()) return 0;
  std::map<std::int64_t, const json*> listed;
  int traded = 0;
  for (const auto& o : orders) {
    if (!o.is_object() || !o.contains("id") || !o["id"].is_number_integer()) continue;
    const auto id = o["id"].get<std::int64_t>();
    if (!listed.emplace(id, &o).second) Add(out, "orders_duplicate_id", o.dump());
  }
  for (const auto& [id, op] : listed) {
    const json& o = *op;
    auto it = orders_.find(id);
    if (it == orders_.end()) {
      auto twin = std::find_if(possible_twins_.begin(), possible_twins_.end(), [&](const Content& c) {
        return o.value("type", "") == c.type && o.value("amount", std::int64_t{0}) == c.amount &&
               o.value("price", std::int64_t{0}) == c.price;
      });
      if (twin != possible_twins_.end()) {
        possible_twins_.erase(twin);  // the first copy of a POST libcurl sent again
      } else if (unknown_placements_ > 0) {
        --unknown_placements_;  // the order of a POST whose answer was lost: it did happen
      } else {
        Add(out, "orders_unknown_order", "listed but never placed by me: " + o.dump());
        continue;
      }
      it = orders_.emplace(id, Known{}).first;
    }
    Known& k = it->second;
    if (!k.details_known) {
      k.type = o.value("type", "");
      k.amount = o.value("amount", std::int64_t{0});
      k.price = o.value("price", std::int64_t{0});
      k.details_known = true;
    } else if (o.value("type", "") != k.type || o.value("amount", std::int64_t{0}) != k.amount ||
               o.value("price", std::int64_t{0}) != k.price) {
      Add(out, "order_changed",
          "placed " + k.type + " " + std::to_string(k.amount) + " @ " + std::to_string(k.price) +
              ", listed " + o.dump());
    }
    if (k.state == State::kCancelled) {
      Add(out, "cancelled_order_listed", "cancel acknowledged, still listed: " + o.dump());
    }
    if (o.contains("trade")) {
      ++traded;
      if (k.trade && *k.trade != o["trade"]) {
        Add(out, "trade_changed", "was " + k.trade->dump() + ", now " + o.dump());
      }
      k.trade = o["trade"];
      k.state = State::kTraded;
      const auto trade_id = o.value("trade_id", std::int64_t{0});
      if (trade_id <= reported_cursor_ && !reported_.contains(id)) {
        Add(out, "info_missed_traded_order",
            "trade " + std::to_string(trade_id) + " is below the /info cursor " +
                std::to_string(reported_cursor_) + " but was never in traded_orders: " + o.dump());
      }
    } else {
      if (k.trade) Add(out, "trade_vanished", "was traded " + k.trade->dump() + ", now " + o.dump());
      // A lost DELETE stays unresolved until a retried DELETE answers: right after a restart
      // the read model may not have applied it yet.
    }
  }
  for (auto& [id, k] : orders_) {
    if (listed.contains(id)) continue;
    switch (k.state) {
      case State::kOpen:
      case State::kCancelRefused:
        Add(out, "acknowledged_order_missing",
            "order " + std::to_string(id) + " (" + k.type + " " + std::to_string(k.amount) +
                " @ " + std::to_string(k.price) + ") is not in GET /orders");
        break;
      case State::kTraded:
        Add(out, "traded_order_missing", "order " + std::to_string(id) + " traded " + k.trade->dump());
        break;
      case State::kCancelUnknown:
        k.state = State::kCancelled;  // the lost DELETE did happen
        break;
      case State::kCancelled:
        break;
    }
  }
  return traded;
}

std::vector<std::int64_t> MyOrders::OpenIds() const {
  std::lock_guard lock(mu_);
  std::vector<std::int64_t> ids;
  for (const auto& [id, k] : orders_) {
    if (k.state == State::kOpen || k.state == State::kCancelUnknown) ids.push_back(id);
  }
  return ids;
}

std::size_t MyOrders::size() const {
  std::lock_guard lock(mu_);
  return orders_.size();
}

}  // namespace isucoin::loadgen
