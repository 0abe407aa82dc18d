// Fuzz target: records of the events log — events::DecodeEvent (strict JSON codec) and
// events::DecodeEventFast (replay, audit and start-up). Properties in codec_properties.h.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/codec_properties.h"

using namespace isucoin;

namespace {

struct EventCodec {
  using Record = events::Event;
  static inline const std::set<std::string> kFastTypes = {
      "OrderAccepted", "OrderCancelled", "MatchProposed", "MatchAborted", "TradeExecuted",
      "TradeSettled"};
  static Result<Record> Decode(std::string_view p) { return events::DecodeEvent(p); }
  static Result<Record> DecodeFast(std::string_view p) { return events::DecodeEventFast(p); }
  static bool TryFast(std::string_view p, Record& out) { return events::TryDecodeEventFast(p, out); }
  static std::string Encode(const Record& r) { return events::EncodeEvent(r); }
  static std::string TypeName(const Record& r) { return events::EventTypeName(r.body); }
  // The rare shapes fast_decode.cc leaves to the codec on purpose (see its comments).
  static bool FastTakes(const Record& r) {
    if (const auto* c = std::get_if<events::OrderCancelled>(&r.body)) {
      return c->reason == events::CancelReason::kCanceled;
    }
    if (const auto* a = std::get_if<events::MatchAborted>(&r.body)) {
      return a->reason == events::AbortReason::kReserveFailed;
    }
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::CheckCodec<EventCodec>(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
