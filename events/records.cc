#include "events/records.h"

namespace isucoin::events {

const char* SideName(Side side) { return side == Side::kBuy ? "buy" : "sell"; }

}  // namespace isucoin::events
