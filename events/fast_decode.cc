#include "events/fast_decode.h"

#include <cstring>
#include <limits>

#include "events/codec.h"

namespace isucoin::events {

using namespace isucoin::events;

namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), e_(s.data() + s.size()) {}
  bool ok() const { return ok_; }
  bool at_end() const { return p_ == e_; }

  bool Lit(std::string_view lit) {
    if (!ok_ || static_cast<std::size_t>(e_ - p_) < lit.size() ||
        std::memcmp(p_, lit.data(), lit.size()) != 0) {
      return ok_ = false;
    }
    p_ += lit.size();
    return true;
  }
  bool Peek(char c) const { return ok_ && p_ < e_ && *p_ == c; }

  // -?(0|[1-9][0-9]{0,17}): at most 18 digits, so it never overflows int64 (longer numbers
  // are legal JSON but rare enough to leave to the codec).
  std::int64_t Int() {
    if (!ok_) return 0;
    bool negative = false;
    if (p_ < e_ && *p_ == '-') {
      negative = true;
      ++p_;
    }
    const char* start = p_;
    std::int64_t v = 0;
    while (p_ < e_ && *p_ >= '0' && *p_ <= '9') {
      // Past the 18th digit only count: the number is refused below, and accumulating it
      // would overflow int64 (undefined behaviour; found by tests/fuzz).
      if (p_ - start < 18) v = v * 10 + (*p_ - '0');
      ++p_;
    }
    const auto digits = p_ - start;
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0') || (negative && v == 0)) {
      ok_ = false;
      return 0;
    }
    return negative ? -v : v;
  }
  std::int64_t NonNegative() {
    std::int64_t v = Int();
    if (v < 0) ok_ = false;
    return v;
  }
  // "..." of printable ASCII, no escapes.
  bool Str(std::string& out) {
    if (!Lit("\"")) return false;
    const char* start = p_;
    while (p_ < e_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') return ok_ = false;
      ++p_;
    }
    if (p_ == e_) return ok_ = false;
    out.assign(start, p_);
    ++p_;
    return true;
  }
  Side ParseSide() {
    if (Peek('"') && static_cast<std::size_t>(e_ - p_) >= 5 && std::memcmp(p_, "\"buy\"", 5) == 0) {
      p_ += 5;
      return Side::kBuy;
    }
    Lit("\"sell\"");
    return Side::kSell;
  }

 private:
  const char* p_;
  const char* e_;
  bool ok_ = true;
};

bool OrderAcceptedData(Cursor& c, OrderAccepted& x) {
  c.Lit("\"amount\":"); x.amount = c.Int();
  c.Lit(",\"order_id\":"); x.order_id = c.Int();
  c.Lit(",\"price\":"); x.price = c.Int();
  c.Lit(",\"side\":"); x.side = c.ParseSide();
  c.Lit(",\"user_id\":"); x.user_id = c.Int();
  return c.ok();
}

bool OrderCancelledData(Cursor& c, OrderCancelled& x) {
  c.Lit("\"order_id\":"); x.order_id = c.Int();
  c.Lit(",\"reason\":");
  if (c.Peek('"') && c.Lit("\"canceled\"")) {
    x.reason = CancelReason::kCanceled;
  } else {
    return false;  // reserve_failed: rare, the codec takes it (Lit failure is sticky)
  }
  c.Lit(",\"request\":");
  if (c.Peek('n')) {
    c.Lit("null");
    x.request.reset();
  } else {
    x.request = static_cast<std::uint64_t>(c.NonNegative());
  }
  c.Lit(",\"side\":"); x.side = c.ParseSide();
  c.Lit(",\"user_id\":"); x.user_id = c.Int();
  return c.ok();
}

bool TradeExecutedData(Cursor& c, TradeExecuted& x) {
  c.Lit("\"amount\":"); x.amount = c.Int();
  c.Lit(",\"legs\":[");
  while (c.ok() && !c.Peek(']')) {
    if (!x.legs.empty()) c.Lit(",");
    TradeLeg l;
    c.Lit("{\"amount\":"); l.amount = c.Int();
    c.Lit(",\"order_id\":"); l.order_id = c.Int();
    c.Lit(",\"reserve_id\":"); l.reserve_id = c.Int();
    c.Lit(",\"side\":"); l.side = c.ParseSide();
    c.Lit(",\"user_id\":"); l.user_id = c.Int();
    c.Lit("}");
    x.legs.push_back(l);
  }
  c.Lit("],\"match_id\":"); x.match_id = c.Int();
  c.Lit(",\"price\":"); x.price = c.Int();
  c.Lit(",\"trade_id\":"); x.trade_id = c.Int();
  return c.ok();
}

bool MatchProposedData(Cursor& c, MatchProposed& x) {
  c.Lit("\"amount\":"); x.amount = c.Int();
  c.Lit(",\"legs\":[");
  while (c.ok() && !c.Peek(']')) {
    if (!x.legs.empty()) c.Lit(",");
    MatchLeg l;
    c.Lit("{\"amount\":"); l.amount = c.Int();
    c.Lit(",\"bank_id\":"); c.Str(l.bank_id);
    c.Lit(",\"order_id\":"); l.order_id = c.Int();
    c.Lit(",\"price\":"); l.price = c.Int();
    c.Lit(",\"side\":"); l.side = c.ParseSide();
    c.Lit(",\"user_id\":"); l.user_id = c.Int();
    c.Lit("}");
    x.legs.push_back(std::move(l));
  }
  c.Lit("],\"match_id\":"); x.match_id = c.Int();
  c.Lit(",\"price\":"); x.price = c.Int();
  return c.ok();
}

bool MatchAbortedData(Cursor& c, MatchAborted& x) {
  c.Lit("\"match_id\":"); x.match_id = c.Int();
  c.Lit(",\"reason\":");
  if (c.Peek('"') && c.Lit("\"reserve_failed\"")) {
    x.reason = AbortReason::kReserveFailed;
  } else {
    return false;
  }
  c.Lit(",\"release_reserve_ids\":[");
  while (c.ok() && !c.Peek(']')) {
    if (!x.release_reserve_ids.empty()) c.Lit(",");
    x.release_reserve_ids.push_back(c.Int());
  }
  c.Lit("]");
  return c.ok();
}

template <typename T, typename F>
bool Body(Cursor& c, Event& out, F parse) {
  T body;
  if (!parse(c, body)) return false;
  out.body = std::move(body);
  return true;
}

}  // namespace

bool TryDecodeEventFast(std::string_view payload, Event& out) {
  // The type is written after the data (sorted keys): find it first, from the end.
  static constexpr std::string_view kTail = "\",\"v\":1}";
  if (payload.size() < 64 || payload.substr(payload.size() - kTail.size()) != kTail) return false;
  const std::size_t type_at = payload.rfind(",\"type\":\"");
  if (type_at == std::string_view::npos) return false;
  const std::string_view type =
      payload.substr(type_at + 9, payload.size() - kTail.size() - (type_at + 9));

  Cursor c(payload.substr(0, type_at));
  c.Lit("{\"cause\":");
  const std::int64_t cause = c.NonNegative();
  c.Lit(",\"data\":{");
  if (!c.ok()) return false;
  bool parsed = false;
  if (type == "OrderAccepted") parsed = Body<OrderAccepted>(c, out, OrderAcceptedData);
  else if (type == "TradeSettled") parsed = Body<TradeSettled>(c, out, [](Cursor& k, TradeSettled& x) {
      k.Lit("\"trade_id\":");
      x.trade_id = k.Int();
      return k.ok();
    });
  else if (type == "MatchProposed") parsed = Body<MatchProposed>(c, out, MatchProposedData);
  else if (type == "TradeExecuted") parsed = Body<TradeExecuted>(c, out, TradeExecutedData);
  else if (type == "OrderCancelled") parsed = Body<OrderCancelled>(c, out, OrderCancelledData);
  else if (type == "MatchAborted") parsed = Body<MatchAborted>(c, out, MatchAbortedData);
  if (!parsed) return false;
  c.Lit("},\"index\":");
  const std::int64_t index = c.NonNegative();
  c.Lit(",\"time\":");
  const std::int64_t time = c.Int();
  if (!c.ok() || !c.at_end() || index > std::numeric_limits<std::uint32_t>::max()) return false;
  out.seq = Sequence{static_cast<std::uint64_t>(cause), static_cast<std::uint32_t>(index)};
  out.time = time;
  return true;
}

Result<Event> DecodeEventFast(std::string_view payload) {
  Event e;
  if (TryDecodeEventFast(payload, e)) return e;
  return DecodeEvent(payload);
}

namespace {

bool OrderPlacedData(Cursor& c, OrderPlaced& x) {
  c.Lit("\"amount\":"); x.amount = c.Int();
  c.Lit(",\"price\":"); x.price = c.Int();
  c.Lit(",\"side\":"); x.side = c.ParseSide();
  c.Lit(",\"user_id\":"); x.user_id = c.Int();
  return c.ok();
}

bool CancelRequestedData(Cursor& c, CancelRequested& x) {
  c.Lit("\"order_id\":"); x.order_id = c.Int();
  c.Lit(",\"user_id\":"); x.user_id = c.Int();
  return c.ok();
}

bool ReservationsReportedData(Cursor& c, ReservationsReported& x) {
  c.Lit("\"match_id\":"); x.match_id = c.Int();
  c.Lit(",\"results\":[");
  while (c.ok() && !c.Peek(']')) {
    if (!x.results.empty()) c.Lit(",");
    Reservation r;
    c.Lit("{\"error\":"); c.Str(r.error);
    c.Lit(",\"order_id\":"); r.order_id = c.Int();
    c.Lit(",\"reserve_id\":");
    if (c.Peek('n')) {
      c.Lit("null");
    } else {
      r.reserve_id = c.Int();
    }
    c.Lit("}");
    x.results.push_back(std::move(r));
  }
  c.Lit("]");
  return c.ok();
}

bool CommitsReportedData(Cursor& c, CommitsReported& x) {
  c.Lit("\"trade_ids\":[");
  while (c.ok() && !c.Peek(']')) {
    if (!x.trade_ids.empty()) c.Lit(",");
    x.trade_ids.push_back(c.Int());
  }
  c.Lit("]");
  return c.ok();
}

template <typename T, typename F>
bool ParseCommandBody(Cursor& c, Command& out, F parse) {
  T body;
  if (!parse(c, body)) return false;
  out.body = std::move(body);
  return true;
}

}  // namespace

bool TryDecodeCommandFast(std::string_view payload, std::uint64_t offset, Command& out) {
  static constexpr std::string_view kTail = "\",\"v\":1}";
  if (payload.size() < 40 || payload.substr(payload.size() - kTail.size()) != kTail) return false;
  const std::size_t type_at = payload.rfind(",\"type\":\"");
  if (type_at == std::string_view::npos) return false;
  const std::string_view type =
      payload.substr(type_at + 9, payload.size() - kTail.size() - (type_at + 9));
  Cursor c(payload.substr(0, type_at));
  c.Lit("{\"data\":{");
  if (!c.ok()) return false;
  bool parsed = false;
  if (type == "OrderPlaced") parsed = ParseCommandBody<OrderPlaced>(c, out, OrderPlacedData);
  else if (type == "CancelRequested") parsed = ParseCommandBody<CancelRequested>(c, out, CancelRequestedData);
  else if (type == "ReservationsReported") parsed = ParseCommandBody<ReservationsReported>(c, out, ReservationsReportedData);
  else if (type == "CommitsReported") parsed = ParseCommandBody<CommitsReported>(c, out, CommitsReportedData);
  if (!parsed) return false;
  c.Lit("},\"time\":");
  const std::int64_t time = c.Int();
  if (!c.ok() || !c.at_end()) return false;
  out.offset = offset;
  out.time = time;
  return true;
}

Result<Command> DecodeCommandFast(std::string_view payload, std::uint64_t offset) {
  Command c;
  if (TryDecodeCommandFast(payload, offset, c)) return c;
  return DecodeCommand(payload, offset);
}

}  // namespace isucoin::events
