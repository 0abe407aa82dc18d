// RFC 3339 times as SPEC.md writes them: "2018-10-16T09:00:00.123456+09:00".
// The exchange keeps UTC microseconds; the offset is the exchange's time zone, a setting
// (Asia/Tokyo, +09:00, has no daylight saving, so a fixed offset is exact).
#pragma once

#include <string>
#include <string_view>

#include "events/records.h"
#include "events/status.h"

namespace isucoin::events {

// Microseconds are written when non-zero ("…:00.123456+09:00"), omitted otherwise.
std::string FormatTime(Micros time, int utc_offset_seconds);

// Accepts "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)"; fractions below a microsecond are cut.
Result<Micros> ParseTime(std::string_view text);

// "+09:00" → 32400; "Z" or "+00:00" → 0.
Result<int> ParseUtcOffset(std::string_view text);

// The wall clock in UTC microseconds, for what stamps commands and measures ages (api,
// settlement, shipping). Never called by the matcher: it takes time only from commands.
Micros WallClockMicros();

}  // namespace isucoin::events
