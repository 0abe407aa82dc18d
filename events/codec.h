// Versioned JSON codec for the records of both logs.
//
//   command: {"v":1,"type":"OrderPlaced","time":<µs>,"data":{...fields...}}
//   event:   {"v":1,"type":"OrderAccepted","cause":<offset>,"index":<n>,"time":<µs>,"data":{...}}
//
// Decoding is strict: an unknown version or type, a missing or unexpected field, or a value of
// the wrong type or range is an Invalid status whose message names the field, e.g.
// `OrderPlaced.data.amount: expected an integer`. Nothing is defaulted in silence. Optional
// fields are always written (null when empty), so a missing one is also an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/records.h"
#include "events/status.h"

namespace isucoin::events {

inline constexpr int kRecordVersion = 1;

std::string EncodeCommand(const Command& command);  // Command::offset is not encoded
// `offset` is the record's position in the commands log; it becomes Command::offset.
Result<Command> DecodeCommand(std::string_view payload, std::uint64_t offset);

std::string EncodeEvent(const Event& event);
Result<Event> DecodeEvent(std::string_view payload);

// The "type" string of a record, e.g. "OrderPlaced".
const char* CommandTypeName(const CommandBody& body);
const char* EventTypeName(const EventBody& body);

}  // namespace isucoin::events
