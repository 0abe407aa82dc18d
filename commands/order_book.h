// OrderBook: the open (matchable) orders of both sides, as price levels with FIFO queues, and
// the two searches the sweep needs (MATCHING.md): the crossing candidates in priority order and
// the walk of one candidate over the other side.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "commands/order.h"

namespace isucoin::commands {

class OrderBook {
 public:
  // Inserts an open order at its priority (price, then id). Orders normally arrive with the
  // highest id yet and go to the tail; orders returning from an aborted match find their place.
  void Insert(Order* order);
  void Remove(Order* order);

  std::optional<std::int64_t> BestBid() const;
  std::optional<std::int64_t> BestAsk() const;
  std::size_t size() const { return size_; }
  // Open orders that cross the best opposite price but cannot trade under all-or-nothing
  // (after a sweep). Every sweep looks at these, so the figure bounds its cost.
  std::size_t CrossingCount() const;

  // Finds the first candidate (MATCHING.md "The sweep", step 2) whose walk succeeds.
  // On success returns true with `legs` = [candidate, fills in walk order].
  //
  // Only candidates whose walk may have changed since the last time no candidate succeeded
  // are walked (the others are known to fail), so a command that touches nothing near the
  // crossing region costs O(1) however many stuck orders cross. A walk depends only on the
  // order itself and on the acceptable orders of the other side, so:
  //   - inserting or removing a sell at p dirties the buys priced >= p, and a buy at q the
  //     sells priced <= q: each side's dirty set is a top-of-book prefix, kept as a threshold;
  //   - an inserted order dirties itself, folded into its side's threshold when it crosses.
  // Because both dirty sets are prefixes, a dirty order's rank is its position in the
  // cursor, and visiting dirty candidates pair by pair keeps MATCHING.md's order exactly.
  bool FindMatch(std::vector<Order*>& legs);

 private:
  // Levels keyed so that the best price of either side is begin(): a sell's key is its price,
  // a buy's key is minus its price.
  struct Level {
    Order* head = nullptr;
    Order* tail = nullptr;
    // A lower bound of the smallest amount in the level: a walk whose remaining amount is
    // below it skips the level without touching its orders. Exact after a full scan.
    std::int64_t min_amount_bound = 0;
  };
  using Levels = std::map<std::int64_t, Level>;
  class Cursor;

  static std::int64_t KeyOf(Side side, std::int64_t price) {
    return side == Side::kSell ? price : -price;
  }
  Levels& SideOf(Side side) { return side == Side::kBuy ? buys_ : sells_; }

  // Appends to `legs` the walk of `taker` over the other side; true when it fills exactly.
  bool Walk(Order* taker, std::vector<Order*>& legs);

  void MarkClean() {
    dirty_buys_from_ = std::numeric_limits<std::int64_t>::max();
    dirty_sells_up_to_ = std::numeric_limits<std::int64_t>::min();
  }

  Levels buys_;
  Levels sells_;
  std::size_t size_ = 0;
  // Buys priced >= dirty_buys_from_ and sells priced <= dirty_sells_up_to_ must be walked.
  std::int64_t dirty_buys_from_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t dirty_sells_up_to_ = std::numeric_limits<std::int64_t>::min();
  // Orders inserted since the last FindMatch: (side, price).
  std::vector<std::pair<Side, std::int64_t>> inserted_;
};

}  // namespace isucoin::commands
