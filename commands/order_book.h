// OrderBook: the open (matchable) orders of both sides, as price levels with FIFO queues, and
// the two searches the sweep needs (MATCHING.md): the crossing candidates in priority order and
// the walk of one candidate over the other side.
#pragma once

#include <cstdint>
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

  // Finds the first candidate (MATCHING.md "The sweep", step 2) whose walk succeeds.
  // On success returns true with `legs` = [candidate, fills in walk order].
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

  Levels buys_;
  Levels sells_;
  std::size_t size_ = 0;
};

}  // namespace isucoin::commands
