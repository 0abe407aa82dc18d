#include "events/time_format.h"

#include <chrono>
#include <cstdio>

namespace isucoin::events {
namespace {

using namespace std::chrono;

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatTime(Micros time, int utc_offset_seconds) {
  const Micros local = time + static_cast<Micros>(utc_offset_seconds) * 1'000'000;
  const auto tp = sys_time<microseconds>(microseconds(local));
  const auto day = floor<days>(tp);
  const year_month_day ymd(day);
  const hh_mm_ss hms(tp - day);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()),
                        static_cast<long long>(hms.hours().count()),
                        static_cast<long long>(hms.minutes().count()),
                        static_cast<long long>(hms.seconds().count()));
  const long long micros = hms.subseconds().count();
  if (micros != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", micros);
  const int off = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
  std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", utc_offset_seconds < 0 ? '-' : '+',
                off / 3600, (off % 3600) / 60);
  return buf;
}

Result<int> ParseUtcOffset(std::string_view s) {
  if (s == "Z") return 0;
  int h = 0, m = 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !Digits(s, 1, 2, &h) ||
      !Digits(s, 4, 2, &m) || h > 23 || m > 59) {
    return Status::Invalid("time zone offset must look like +09:00, got \"" + std::string(s) + "\"");
  }
  return (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
}

Result<Micros> ParseTime(std::string_view s) {
  auto bad = [&](const char* why) {
    return Status::Invalid(std::string("time \"") + std::string(s) + "\": " + why);
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad("no such date or time");
  std::size_t pos = 19;
  Micros fraction = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    Micros scale = 100'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad("fraction of a second must have 1 to 9 digits");
  }
  auto offset = ParseUtcOffset(s.substr(pos));
  if (!offset.ok()) return bad("expected Z or an offset like +09:00 after the seconds");
  const auto local = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec);
  return duration_cast<microseconds>(local.time_since_epoch()).count() + fraction -
         static_cast<Micros>(offset.value()) * 1'000'000;
}

Micros WallClockMicros() {
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace isucoin::events
