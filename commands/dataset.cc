#include "commands/dataset.h"

#include <cctype>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "events/time_format.h"

namespace isucoin::commands {

using nlohmann::json;
using namespace isucoin::events;

namespace {

// Reads one line's fields; the first problem is kept and names the field.
class LineReader {
 public:
  explicit LineReader(const json& j) : j_(j) {}

  std::int64_t Id(const char* name) { return Int(name, 1, std::numeric_limits<std::int64_t>::max()); }
  std::int64_t Int(const char* name, std::int64_t lo, std::int64_t hi) {
    const json* v = Field(name);
    if (!v) return 0;
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() >
                                        static_cast<std::uint64_t>(hi))) {
      Fail(std::string(name) + " must be an integer from " + std::to_string(lo) + " to " +
           std::to_string(hi));
      return 0;
    }
    std::int64_t x = v->get<std::int64_t>();
    if (x < lo || x > hi) {
      Fail(std::string(name) + " must be from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    return x;
  }
  std::string String(const char* name) {
    const json* v = Field(name);
    if (!v) return {};
    if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
      Fail(std::string(name) + " must be a non-empty string");
      return {};
    }
    return v->get<std::string>();
  }
  Micros Time(const char* name) {
    std::string text = String(name);
    if (!ok()) return 0;
    auto t = ParseTime(text);
    if (!t.ok()) Fail(std::string(name) + ": " + t.status().message());
    return t.ok() ? t.value() : 0;
  }
  std::optional<Micros> OptionalTime(const char* name) {
    const json* v = Field(name);
    if (!v || v->is_null()) return std::nullopt;
    return Time(name);
  }
  std::optional<std::int64_t> OptionalId(const char* name) {
    const json* v = Field(name);
    if (!v || v->is_null()) return std::nullopt;
    return Id(name);
  }
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const json* Field(const char* name) {
    auto it = j_.find(name);
    if (it == j_.end()) {
      Fail(std::string("missing field ") + name);
      return nullptr;
    }
    return &*it;
  }
  const json& j_;
  std::string error_;
};

bool IsBcrypt(const std::string& hash) {
  // $2a$, $2b$ or $2y$, a two-digit cost, then 53 characters of salt and hash.
  return hash.size() == 60 && hash[0] == '$' && hash[1] == '2' &&
         (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$' &&
         std::isdigit(static_cast<unsigned char>(hash[4])) &&
         std::isdigit(static_cast<unsigned char>(hash[5])) && hash[6] == '$';
}

}  // namespace

Result<Dataset> ParseDataset(std::istream& in) {
  Dataset out;
  enum Stage { kUsers, kTrades, kOrders } stage = kUsers;
  std::unordered_set<Id> users, trades, orders;
  std::unordered_set<std::string> bank_ids;
  std::unordered_map<Id, std::int64_t> trade_amount;  // for the sums check below
  std::unordered_map<Id, std::pair<std::int64_t, std::int64_t>> traded_sides;  // buy, sell sums
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    auto refuse = [&](const std::string& why) {
      return Status::Invalid("line " + std::to_string(n) + ": " + why);
    };
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return refuse("not a JSON object");
    auto kind_it = j.find("kind");
    if (kind_it == j.end() || !kind_it->is_string()) return refuse("missing field kind");
    const std::string kind = kind_it->get<std::string>();
    LineReader r(j);
    if (kind == "user") {
      if (stage != kUsers) return refuse("users must come before trades and orders");
      UserImported u{r.Id("id"), r.String("bank_id"), r.String("name"), r.String("password"),
                     r.Time("created_at")};
      if (r.ok() && !IsBcrypt(u.password_hash))
        r.Fail("password must be a bcrypt hash ($2a$, $2b$ or $2y$)");
      if (r.ok() && !users.insert(u.user_id).second) r.Fail("duplicate user id");
      if (r.ok() && !bank_ids.insert(u.bank_id).second) r.Fail("duplicate bank_id " + u.bank_id);
      if (!r.ok()) return refuse(r.error());
      out.commands.push_back(std::move(u));
      ++out.counts.users;
    } else if (kind == "trade") {
      if (stage == kOrders) return refuse("trades must come before orders");
      stage = kTrades;
      TradeImported t{r.Id("id"), r.Int("amount", 1, kMaxAmount), r.Int("price", 1, kMaxPrice),
                      r.Time("created_at")};
      if (r.ok() && !trades.insert(t.trade_id).second) r.Fail("duplicate trade id");
      if (!r.ok()) return refuse(r.error());
      trade_amount[t.trade_id] = t.amount;
      out.commands.push_back(t);
      ++out.counts.trades;
    } else if (kind == "order") {
      stage = kOrders;
      std::string type = r.String("type");
      if (r.ok() && type != "buy" && type != "sell") r.Fail("type must be buy or sell");
      OrderImported o{r.Id("id"),
                      type == "sell" ? Side::kSell : Side::kBuy,
                      r.Id("user_id"),
                      r.Int("amount", 1, kMaxAmount),
                      r.Int("price", 1, kMaxPrice),
                      r.Time("created_at"),
                      r.OptionalTime("closed_at"),
                      r.OptionalId("trade_id")};
      if (r.ok() && !orders.insert(o.order_id).second) r.Fail("duplicate order id");
      if (r.ok() && !users.contains(o.user_id)) r.Fail("user_id names no user of the dataset");
      if (r.ok() && o.trade_id && !trades.contains(*o.trade_id))
        r.Fail("trade_id names no trade of the dataset");
      if (r.ok() && o.trade_id && !o.closed_at) r.Fail("a traded order needs closed_at");
      if (!r.ok()) return refuse(r.error());
      if (o.trade_id) {
        auto& sums = traded_sides[*o.trade_id];
        (o.side == Side::kBuy ? sums.first : sums.second) += o.amount;
      }
      out.counts.open_orders += o.closed_at ? 0 : 1;
      out.commands.push_back(o);
      ++out.counts.orders;
    } else {
      return refuse("kind must be user, trade or order, not \"" + kind + "\"");
    }
  }
  // All-or-nothing holds in history too: both sides of a trade add up to its amount.
  for (const auto& [id, amount] : trade_amount) {
    auto sums = traded_sides[id];
    if (sums.first != amount || sums.second != amount) {
      return Status::Invalid("trade " + std::to_string(id) + ": its buy orders sum to " +
                             std::to_string(sums.first) + " and its sell orders to " +
                             std::to_string(sums.second) + ", not its amount " +
                             std::to_string(amount));
    }
  }
  out.commands.push_back(GenesisSealed{});
  return out;
}

}  // namespace isucoin::commands
