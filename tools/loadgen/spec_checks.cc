#include "tools/loadgen/spec_checks.h"

#include <cctype>

namespace isucoin::loadgen {

using nlohmann::json;

namespace {

void Add(Violations* out, std::string kind, std::string detail) {
  if (detail.size() > 600) detail = detail.substr(0, 600) + "…";
  out->push_back({std::move(kind), std::move(detail)});
}

bool IsPositiveInt(const json& v) {
  return (v.is_number_integer() || v.is_number_unsigned()) && v.get<std::int64_t>() > 0;
}

bool IsNonNegativeInt(const json& v) {
  return (v.is_number_integer() || v.is_number_unsigned()) && v.get<std::int64_t>() >= 0;
}

int Digits(std::string_view s, size_t at, size_t n, bool* ok) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) {
      *ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> TimeField(const json& o, const char* key) {
  if (!o.contains(key) || !o[key].is_string()) return std::nullopt;
  return ParseRfc3339(o[key].get<std::string>());
}

// A chart: [{time, open, close, high, low}], times on bucket boundaries (in the exchange's
// offset, which for whole-hour offsets equals UTC alignment), strictly increasing, the whole
// window within `window_us` of the newest bucket.
void CheckChart(const json& info, const char* key, std::int64_t bucket_us, std::int64_t window_us,
                Violations* out) {
  if (!info.contains(key) || !info[key].is_array()) {
    return Add(out, "info_chart_missing", std::string(key) + " is not an array");
  }
  const json& chart = info[key];
  std::optional<std::int64_t> previous;
  std::int64_t first = 0;
  for (const auto& c : chart) {
    if (!c.is_object()) return Add(out, "info_candle_shape", std::string(key) + ": " + c.dump());
    for (const char* field : {"open", "close", "high", "low"}) {
      if (!c.contains(field) || !IsPositiveInt(c[field])) {
        return Add(out, "info_candle_shape", std::string(key) + ": " + c.dump());
      }
    }
    auto t = TimeField(c, "time");
    if (!t) return Add(out, "info_candle_time", std::string(key) + ": " + c.dump());
    // Offsets of whole minutes keep minute and second buckets aligned in UTC; hours need the
    // offset itself, which the time string carries.
    std::int64_t local = *t;
    const std::string text = c["time"].get<std::string>();
    if (text.size() >= 6 && (text[text.size() - 6] == '+' || text[text.size() - 6] == '-')) {
      bool ok = true;
      int hh = Digits(text, text.size() - 5, 2, &ok), mm = Digits(text, text.size() - 2, 2, &ok);
      std::int64_t off = (hh * 3600LL + mm * 60LL) * 1'000'000;
      local += text[text.size() - 6] == '+' ? off : -off;
    }
    if (local % bucket_us != 0) {
      Add(out, "info_candle_not_on_bucket", std::string(key) + ": " + c.dump());
    }
    const auto open = c["open"].get<std::int64_t>(), close = c["close"].get<std::int64_t>();
    const auto high = c["high"].get<std::int64_t>(), low = c["low"].get<std::int64_t>();
    if (low > open || low > close || high < open || high < close || low > high) {
      Add(out, "info_candle_ohlc", std::string(key) + ": " + c.dump());
    }
    if (previous && *t <= *previous) {
      Add(out, "info_chart_not_increasing", std::string(key) + " at " + c.dump());
    }
    if (!previous) first = *t;
    previous = t;
  }
  // "reaches back 300 s / 300 min / 48 h from it": the oldest bucket is within that window
  // of the newest one (its start may be exactly the window's start).
  if (previous && *previous - first > window_us) {
    Add(out, "info_chart_window",
        std::string(key) + " spans " + std::to_string((*previous - first) / 1'000'000) + " s");
  }
}

}  // namespace

std::optional<std::int64_t> ParseRfc3339(std::string_view s) {
  bool ok = true;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const int year = Digits(s, 0, 4, &ok), month = Digits(s, 5, 2, &ok), day = Digits(s, 8, 2, &ok);
  const int hour = Digits(s, 11, 2, &ok), minute = Digits(s, 14, 2, &ok),
            second = Digits(s, 17, 2, &ok);
  if (!ok || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  size_t i = 19;
  std::int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t digits = 0;
    std::int64_t scale = 100000;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (digits < 6) micros += (s[i] - '0') * scale;
      scale /= 10;
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    const int oh = Digits(s, i + 1, 2, &ok), om = Digits(s, i + 4, 2, &ok);
    if (!ok || oh > 23 || om > 59) return std::nullopt;
    offset = (oh * 3600LL + om * 60LL) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600LL + minute * 60LL + second - offset;
  return seconds * 1'000'000 + micros;
}

std::optional<json> ParseBody(const std::string& body, const std::string& what, Violations* out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    Add(out, what + "_not_json", body);
    return std::nullopt;
  }
  return j;
}

void CheckErrorBody(const std::string& route, long status, const std::string& body,
                    Violations* out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error") || !j["error"].is_string()) {
    Add(out, "error_body_shape", route + " " + std::to_string(status) + ": " + body);
  }
}

void CheckOrder(const json& o, const Me& me, const std::string& where, Violations* out) {
  const std::string ctx = where + ": " + o.dump();
  if (!o.is_object()) return Add(out, "order_shape", ctx);
  if (!o.contains("id") || !IsPositiveInt(o["id"])) Add(out, "order_shape", "id, " + ctx);
  if (!o.contains("type") || !o["type"].is_string() ||
      (o["type"] != "buy" && o["type"] != "sell")) {
    Add(out, "order_shape", "type, " + ctx);
  }
  if (!o.contains("user_id") || !IsPositiveInt(o["user_id"])) {
    Add(out, "order_shape", "user_id, " + ctx);
  } else if (o["user_id"].get<std::int64_t>() != me.user_id) {
    Add(out, "order_not_mine", ctx);
  }
  for (const char* key : {"amount", "price"}) {
    if (!o.contains(key) || !IsPositiveInt(o[key])) Add(out, "order_shape", std::string(key) + ", " + ctx);
  }
  if (!TimeField(o, "created_at")) Add(out, "order_shape", "created_at, " + ctx);
  if (!o.contains("closed_at") || (!o["closed_at"].is_null() && !TimeField(o, "closed_at"))) {
    Add(out, "order_shape", "closed_at, " + ctx);
  }
  if (!o.contains("user") || !o["user"].is_object() || !o["user"].contains("id") ||
      !o["user"].contains("name") || !o["user"]["name"].is_string()) {
    Add(out, "order_shape", "user, " + ctx);
  } else if (o["user"]["id"] != o.value("user_id", json()) || o["user"]["name"] != me.name) {
    Add(out, "order_user_mismatch", ctx);
  }
  const bool has_trade_id = o.contains("trade_id"), has_trade = o.contains("trade");
  if (has_trade_id != has_trade) return Add(out, "order_trade_half_filled", ctx);
  if (!has_trade) {
    // Cancelled orders are left out, so an order shown without a trade is open.
    if (o.contains("closed_at") && !o["closed_at"].is_null()) Add(out, "order_closed_without_trade", ctx);
    return;
  }
  const json& t = o["trade"];
  if (!IsPositiveInt(o["trade_id"]) || !t.is_object() || !t.contains("id") ||
      t["id"] != o["trade_id"] || !t.contains("amount") || !IsPositiveInt(t["amount"]) ||
      !t.contains("price") || !IsPositiveInt(t["price"]) || !TimeField(t, "created_at")) {
    return Add(out, "order_trade_shape", ctx);
  }
  if (o.contains("closed_at") && o["closed_at"].is_null()) Add(out, "order_traded_not_closed", ctx);
  if (o.contains("amount") && IsPositiveInt(o["amount"]) &&
      t["amount"].get<std::int64_t>() < o["amount"].get<std::int64_t>()) {
    Add(out, "trade_smaller_than_order", ctx);  // all-or-nothing: the whole order trades
  }
  if (o.contains("price") && IsPositiveInt(o["price"]) && o.contains("type")) {
    const auto limit = o["price"].get<std::int64_t>(), price = t["price"].get<std::int64_t>();
    if ((o["type"] == "buy" && price > limit) || (o["type"] == "sell" && price < limit)) {
      Add(out, "trade_price_outside_limit", ctx);
    }
  }
  auto created = TimeField(o, "created_at"), traded = TimeField(t, "created_at");
  if (created && traded && *traded < *created) Add(out, "trade_before_order", ctx);
}

void CheckOrderList(const json& orders, const Me& me, Violations* out) {
  if (!orders.is_array()) return Add(out, "orders_not_array", orders.dump());
  std::optional<std::int64_t> previous;
  for (const auto& o : orders) {
    CheckOrder(o, me, "GET /orders", out);
    auto created = o.is_object() ? TimeField(o, "created_at") : std::nullopt;
    if (created && previous && *created < *previous) {
      Add(out, "orders_not_sorted", "created_at goes back at " + o.dump());
    }
    if (created) previous = created;
  }
}

void CheckInfo(const json& info, std::int64_t request_cursor, const Me* me, Violations* out) {
  if (!info.is_object()) return Add(out, "info_shape", info.dump());
  if (!info.contains("cursor") || !IsNonNegativeInt(info["cursor"])) {
    return Add(out, "info_shape", "cursor: " + info.dump().substr(0, 200));
  }
  const auto cursor = info["cursor"].get<std::int64_t>();
  CheckChart(info, "chart_by_sec", 1'000'000LL, 300 * 1'000'000LL, out);
  CheckChart(info, "chart_by_min", 60 * 1'000'000LL, 300 * 60 * 1'000'000LL, out);
  CheckChart(info, "chart_by_hour", 3600 * 1'000'000LL, 48 * 3600 * 1'000'000LL, out);
  for (const char* key : {"lowest_sell_price", "highest_buy_price"}) {
    if (info.contains(key) && !IsPositiveInt(info[key])) {
      Add(out, "info_shape", std::string(key) + ": " + info[key].dump());
    }
  }
  if (!info.contains("enable_share") || !info["enable_share"].is_boolean()) {
    Add(out, "info_shape", "enable_share missing or not a bool");
  } else if (me == nullptr && info["enable_share"].get<bool>()) {
    Add(out, "info_share_signed_out", "enable_share true without a session");
  }
  if (me == nullptr) {
    if (info.contains("traded_orders")) Add(out, "info_traded_orders_signed_out", "key present");
    return;
  }
  if (!info.contains("traded_orders") || !info["traded_orders"].is_array()) {
    return Add(out, "info_traded_orders_missing", "signed in, no traded_orders array");
  }
  for (const auto& o : info["traded_orders"]) {
    CheckOrder(o, *me, "GET /info traded_orders", out);
    if (!o.is_object() || !o.contains("trade_id")) {
      Add(out, "info_traded_order_not_traded", o.dump());
      continue;
    }
    if (!IsPositiveInt(o["trade_id"])) continue;
    const auto trade_id = o["trade_id"].get<std::int64_t>();
    if (trade_id <= request_cursor || trade_id > cursor) {
      Add(out, "info_traded_order_outside_cursors",
          "request cursor " + std::to_string(request_cursor) + ", answer cursor " +
              std::to_string(cursor) + ", trade_id " + std::to_string(trade_id));
    }
  }
}

std::optional<std::int64_t> LatestChartPrice(const json& info) {
  for (const char* key : {"chart_by_sec", "chart_by_min", "chart_by_hour"}) {
    if (info.contains(key) && info[key].is_array() && !info[key].empty()) {
      const json& c = info[key].back();
      if (c.is_object() && c.contains("close") && c["close"].is_number_integer()) {
        return c["close"].get<std::int64_t>();
      }
    }
  }
  return std::nullopt;
}

}  // namespace isucoin::loadgen
