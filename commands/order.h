// Order: the matcher's record of one order, open, locked or closed.
#pragma once

#include <cstdint>
#include <vector>

#include "events/records.h"

namespace isucoin::commands {

using events::Id;
using events::Micros;
using events::Side;

enum class OrderState : std::uint8_t {
  kOpen,    // in the book, matchable
  kLocked,  // in a proposed match, waiting for the bank
  kClosed,  // traded or cancelled
};

// Field order matters: a walk reads `amount` and `next` of every order it passes, so they
// share the first cache line (the struct is cache-line aligned).
struct alignas(64) Order {
  Id id = 0;
  Id user_id = 0;
  Side side = Side::kBuy;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  // FIFO links inside the order's price level, while open (see OrderBook).
  Order* prev = nullptr;
  Order* next = nullptr;
  OrderState state = OrderState::kOpen;
  Id match_id = 0;                              // while locked
  std::vector<std::uint64_t> deferred_cancels;  // offsets of CancelRequested waiting on the match
};

}  // namespace isucoin::commands
