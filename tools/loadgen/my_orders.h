// What one user knows about its own orders, and the checks that need that history
// (SPEC.md "GET /orders" read-your-writes, "GET /info" traded_orders completeness):
//  - an order acknowledged with 200 shows in the very next GET /orders (and after any restart);
//  - a cancel acknowledged with 200 removes it from the very next GET /orders, for good;
//  - every order listed is one I placed: acknowledged, or from a POST whose answer was lost
//    (the server died mid-request — then it may or may not exist, and is adopted once seen);
//  - an order's type, amount and price never change; once traded, its trade never changes;
//  - every traded order with trade_id up to the latest /info cursor was reported by /info's
//    traded_orders (the cursor chain covers every trade id from 0 up, without gaps).
// Shared by the user's trading thread and its /info poller, hence the lock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tools/loadgen/spec_checks.h"

namespace isucoin::loadgen {

class MyOrders {
 public:
  // `maybe_sent_twice`: libcurl may have re-sent the POST (HttpResponse::maybe_sent_twice), so
  // one more order with exactly this content may exist: it is adopted if seen.
  void Placed(std::int64_t id, const std::string& type, std::int64_t amount, std::int64_t price,
              bool maybe_sent_twice = false);
  void PlacementUnknown();  // a POST /orders whose answer never came
  void Cancelled(std::int64_t id);
  void CancelUnknown(std::int64_t id);  // a DELETE whose answer never came
  void CancelRefused(std::int64_t id);  // 404: traded, or locked in a trade, meanwhile

  // An /info answer: its traded_orders and cursor extend the reported chain.
  void ReportedByInfo(const nlohmann::json& traded_orders, std::int64_t answer_cursor,
                      Violations* out);

  // A GET /orders answer (already shape-checked) against everything known; adopts orders of
  // lost placements and learns trades. Returns the number of traded orders in the list.
  int CheckList(const nlohmann::json& orders, Violations* out);

  // Orders believed open (candidates for a cancel).
  std::vector<std::int64_t> OpenIds() const;
  std::size_t size() const;

 private:
  enum class State { kOpen, kTraded, kCancelled, kCancelUnknown, kCancelRefused };
  struct Known {
    std::string type;
    std::int64_t amount = 0;
    std::int64_t price = 0;
    bool details_known = false;  // false for adopted orders until the first listing
    State state = State::kOpen;
    std::optional<nlohmann::json> trade;
  };

  mutable std::mutex mu_;
  std::map<std::int64_t, Known> orders_;
  int unknown_placements_ = 0;       // lost POSTs whose order has not been seen (yet)
  struct Content {
    std::string type;
    std::int64_t amount = 0, price = 0;
  };
  std::vector<Content> possible_twins_;  // content of POSTs that may have been sent twice
  std::set<std::int64_t> reported_;  // order ids /info reported as traded
  std::int64_t reported_cursor_ = 0; // the chain covers trade ids in (0, reported_cursor_]
};

}  // namespace isucoin::loadgen
