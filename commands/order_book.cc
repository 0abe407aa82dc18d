#include "commands/order_book.h"

#include <algorithm>

namespace isucoin::commands {

// Visits the orders of one side in priority order while their level key is <= `limit`.
class OrderBook::Cursor {
 public:
  Cursor(Levels& levels, std::int64_t limit)
      : level_(levels.begin()), end_(levels.end()), limit_(limit) {
    order_ = (level_ != end_ && level_->first <= limit_) ? level_->second.head : nullptr;
  }
  Order* get() const { return order_; }
  void Advance() {
    order_ = order_->next;
    if (order_ == nullptr && ++level_ != end_ && level_->first <= limit_) {
      order_ = level_->second.head;
    }
  }

 private:
  Levels::iterator level_;
  Levels::iterator end_;
  std::int64_t limit_;
  Order* order_;
};

void OrderBook::Insert(Order* order) {
  Level& level = SideOf(order->side)[KeyOf(order->side, order->price)];
  // Find the last order with a smaller id, searching from the tail: new orders stop at once.
  Order* before = level.tail;
  while (before != nullptr && before->id > order->id) before = before->prev;
  order->prev = before;
  order->next = before ? before->next : level.head;
  (order->next ? order->next->prev : level.tail) = order;
  (before ? before->next : level.head) = order;
  if (level.head == order && level.tail == order) {
    level.min_amount_bound = order->amount;
  } else {
    level.min_amount_bound = std::min(level.min_amount_bound, order->amount);
  }
  ++size_;
  inserted_.emplace_back(order->side, order->price);
  if (order->side == Side::kBuy) {
    dirty_sells_up_to_ = std::max(dirty_sells_up_to_, order->price);
  } else {
    dirty_buys_from_ = std::min(dirty_buys_from_, order->price);
  }
}

void OrderBook::Remove(Order* order) {
  Levels& levels = SideOf(order->side);
  auto it = levels.find(KeyOf(order->side, order->price));
  Level& level = it->second;
  (order->prev ? order->prev->next : level.head) = order->next;
  (order->next ? order->next->prev : level.tail) = order->prev;
  order->prev = order->next = nullptr;
  if (level.head == nullptr) levels.erase(it);
  --size_;
  if (order->side == Side::kBuy) {
    dirty_sells_up_to_ = std::max(dirty_sells_up_to_, order->price);
  } else {
    dirty_buys_from_ = std::min(dirty_buys_from_, order->price);
  }
}

std::optional<std::int64_t> OrderBook::BestBid() const {
  if (buys_.empty()) return std::nullopt;
  return -buys_.begin()->first;
}

std::optional<std::int64_t> OrderBook::BestAsk() const {
  if (sells_.empty()) return std::nullopt;
  return sells_.begin()->first;
}

std::size_t OrderBook::CrossingCount() const {
  auto bid = BestBid();
  auto ask = BestAsk();
  if (!bid || !ask || *bid < *ask) return 0;
  std::size_t n = 0;
  for (auto it = buys_.begin(); it != buys_.end() && it->first <= -*ask; ++it)
    for (const Order* o = it->second.head; o; o = o->next) ++n;
  for (auto it = sells_.begin(); it != sells_.end() && it->first <= *bid; ++it)
    for (const Order* o = it->second.head; o; o = o->next) ++n;
  return n;
}

bool OrderBook::Walk(Order* taker, std::vector<Order*>& legs) {
  legs.clear();
  legs.push_back(taker);
  Levels& other = taker->side == Side::kBuy ? sells_ : buys_;
  // A sell at key k is acceptable to a buy at price p when k <= p; a buy at key -q is
  // acceptable to a sell at price p when q >= p, i.e. -q <= -p.
  const std::int64_t limit = taker->side == Side::kBuy ? taker->price : -taker->price;
  std::int64_t rem = taker->amount;
  for (auto it = other.begin(); it != other.end() && it->first <= limit; ++it) {
    Level& level = it->second;
    if (level.min_amount_bound > rem) continue;
    std::int64_t smallest = level.head->amount;
    for (Order* o = level.head; o != nullptr; o = o->next) {
      smallest = std::min(smallest, o->amount);
      if (o->amount > rem) continue;  // passed over: does not fit what is left
      legs.push_back(o);
      rem -= o->amount;
      if (rem == 0) return true;
    }
    level.min_amount_bound = smallest;  // the whole level was scanned: the bound is exact
  }
  return false;
}

bool OrderBook::FindMatch(std::vector<Order*>& legs) {
  auto bid = BestBid();
  auto ask = BestAsk();
  if (!bid || !ask || *bid < *ask) {
    inserted_.clear();
    MarkClean();
    return false;
  }
  for (auto [side, price] : inserted_) {
    // A new order that does not cross now can only start to when the other side changes
    // near it, and that change dirties it anyway.
    if (side == Side::kBuy && price >= *ask) dirty_buys_from_ = std::min(dirty_buys_from_, price);
    if (side == Side::kSell && price <= *bid) dirty_sells_up_to_ = std::max(dirty_sells_up_to_, price);
  }
  inserted_.clear();
  // Only orders crossing the best opposite price can fill, and only dirty ones may have
  // changed: stop each side at the nearer of the two bounds.
  Cursor buys(buys_, -std::max(*ask, dirty_buys_from_));
  Cursor sells(sells_, std::min(*bid, dirty_sells_up_to_));
  while (buys.get() != nullptr || sells.get() != nullptr) {
    Order* first = buys.get();
    Order* second = sells.get();
    if (first == nullptr || (second != nullptr && second->amount > first->amount)) {
      std::swap(first, second);
    }
    if (buys.get() != nullptr) buys.Advance();
    if (sells.get() != nullptr) sells.Advance();
    if (Walk(first, legs)) return true;
    if (second != nullptr && Walk(second, legs)) return true;
  }
  legs.clear();
  MarkClean();
  return false;
}

}  // namespace isucoin::commands
