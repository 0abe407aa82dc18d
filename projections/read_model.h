// ReadModel: the events log folded into what the API serves (DESIGN.md "Read models").
// A plain value: fed events by one thread, tested without threads or sockets, copyable (the
// genesis copy is what ExchangeReset returns to). LiveReadModel (live_read_model.h) shares it
// with the API threads.
//
// Visibility (SPEC.md "Trading rules"): a trade is shown to clients — in the orders lists, in
// traded_orders and in the charts — only once it is settled (TradeSettled: its bank commit
// succeeded). Until then its orders still look open.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "events/applied_sequence.h"
#include "events/records.h"
#include "events/status.h"

namespace isucoin::projections {

using events::Id;
using events::Micros;
using events::Side;

struct UserView {
  Id id = 0;
  std::string bank_id;
  std::string name;
  std::string password_hash;
  Micros created_at = 0;
};

struct TradeView {
  Id id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  Micros created_at = 0;
};

struct OrderView {
  Id id = 0;
  Side side = Side::kBuy;
  Id user_id = 0;
  std::int64_t amount = 0;
  std::int64_t price = 0;
  Micros created_at = 0;
  std::optional<Micros> closed_at;  // set when cancelled or (visibly) traded
  std::optional<Id> trade_id;       // set once the trade is settled
  bool cancelled = false;
};

struct Candle {
  Micros time = 0;  // start of the bucket (UTC µs)
  std::int64_t open = 0, close = 0, high = 0, low = 0;
  Id first_trade = 0, last_trade = 0;  // open/close follow trade ids, not arrival order
};

// Per-user money and chairs, in the units of SPEC.md.
struct Balance {
  std::int64_t chairs_bought = 0;        // settled
  std::int64_t chairs_sold = 0;          // settled
  std::int64_t yen_paid = 0;             // settled buys, amount × price
  std::int64_t yen_received = 0;         // settled sells
  std::int64_t open_buy_exposure = 0;    // open (or locked) buy orders, amount × limit
  std::int64_t awaiting_settlement = 0;  // executed trades not yet settled, amount × price
};

enum class ChartResolution { kSecond, kMinute, kHour };

class ReadModel {
 public:
  explicit ReadModel(int utc_offset_seconds = 9 * 3600) : utc_offset_(utc_offset_seconds) {}

  // Applies one event; an event whose sequence is not above the last applied is ignored
  // (exactly-once, DESIGN.md). Returns whether it was applied.
  bool Apply(const events::Event& event);
  std::optional<events::Sequence> last_applied() const { return applied_.last(); }

  // ---- users
  const UserView* FindUser(Id id) const;
  const UserView* FindUserByBankId(const std::string& bank_id) const;

  // ---- orders (SPEC.md GET /orders): the user's orders except cancelled ones, oldest first.
  std::vector<OrderView> OrdersOf(Id user_id) const;
  // The user's orders whose settled trade id is in (trade_cursor, up_to], by trade id then
  // order id; up_to defaults to settled_cursor(). /info passes the cursor it answers with, so
  // that every trade between the two cursors is returned once.
  std::vector<OrderView> TradedOrdersSince(Id user_id, Id trade_cursor,
                                           std::optional<Id> up_to = std::nullopt) const;
  const OrderView* FindOrder(Id id) const;
  std::optional<TradeView> FindTrade(Id id) const;  // settled (or genesis) trades only

  // ---- market
  // The highest trade id T such that every trade up to T is settled: /info's cursor. Trades
  // settle out of order; a cursor past an unsettled trade would hide it from traded_orders.
  Id settled_cursor() const { return settled_cursor_; }
  // Best open orders: those that can still trade with a newcomer (not locked in a match).
  std::optional<std::int64_t> lowest_sell_price() const;
  std::optional<std::int64_t> highest_buy_price() const;
  // Candles of one resolution for SPEC.md's window: ending at the bucket of the latest
  // settled trade, reaching back 300 s / 300 min / 48 h; oldest first.
  std::vector<Candle> Chart(ChartResolution resolution) const;

  // ---- per user
  Balance BalanceOf(Id user_id) const;

  // Where the bank and the logger are, as the latest /initialize said (empty before any).
  const events::ServiceEndpoints& endpoints() const { return endpoints_; }

  std::size_t user_count() const { return users_.size(); }
  std::size_t order_count() const { return orders_.size(); }
  int utc_offset_seconds() const { return utc_offset_; }
  std::size_t settled_trade_count() const { return trades_.size(); }   // settled + genesis
  std::size_t unsettled_trade_count() const { return executed_.size(); }
  std::optional<TradeView> latest_trade() const { return FindTrade(latest_trade_); }

  // ---- snapshots (replay/snapshot_file.h)
  // The whole state (genesis copy included) as canonical bytes: equal states give equal
  // bytes (hash containers are written in key order). Deserialize(Serialize()) is the same
  // model, and applying the same events to both keeps them equal.
  std::string Serialize() const;
  static Result<ReadModel> Deserialize(std::string_view bytes);
  // FNV-1a 64 of Serialize().
  std::uint64_t StateDigest() const;

 private:
  struct ExecutedTrade {
    events::TradeExecuted trade;
    Micros time = 0;
  };

  void On(const events::Event& e, const events::GenesisUser& x);
  void On(const events::Event& e, const events::GenesisTrade& x);
  void On(const events::Event& e, const events::GenesisOrder& x);
  void On(const events::Event& e, const events::GenesisCompleted& x);
  void On(const events::Event& e, const events::UserRegistered& x);
  void On(const events::Event& e, const events::OrderAccepted& x);
  void On(const events::Event& e, const events::OrderCancelled& x);
  void On(const events::Event& e, const events::MatchProposed& x);
  void On(const events::Event& e, const events::MatchAborted& x);
  void On(const events::Event& e, const events::TradeExecuted& x);
  void On(const events::Event& e, const events::TradeSettled& x);
  void On(const events::Event& e, const events::ExchangeReset& x);
  template <typename T>
  void On(const events::Event&, const T&) {}  // facts with nothing to show

  void ShowTrade(const TradeView& trade);  // a settled or genesis trade enters the charts
  void AdvanceSettledCursor();
  void AddToBook(const OrderView& o);       // open: best prices and buy exposure
  void RemoveFromBook(const OrderView& o);
  void CountOpen(const OrderView& o, int delta);  // best prices only
  Micros BucketStart(Micros t, ChartResolution r) const;
  void SerializeTo(std::string& out) const;
  class Reader;
  Status DeserializeFrom(Reader& in);

  int utc_offset_;
  events::AppliedSequence applied_;
  std::unordered_map<Id, UserView> users_;
  std::unordered_map<std::string, Id> user_by_bank_;
  std::unordered_map<Id, OrderView> orders_;
  std::unordered_map<Id, std::vector<Id>> orders_by_user_;         // order ids, ascending
  std::unordered_map<Id, std::map<Id, std::vector<Id>>> traded_by_user_;  // trade id -> orders
  std::map<Id, TradeView> trades_;                                 // settled + genesis
  std::map<Id, ExecutedTrade> executed_;                           // executed, not yet settled
  std::map<Id, bool> trade_settled_;                               // every trade id ever seen
  std::set<Id> unsettled_;
  Id settled_cursor_ = 0;
  // Best prices count open orders only, as the matcher does: an order locked in a match
  // (awaiting the bank) cannot trade with anyone else; it counts again if the match aborts.
  std::map<std::int64_t, std::int64_t> open_sells_;  // price -> order count
  std::map<std::int64_t, std::int64_t> open_buys_;
  std::map<Id, std::vector<Id>> matches_;           // pending match -> leg order ids
  std::unordered_set<Id> locked_;                   // orders in a pending match
  std::map<Micros, Candle> candles_[3];
  Id latest_trade_ = 0;  // the latest shown trade (by id), whose bucket ends the chart window
  Micros latest_trade_time_ = 0;
  std::unordered_map<Id, Balance> balances_;
  events::ServiceEndpoints endpoints_;
  // The genesis, what ExchangeReset returns to. Shared between copies: it never changes once
  // GenesisCompleted is applied.
  std::shared_ptr<const ReadModel> genesis_;
};

}  // namespace isucoin::projections
