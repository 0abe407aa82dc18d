// A fast path for decoding the events log in bulk (replay, audit, start-up), where the JSON
// codec (events/codec.h, nlohmann DOM) is nearly all the cost.
//
// DecodeEventFast accepts only the exact bytes EncodeEvent writes for the frequent types
// (OrderAccepted, OrderCancelled, MatchProposed, MatchAborted, TradeExecuted, TradeSettled):
// sorted keys, no whitespace, plain ASCII strings without escapes, integers without leading
// zeros in range. Anything else — another type, another spelling, an escape, a doubtful number —
// goes to events::DecodeEvent, so the result (value or error) is always the codec's own.
// tests/replay/fast_decode_test.cc checks the two agree.
#pragma once

#include <cstdint>
#include <string_view>

#include "events/records.h"
#include "events/status.h"

namespace isucoin::events {

// true when the fast path decoded `payload` into `out`; false: use events::DecodeEvent.
bool TryDecodeEventFast(std::string_view payload, events::Event& out);

Result<events::Event> DecodeEventFast(std::string_view payload);

// The same for the commands log (OrderPlaced, CancelRequested, ReservationsReported,
// CommitsReported), for the audit's re-run; anything else goes to events::DecodeCommand.
bool TryDecodeCommandFast(std::string_view payload, std::uint64_t offset, events::Command& out);
Result<events::Command> DecodeCommandFast(std::string_view payload, std::uint64_t offset);

}  // namespace isucoin::events
