// The records of the two logs (DESIGN.md "The two logs"): commands are every input in the order
// it was accepted; events are every fact the matcher decided. Plain structs; codec.h turns them
// into versioned JSON.
//
// Units: ids are positive int64; `amount` is chairs, `price` yen per chair; times are
// microseconds since the Unix epoch (UTC). Time zones are a presentation concern of the api.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace isucoin::events {

using Id = std::int64_t;
using Micros = std::int64_t;

enum class Side : std::uint8_t { kBuy, kSell };

// ---------------------------------------------------------------------------------------------
// Commands (appended by the api, the importer and the settlement worker)

// Initial dataset (SPEC.md "Initial dataset"): imported once, as the log's genesis.
struct UserImported {
  Id user_id = 0;
  std::string bank_id;
  std::string name;
  std::string password_hash;
  Micros created_at = 0;
  bool operator==(const UserImported&) const = default;
};
struct TradeImported {
  Id trade_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  Micros created_at = 0;
  bool operator==(const TradeImported&) const = default;
};
struct OrderImported {
  Id order_id = 0;
  Side side = Side::kBuy;
  Id user_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  Micros created_at = 0;
  std::optional<Micros> closed_at;
  std::optional<Id> trade_id;
  bool operator==(const OrderImported&) const = default;
};
// Ends the genesis: the state after it is what ResetRequested returns to.
struct GenesisSealed {
  bool operator==(const GenesisSealed&) const = default;
};

// The api checked that the bank account exists and hashed the password.
struct SignupRequested {
  std::string name;
  std::string bank_id;
  std::string password_hash;
  bool operator==(const SignupRequested&) const = default;
};
// The api verified the password against the user's hash (false also when no such user).
struct SigninRecorded {
  std::string bank_id;
  bool password_ok = false;
  bool operator==(const SigninRecorded&) const = default;
};
struct OrderPlaced {
  Id user_id = 0;
  Side side = Side::kBuy;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  bool operator==(const OrderPlaced&) const = default;
};
// The bank's /check refused a buy: recorded so the refusal is logged (SPEC.md `buy.error`).
struct BuyCreditRefused {
  Id user_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  std::string error;
  bool operator==(const BuyCreditRefused&) const = default;
};
struct CancelRequested {
  Id user_id = 0;
  Id order_id = 0;
  bool operator==(const CancelRequested&) const = default;
};
// Outcome of reserving one order of a proposed match at the bank.
struct Reservation {
  Id order_id = 0;
  std::optional<std::int64_t> reserve_id;  // set when the bank reserved
  std::string error;                       // why not, when reserve_id is empty
  bool operator==(const Reservation&) const = default;
};
struct ReservationsReported {
  Id match_id = 0;
  std::vector<Reservation> results;
  bool operator==(const ReservationsReported&) const = default;
};
struct CommitsReported {
  std::vector<Id> trade_ids;
  bool operator==(const CommitsReported&) const = default;
};
// Where the bank and the analytics service are (SPEC.md /initialize): a fact of the log, so
// that every worker following it uses what the last /initialize said.
struct ServiceEndpoints {
  std::string bank_endpoint;
  std::string bank_appid;
  std::string log_endpoint;
  std::string log_appid;
  bool operator==(const ServiceEndpoints&) const = default;
};
struct ResetRequested {
  ServiceEndpoints endpoints;
  bool operator==(const ResetRequested&) const = default;
};
// Never appended by anyone: what the matcher reads in place of a record that does not decode,
// so that a damaged input is answered (CommandRejected) instead of stopping the exchange.
struct MalformedCommand {
  std::string error;
  bool operator==(const MalformedCommand&) const = default;
};

using CommandBody =
    std::variant<UserImported, TradeImported, OrderImported, GenesisSealed, SignupRequested,
                 SigninRecorded, OrderPlaced, BuyCreditRefused, CancelRequested,
                 ReservationsReported, CommitsReported, ResetRequested, MalformedCommand>;

struct Command {
  std::uint64_t offset = 0;  // position in the commands log; assigned by the log, not encoded
  Micros time = 0;           // when the api accepted it; the only clock the matcher sees
  CommandBody body;
  bool operator==(const Command&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Events (appended by the matcher only)

struct GenesisUser {
  Id user_id = 0;
  std::string bank_id;
  std::string name;
  std::string password_hash;
  Micros created_at = 0;
  bool operator==(const GenesisUser&) const = default;
};
struct GenesisTrade {
  Id trade_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  Micros created_at = 0;
  bool operator==(const GenesisTrade&) const = default;
};
struct GenesisOrder {
  Id order_id = 0;
  Side side = Side::kBuy;
  Id user_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  Micros created_at = 0;
  std::optional<Micros> closed_at;
  std::optional<Id> trade_id;
  bool operator==(const GenesisOrder&) const = default;
};
struct GenesisCompleted {
  bool operator==(const GenesisCompleted&) const = default;
};

struct UserRegistered {
  Id user_id = 0;
  std::string bank_id;
  std::string name;
  std::string password_hash;
  bool operator==(const UserRegistered&) const = default;
};
struct SignupRejected {
  std::string bank_id;
  std::string reason;  // "bank_id_taken"
  bool operator==(const SignupRejected&) const = default;
};
struct SigninSucceeded {
  Id user_id = 0;
  std::string bank_id;
  bool operator==(const SigninSucceeded&) const = default;
};
struct SigninFailed {
  std::string bank_id;
  std::int64_t consecutive_failures = 0;
  bool operator==(const SigninFailed&) const = default;
};
// Too many consecutive failures: refused without looking at the password until `until`.
struct SigninBlocked {
  std::string bank_id;
  Micros until = 0;
  bool operator==(const SigninBlocked&) const = default;
};
struct OrderAccepted {
  Id order_id = 0;
  Id user_id = 0;
  Side side = Side::kBuy;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  bool operator==(const OrderAccepted&) const = default;
};
struct BuyRejected {
  Id user_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  std::string error;
  bool operator==(const BuyRejected&) const = default;
};

enum class CancelReason : std::uint8_t { kCanceled, kReserveFailed };
// `request` is the offset of the CancelRequested it answers (absent for automatic cancels).
struct OrderCancelled {
  Id order_id = 0;
  Id user_id = 0;
  Side side = Side::kBuy;
  CancelReason reason = CancelReason::kCanceled;
  std::optional<std::uint64_t> request;
  bool operator==(const OrderCancelled&) const = default;
};
enum class CancelRefusal : std::uint8_t { kNotFound, kNotOwner, kAlreadyClosed };
struct CancelRejected {
  Id order_id = 0;
  Id user_id = 0;
  CancelRefusal reason = CancelRefusal::kNotFound;
  std::uint64_t request = 0;
  bool operator==(const CancelRejected&) const = default;
};
// The order is locked in a match awaiting the bank; the answer follows with the match outcome.
struct CancelDeferred {
  Id order_id = 0;
  Id match_id = 0;
  std::uint64_t request = 0;
  bool operator==(const CancelDeferred&) const = default;
};

struct MatchLeg {
  Id order_id = 0;
  Id user_id = 0;
  std::string bank_id;
  Side side = Side::kBuy;
  std::int64_t amount = 0;
  std::int64_t price = 0;  // the order's limit
  bool operator==(const MatchLeg&) const = default;
};
// Legs are in the order the matcher chose them: the order filled first, then its counterparts.
struct MatchProposed {
  Id match_id = 0;
  std::int64_t price = 0;   // the one trade price for every leg
  std::int64_t amount = 0;  // chairs changing hands (sum of either side)
  std::vector<MatchLeg> legs;
  bool operator==(const MatchProposed&) const = default;
};
enum class AbortReason : std::uint8_t { kReserveFailed, kReset };
struct MatchAborted {
  Id match_id = 0;
  AbortReason reason = AbortReason::kReserveFailed;
  std::vector<std::int64_t> release_reserve_ids;  // reservations to cancel at the bank
  bool operator==(const MatchAborted&) const = default;
};
struct TradeLeg {
  Id order_id = 0;
  Id user_id = 0;
  Side side = Side::kBuy;
  std::int64_t amount = 0;
  std::int64_t reserve_id = 0;
  bool operator==(const TradeLeg&) const = default;
};
struct TradeExecuted {
  Id trade_id = 0;
  Id match_id = 0;
  std::int64_t price = 0;
  std::int64_t amount = 0;
  std::vector<TradeLeg> legs;
  bool operator==(const TradeExecuted&) const = default;
};
struct TradeSettled {
  Id trade_id = 0;
  bool operator==(const TradeSettled&) const = default;
};
struct ExchangeReset {
  ServiceEndpoints endpoints;
  bool operator==(const ExchangeReset&) const = default;
};
// A command the matcher could not apply (invalid values, unknown user, import after genesis).
// Nothing changed.
struct CommandRejected {
  std::string reason;
  bool operator==(const CommandRejected&) const = default;
};

using EventBody =
    std::variant<GenesisUser, GenesisTrade, GenesisOrder, GenesisCompleted, UserRegistered,
                 SignupRejected, SigninSucceeded, SigninFailed, SigninBlocked, OrderAccepted,
                 BuyRejected, OrderCancelled, CancelRejected, CancelDeferred, MatchProposed,
                 MatchAborted, TradeExecuted, TradeSettled, ExchangeReset, CommandRejected>;

// (cause, index) is the event's sequence: consumers apply an event only when its sequence is
// above the last one they applied, which makes re-delivery harmless (DESIGN.md exactly-once).
struct Sequence {
  std::uint64_t cause = 0;  // offset of the command that produced the event
  std::uint32_t index = 0;  // position among that command's events
  auto operator<=>(const Sequence&) const = default;
};

struct Event {
  Sequence seq;
  Micros time = 0;  // the causing command's time: when the fact happened
  EventBody body;
  bool operator==(const Event&) const = default;
};

// Limits enforced everywhere a number enters the exchange. With both at 10^9 the value of any
// trade (amount × price, summed over a side) stays below 2^63 - 1 ≈ 9.2 × 10^18.
inline constexpr std::int64_t kMaxAmount = 1'000'000'000;
inline constexpr std::int64_t kMaxPrice = 1'000'000'000;

const char* SideName(Side side);  // "buy" / "sell"

}  // namespace isucoin::events
