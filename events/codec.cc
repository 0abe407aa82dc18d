#include "events/codec.h"

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>
#include <utility>

namespace isucoin::events {
namespace {

using nlohmann::json;

// Each record type lists its fields once, in Schema<T>::fields; the encoder and the decoder
// are two visitors over that list, so the two can never disagree about a field.
template <typename T>
struct Schema;

#define ISUCOIN_SCHEMA(Type, ...)                         \
  template <>                                             \
  struct Schema<Type> {                                   \
    static constexpr const char* kName = #Type;           \
    template <typename V, typename R>                     \
    static void fields(V& v, R& r) { __VA_ARGS__; }       \
  }

// Commands
ISUCOIN_SCHEMA(UserImported, v("user_id", r.user_id); v("bank_id", r.bank_id); v("name", r.name);
               v("password_hash", r.password_hash); v("created_at", r.created_at));
ISUCOIN_SCHEMA(TradeImported, v("trade_id", r.trade_id); v("amount", r.amount);
               v("price", r.price); v("created_at", r.created_at));
ISUCOIN_SCHEMA(OrderImported, v("order_id", r.order_id); v("side", r.side);
               v("user_id", r.user_id); v("amount", r.amount); v("price", r.price);
               v("created_at", r.created_at); v("closed_at", r.closed_at);
               v("trade_id", r.trade_id));
ISUCOIN_SCHEMA(GenesisSealed, (void)v; (void)r);
ISUCOIN_SCHEMA(SignupRequested, v("name", r.name); v("bank_id", r.bank_id);
               v("password_hash", r.password_hash));
ISUCOIN_SCHEMA(SigninRecorded, v("bank_id", r.bank_id); v("password_ok", r.password_ok));
ISUCOIN_SCHEMA(OrderPlaced, v("user_id", r.user_id); v("side", r.side); v("amount", r.amount);
               v("price", r.price));
ISUCOIN_SCHEMA(BuyCreditRefused, v("user_id", r.user_id); v("amount", r.amount);
               v("price", r.price); v("error", r.error));
ISUCOIN_SCHEMA(CancelRequested, v("user_id", r.user_id); v("order_id", r.order_id));
ISUCOIN_SCHEMA(Reservation, v("order_id", r.order_id); v("reserve_id", r.reserve_id);
               v("error", r.error));
ISUCOIN_SCHEMA(ReservationsReported, v("match_id", r.match_id); v("results", r.results));
ISUCOIN_SCHEMA(CommitsReported, v("trade_ids", r.trade_ids));
ISUCOIN_SCHEMA(ServiceEndpoints, v("bank_endpoint", r.bank_endpoint);
               v("bank_appid", r.bank_appid); v("log_endpoint", r.log_endpoint);
               v("log_appid", r.log_appid));
ISUCOIN_SCHEMA(ResetRequested, v("endpoints", r.endpoints));
ISUCOIN_SCHEMA(MalformedCommand, v("error", r.error));

// Events
ISUCOIN_SCHEMA(GenesisUser, v("user_id", r.user_id); v("bank_id", r.bank_id); v("name", r.name);
               v("password_hash", r.password_hash); v("created_at", r.created_at));
ISUCOIN_SCHEMA(GenesisTrade, v("trade_id", r.trade_id); v("amount", r.amount);
               v("price", r.price); v("created_at", r.created_at));
ISUCOIN_SCHEMA(GenesisOrder, v("order_id", r.order_id); v("side", r.side);
               v("user_id", r.user_id); v("amount", r.amount); v("price", r.price);
               v("created_at", r.created_at); v("closed_at", r.closed_at);
               v("trade_id", r.trade_id));
ISUCOIN_SCHEMA(GenesisCompleted, (void)v; (void)r);
ISUCOIN_SCHEMA(UserRegistered, v("user_id", r.user_id); v("bank_id", r.bank_id);
               v("name", r.name); v("password_hash", r.password_hash));
ISUCOIN_SCHEMA(SignupRejected, v("bank_id", r.bank_id); v("reason", r.reason));
ISUCOIN_SCHEMA(SigninSucceeded, v("user_id", r.user_id); v("bank_id", r.bank_id));
ISUCOIN_SCHEMA(SigninFailed, v("bank_id", r.bank_id);
               v("consecutive_failures", r.consecutive_failures));
ISUCOIN_SCHEMA(SigninBlocked, v("bank_id", r.bank_id); v("until", r.until));
ISUCOIN_SCHEMA(OrderAccepted, v("order_id", r.order_id); v("user_id", r.user_id);
               v("side", r.side); v("amount", r.amount); v("price", r.price));
ISUCOIN_SCHEMA(BuyRejected, v("user_id", r.user_id); v("amount", r.amount); v("price", r.price);
               v("error", r.error));
ISUCOIN_SCHEMA(OrderCancelled, v("order_id", r.order_id); v("user_id", r.user_id);
               v("side", r.side); v("reason", r.reason); v("request", r.request));
ISUCOIN_SCHEMA(CancelRejected, v("order_id", r.order_id); v("user_id", r.user_id);
               v("reason", r.reason); v("request", r.request));
ISUCOIN_SCHEMA(CancelDeferred, v("order_id", r.order_id); v("match_id", r.match_id);
               v("request", r.request));
ISUCOIN_SCHEMA(MatchLeg, v("order_id", r.order_id); v("user_id", r.user_id);
               v("bank_id", r.bank_id); v("side", r.side); v("amount", r.amount);
               v("price", r.price));
ISUCOIN_SCHEMA(MatchProposed, v("match_id", r.match_id); v("price", r.price);
               v("amount", r.amount); v("legs", r.legs));
ISUCOIN_SCHEMA(MatchAborted, v("match_id", r.match_id); v("reason", r.reason);
               v("release_reserve_ids", r.release_reserve_ids));
ISUCOIN_SCHEMA(TradeLeg, v("order_id", r.order_id); v("user_id", r.user_id); v("side", r.side);
               v("amount", r.amount); v("reserve_id", r.reserve_id));
ISUCOIN_SCHEMA(TradeExecuted, v("trade_id", r.trade_id); v("match_id", r.match_id);
               v("price", r.price); v("amount", r.amount); v("legs", r.legs));
ISUCOIN_SCHEMA(TradeSettled, v("trade_id", r.trade_id));
ISUCOIN_SCHEMA(ExchangeReset, v("endpoints", r.endpoints));
ISUCOIN_SCHEMA(CommandRejected, v("reason", r.reason));

#undef ISUCOIN_SCHEMA

// Enumerations travel as the words SPEC.md and the logs use.
template <typename E>
struct EnumNames;
template <>
struct EnumNames<Side> {
  static constexpr std::pair<Side, const char*> kAll[] = {{Side::kBuy, "buy"},
                                                          {Side::kSell, "sell"}};
};
template <>
struct EnumNames<CancelReason> {
  static constexpr std::pair<CancelReason, const char*> kAll[] = {
      {CancelReason::kCanceled, "canceled"}, {CancelReason::kReserveFailed, "reserve_failed"}};
};
template <>
struct EnumNames<CancelRefusal> {
  static constexpr std::pair<CancelRefusal, const char*> kAll[] = {
      {CancelRefusal::kNotFound, "not_found"},
      {CancelRefusal::kNotOwner, "not_owner"},
      {CancelRefusal::kAlreadyClosed, "already_closed"}};
};
template <>
struct EnumNames<AbortReason> {
  static constexpr std::pair<AbortReason, const char*> kAll[] = {
      {AbortReason::kReserveFailed, "reserve_failed"}, {AbortReason::kReset, "reset"}};
};

template <typename T>
concept Enumerated = requires { EnumNames<T>::kAll; };
template <typename T>
concept Structured = requires { Schema<T>::kName; };

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

// ---- encoding

json ToJson(const auto& value);

struct Encoder {
  json* out;
  template <typename T>
  void operator()(const char* name, const T& value) {
    (*out)[name] = ToJson(value);
  }
};

json ToJson(const auto& value) {
  using T = std::decay_t<decltype(value)>;
  if constexpr (Enumerated<T>) {
    for (const auto& [e, name] : EnumNames<T>::kAll)
      if (e == value) return name;
    return nullptr;  // unreachable for valid enumerators
  } else if constexpr (Structured<T>) {
    json obj = json::object();
    Encoder enc{&obj};
    Schema<T>::fields(enc, value);
    return obj;
  } else if constexpr (IsOptional<T>::value) {
    return value ? ToJson(*value) : json(nullptr);
  } else if constexpr (IsVector<T>::value) {
    json arr = json::array();
    for (const auto& item : value) arr.push_back(ToJson(item));
    return arr;
  } else {
    return json(value);
  }
}

// ---- decoding

// Decoding stops at the first problem; `error` names the field path.
struct DecodeContext {
  std::string error;
  bool failed() const { return !error.empty(); }
  void Fail(const std::string& path, const std::string& what) {
    if (error.empty()) error = path + ": " + what;
  }
};

template <typename T>
void FromJson(const json& j, T& out, const std::string& path, DecodeContext& ctx);

struct Decoder {
  const json* in;
  std::string path;
  DecodeContext* ctx;
  std::set<std::string> seen;
  template <typename T>
  void operator()(const char* name, T& value) {
    seen.insert(name);
    if (ctx->failed()) return;
    auto it = in->find(name);
    if (it == in->end()) return ctx->Fail(path + "." + name, "missing");
    FromJson(*it, value, path + "." + name, *ctx);
  }
};

template <typename T>
void FromJson(const json& j, T& out, const std::string& path, DecodeContext& ctx) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return ctx.Fail(path, "expected a boolean");
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    // Integers only: 3.0 or "3" are rejected rather than converted.
    if (!j.is_number_integer()) return ctx.Fail(path, "expected an integer");
    if (j.is_number_unsigned()) {
      auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        return ctx.Fail(path, "integer out of range");
      out = static_cast<T>(u);
    } else {
      auto s = j.get<std::int64_t>();
      if (s < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          (s > 0 && static_cast<std::uint64_t>(s) > std::numeric_limits<T>::max()))
        return ctx.Fail(path, "integer out of range");
      out = static_cast<T>(s);
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return ctx.Fail(path, "expected a string");
    out = j.get<std::string>();
  } else if constexpr (Enumerated<T>) {
    if (!j.is_string()) return ctx.Fail(path, "expected a string");
    const auto& word = j.get_ref<const std::string&>();
    for (const auto& [e, name] : EnumNames<T>::kAll) {
      if (word == name) {
        out = e;
        return;
      }
    }
    ctx.Fail(path, "unknown value \"" + word + "\"");
  } else if constexpr (IsOptional<T>::value) {
    if (j.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type inner{};
    FromJson(j, inner, path, ctx);
    out = std::move(inner);
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) return ctx.Fail(path, "expected an array");
    out.clear();
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size() && !ctx.failed(); ++i) {
      typename T::value_type item{};
      FromJson(j[i], item, path + "[" + std::to_string(i) + "]", ctx);
      out.push_back(std::move(item));
    }
  } else {
    static_assert(Structured<T>);
    if (!j.is_object()) return ctx.Fail(path, "expected an object");
    Decoder dec{&j, path, &ctx, {}};
    Schema<T>::fields(dec, out);
    if (ctx.failed()) return;
    for (const auto& [key, _] : j.items()) {
      if (!dec.seen.contains(key)) return ctx.Fail(path + "." + key, "unexpected field");
    }
  }
}

// ---- the variants: type name <-> alternative

template <typename Variant>
const char* TypeName(const Variant& body) {
  return std::visit([](const auto& r) { return Schema<std::decay_t<decltype(r)>>::kName; }, body);
}

template <typename Variant>
using BodyDecoder = void (*)(const json&, Variant&, const std::string&, DecodeContext&);

template <typename Variant, std::size_t... I>
std::map<std::string, BodyDecoder<Variant>, std::less<>> MakeDecoders(std::index_sequence<I...>) {
  std::map<std::string, BodyDecoder<Variant>, std::less<>> table;
  (table.emplace(Schema<std::variant_alternative_t<I, Variant>>::kName,
                 [](const json& j, Variant& out, const std::string& path, DecodeContext& ctx) {
                   std::variant_alternative_t<I, Variant> body{};
                   FromJson(j, body, path, ctx);
                   out = std::move(body);
                 }),
   ...);
  return table;
}

template <typename Variant>
const auto& Decoders() {
  static const auto table =
      MakeDecoders<Variant>(std::make_index_sequence<std::variant_size_v<Variant>>{});
  return table;
}

// Parses the envelope shared by both logs; `header` lists the envelope's extra integer fields.
template <typename Variant>
Status DecodeEnvelope(std::string_view payload, const char* kind,
                      std::initializer_list<std::pair<const char*, std::int64_t*>> header,
                      Variant& body) {
  json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid(std::string(kind) + ": not valid JSON");
  if (!j.is_object()) return Status::Invalid(std::string(kind) + ": expected a JSON object");
  DecodeContext ctx;
  std::int64_t version = 0;
  auto read_int = [&](const char* name, std::int64_t& out) {
    auto it = j.find(name);
    if (it == j.end()) return ctx.Fail(std::string(kind) + "." + name, "missing");
    FromJson(*it, out, std::string(kind) + "." + name, ctx);
  };
  read_int("v", version);
  if (!ctx.failed() && version != kRecordVersion)
    ctx.Fail(std::string(kind) + ".v", "unsupported version " + std::to_string(version));
  auto type_it = j.find("type");
  if (!ctx.failed() && (type_it == j.end() || !type_it->is_string()))
    ctx.Fail(std::string(kind) + ".type", type_it == j.end() ? "missing" : "expected a string");
  if (ctx.failed()) return Status::Invalid(ctx.error);
  const auto& type = type_it->get_ref<const std::string&>();
  const auto& decoders = Decoders<Variant>();
  auto dec = decoders.find(type);
  if (dec == decoders.end())
    return Status::Invalid(std::string(kind) + ".type: unknown type \"" + type + "\"");
  for (const auto& [name, out] : header) read_int(name, *out);
  auto data = j.find("data");
  if (!ctx.failed() && data == j.end()) ctx.Fail(type + ".data", "missing");
  if (!ctx.failed()) dec->second(*data, body, type + ".data", ctx);
  if (!ctx.failed()) {
    std::set<std::string> known = {"v", "type", "data"};
    for (const auto& [name, _] : header) known.insert(name);
    for (const auto& [key, _] : j.items())
      if (!known.contains(key)) ctx.Fail(type + "." + key, "unexpected field");
  }
  return ctx.failed() ? Status::Invalid(ctx.error) : Status::Ok();
}

json BodyToJson(const auto& body) {
  return std::visit([](const auto& r) { return ToJson(r); }, body);
}

}  // namespace

const char* CommandTypeName(const CommandBody& body) { return TypeName(body); }
const char* EventTypeName(const EventBody& body) { return TypeName(body); }

std::string EncodeCommand(const Command& command) {
  json j = {{"v", kRecordVersion},
            {"type", CommandTypeName(command.body)},
            {"time", command.time},
            {"data", BodyToJson(command.body)}};
  return j.dump();
}

Result<Command> DecodeCommand(std::string_view payload, std::uint64_t offset) {
  Command command;
  command.offset = offset;
  Status s = DecodeEnvelope(payload, "command", {{"time", &command.time}}, command.body);
  if (!s.ok()) return s;
  return command;
}

std::string EncodeEvent(const Event& event) {
  json j = {{"v", kRecordVersion},
            {"type", EventTypeName(event.body)},
            {"cause", event.seq.cause},
            {"index", event.seq.index},
            {"time", event.time},
            {"data", BodyToJson(event.body)}};
  return j.dump();
}

Result<Event> DecodeEvent(std::string_view payload) {
  Event event;
  std::int64_t cause = 0, index = 0;
  Status s = DecodeEnvelope(payload, "event",
                            {{"cause", &cause}, {"index", &index}, {"time", &event.time}},
                            event.body);
  if (!s.ok()) return s;
  if (cause < 0) return Status::Invalid("event.cause: negative");
  if (index < 0 || index > std::numeric_limits<std::uint32_t>::max())
    return Status::Invalid("event.index: out of range");
  event.seq = Sequence{static_cast<std::uint64_t>(cause), static_cast<std::uint32_t>(index)};
  return event;
}

}  // namespace isucoin::events
