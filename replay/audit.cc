#include "replay/audit.h"

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "commands/exchange.h"
#include "events/codec.h"
#include "projections/read_model.h"
#include "events/fast_decode.h"

namespace isucoin::replay {

using namespace isucoin::events;

namespace {

constexpr std::size_t kBatch = 4096;

struct Sums {
  std::int64_t chairs_bought = 0, chairs_sold = 0, yen_paid = 0, yen_received = 0;
};

class Auditor {
 public:
  Auditor(Log& commands, Log& events, const AuditOptions& options)
      : commands_(commands), events_(events), options_(options),
        model_(options.utc_offset_seconds) {}

  Result<AuditReport> Run() {
    const Offset end = events_.End();
    report_.commands = commands_.End();
    std::optional<Sequence> last_seq;
    for (Offset at = 0; at < end;) {
      auto batch = events_.Read(at, std::min<std::uint64_t>(kBatch, end - at));
      if (!batch.ok()) return batch.status();
      if (batch.value().empty()) return Status::Corruption("events log: gap at offset " + std::to_string(at));
      for (const LogRecord& record : batch.value()) {
        ++report_.events;
        auto decoded = events::DecodeEventFast(record.payload);
        if (!decoded.ok()) {
          if (!diverged_) {
            Diverge(record.offset, NextExpectedJson(), record.payload,
                    "record does not decode: " + decoded.status().message());
          } else {
            Add("undecodable_record", record.offset, decoded.status().message(), "", record.payload);
          }
          continue;
        }
        const Event& e = decoded.value();
        if (last_seq && e.seq <= *last_seq) {
          ++report_.duplicates;  // re-delivery: harmless by the exactly-once rule
          continue;
        }
        last_seq = e.seq;
        last_time_ = e.time;
        if (!diverged_) {
          if (Status s = Fill(); !s.ok()) return s;
          if (expected_.empty()) {
            Diverge(record.offset, "", record.payload, "extra record: no command explains it");
          } else if (!(expected_.front() == e)) {
            Diverge(record.offset, EncodeEvent(expected_.front()), record.payload,
                    "the re-run matcher produced a different record here");
          } else {
            expected_.pop_front();
          }
        }
        CheckRules(record.offset, e);
        model_.Apply(e);
      }
      at += batch.value().size();
    }
    if (Status s = Finish(last_seq); !s.ok()) return s;
    return std::move(report_);
  }

 private:
  struct OrderState {
    Side side = Side::kBuy;
    Id user = 0;
    std::int64_t amount = 0, price = 0;
    enum { kOpen, kTraded, kCancelled } state = kOpen;
  };
  struct TradeState {
    TradeExecuted trade;
    Micros time = 0;
    Offset offset = 0;
    bool settled = false;
  };

  void Add(std::string kind, std::optional<Offset> offset, std::string details,
           std::string expected = "", std::string found = "") {
    ++report_.findings_total;
    if (report_.findings.size() >= options_.max_findings) return;
    report_.findings.push_back(Finding{std::move(kind), offset, std::move(details),
                                       std::move(expected), std::move(found)});
  }

  void Diverge(Offset offset, std::string expected, std::string found, std::string details) {
    diverged_ = true;
    Add("divergence", offset, "first divergence between the events log and a re-run of the "
                              "commands log: " + details,
        std::move(expected), std::move(found));
  }

  std::string NextExpectedJson() {
    if (!Fill().ok() || expected_.empty()) return "";
    return EncodeEvent(expected_.front());
  }

  // Makes expected_ non-empty unless the commands log is exhausted.
  Status Fill() {
    while (expected_.empty()) {
      if (pos_ == buffer_.size()) {
        buffer_.clear();
        pos_ = 0;
        auto batch = commands_.Read(next_command_, kBatch);
        if (!batch.ok()) return batch.status();
        if (batch.value().empty()) return Status::Ok();
        buffer_ = std::move(batch).value();
      }
      const LogRecord& record = buffer_[pos_++];
      ++next_command_;
      auto decoded = events::DecodeCommandFast(record.payload, record.offset);
      Command cmd = decoded.ok() ? std::move(decoded).value()
                                 : Command{record.offset, 0, MalformedCommand{decoded.status().message()}};
      scratch_.clear();
      exchange_.apply(cmd, scratch_);
      for (Event& e : scratch_) expected_.push_back(std::move(e));
    }
    return Status::Ok();
  }

  void CheckRules(Offset offset, const Event& e) {
    if (auto* x = std::get_if<GenesisTrade>(&e.body)) {
      genesis_trade_price_[x->trade_id] = x->price;
    } else if (auto* x = std::get_if<GenesisOrder>(&e.body)) {
      OrderState o{x->side, x->user_id, x->amount, x->price, OrderState::kOpen};
      if (x->closed_at) o.state = x->trade_id ? OrderState::kTraded : OrderState::kCancelled;
      orders_[x->order_id] = o;
      if (x->trade_id) {
        auto price = genesis_trade_price_.find(*x->trade_id);
        if (price != genesis_trade_price_.end()) AddSums(x->user_id, x->side, x->amount, price->second);
      }
    } else if (std::holds_alternative<GenesisCompleted>(e.body)) {
      genesis_orders_ = orders_;
      genesis_sums_ = sums_;
    } else if (auto* x = std::get_if<OrderAccepted>(&e.body)) {
      if (orders_.count(x->order_id) || ever_orders_.count(x->order_id)) {
        Add("order_id_reused", offset, "order " + std::to_string(x->order_id) + " accepted twice");
      }
      orders_[x->order_id] = OrderState{x->side, x->user_id, x->amount, x->price, OrderState::kOpen};
      ever_orders_.insert(x->order_id);
    } else if (auto* x = std::get_if<OrderCancelled>(&e.body)) {
      auto it = orders_.find(x->order_id);
      if (it == orders_.end()) {
        Add("cancel_of_unknown_order", offset, "order " + std::to_string(x->order_id));
      } else if (it->second.state == OrderState::kTraded) {
        Add("cancelled_after_trade", offset, "order " + std::to_string(x->order_id) + " was traded, then cancelled");
      } else if (it->second.state == OrderState::kCancelled) {
        Add("cancelled_twice", offset, "order " + std::to_string(x->order_id));
      } else {
        it->second.state = OrderState::kCancelled;
      }
    } else if (auto* x = std::get_if<MatchProposed>(&e.body)) {
      matches_[x->match_id] = *x;
    } else if (auto* x = std::get_if<MatchAborted>(&e.body)) {
      matches_.erase(x->match_id);
      for (std::int64_t r : x->release_reserve_ids) released_.push_back({r, e.time});
    } else if (auto* x = std::get_if<TradeExecuted>(&e.body)) {
      CheckTrade(offset, *x);
      ++report_.trades;
      if (trades_.count(x->trade_id) || discarded_.count(x->trade_id)) {
        Add("trade_id_reused", offset, "trade " + std::to_string(x->trade_id));
      }
      trades_[x->trade_id] = TradeState{*x, e.time, offset, false};
    } else if (auto* x = std::get_if<TradeSettled>(&e.body)) {
      auto it = trades_.find(x->trade_id);
      if (it == trades_.end()) {
        if (!discarded_.count(x->trade_id)) {
          Add("settled_unknown_trade", offset, "trade " + std::to_string(x->trade_id) + " was never executed");
        }
      } else if (it->second.settled) {
        Add("settled_twice", offset, "trade " + std::to_string(x->trade_id));
      } else {
        it->second.settled = true;
        ++report_.trades_settled;
        for (const TradeLeg& leg : it->second.trade.legs) AddSums(leg.user_id, leg.side, leg.amount, it->second.trade.price);
      }
    } else if (std::holds_alternative<ExchangeReset>(e.body)) {
      orders_ = genesis_orders_;
      sums_ = genesis_sums_;
      matches_.clear();
      for (auto& [id, t] : trades_) {
        if (!t.settled) discarded_.insert(id);
      }
      // Settled trades before the reset stay checked for the bank; they leave the balances.
      for (auto& [id, t] : trades_) {
        if (t.settled) settled_before_reset_.push_back(t.trade);
      }
      trades_.clear();
    }
  }

  void CheckTrade(Offset offset, const TradeExecuted& t) {
    const std::string name = "trade " + std::to_string(t.trade_id);
    auto match = matches_.find(t.match_id);
    if (match == matches_.end()) {
      Add("trade_without_match", offset, name + ": no pending MatchProposed " + std::to_string(t.match_id));
    } else {
      if (match->second.price != t.price) {
        Add("trade_price_differs_from_match", offset, name, std::to_string(match->second.price), std::to_string(t.price));
      }
      std::multiset<Id> proposed, traded;
      for (const MatchLeg& l : match->second.legs) proposed.insert(l.order_id);
      for (const TradeLeg& l : t.legs) traded.insert(l.order_id);
      if (proposed != traded) Add("trade_legs_differ_from_match", offset, name);
      matches_.erase(match);
    }
    std::int64_t buys = 0, sells = 0, nbuy = 0, nsell = 0;
    std::unordered_set<Id> seen;
    for (const TradeLeg& leg : t.legs) {
      const std::string order = name + ", order " + std::to_string(leg.order_id);
      if (!seen.insert(leg.order_id).second) Add("order_twice_in_trade", offset, order);
      (leg.side == Side::kBuy ? buys : sells) += leg.amount;
      (leg.side == Side::kBuy ? nbuy : nsell) += 1;
      auto it = orders_.find(leg.order_id);
      if (it == orders_.end()) {
        Add("trade_of_unknown_order", offset, order);
        continue;
      }
      OrderState& o = it->second;
      if (o.side != leg.side || o.user != leg.user_id) Add("trade_leg_mismatch", offset, order + ": side or user differs from the order");
      if (o.amount != leg.amount) {
        Add("partial_fill", offset, order + ": all-or-nothing broken", std::to_string(o.amount), std::to_string(leg.amount));
      }
      if (o.state == OrderState::kTraded) Add("order_traded_twice", offset, order);
      if (o.state == OrderState::kCancelled) Add("traded_after_cancel", offset, order);
      const bool within = o.side == Side::kBuy ? t.price <= o.price : t.price >= o.price;
      if (!within) {
        Add("trade_price_outside_limit", offset,
            order + " (" + SideName(o.side) + " limit " + std::to_string(o.price) + ")",
            std::string(o.side == Side::kBuy ? "<= " : ">= ") + std::to_string(o.price), std::to_string(t.price));
      }
      o.state = OrderState::kTraded;
    }
    if (buys != t.amount || sells != t.amount) {
      Add("amounts_do_not_sum", offset,
          name + ": buy legs " + std::to_string(buys) + ", sell legs " + std::to_string(sells),
          std::to_string(t.amount), std::to_string(buys) + "/" + std::to_string(sells));
    }
    if (nbuy == 0 || nsell == 0) Add("one_sided_trade", offset, name);
    else if (nbuy != 1 && nsell != 1) Add("many_to_many_trade", offset, name + ": no order alone on its side");
  }

  void AddSums(Id user, Side side, std::int64_t amount, std::int64_t price) {
    Sums& s = sums_[user];
    if (side == Side::kBuy) {
      s.chairs_bought += amount;
      s.yen_paid += amount * price;
    } else {
      s.chairs_sold += amount;
      s.yen_received += amount * price;
    }
  }

  Status Finish(const std::optional<Sequence>& last_seq) {
    // Missing output of commands the log shows as processed; the rest is matcher lag.
    if (!diverged_) {
      if (Status s = Fill(); !s.ok()) return s;
      std::uint64_t missing = 0;
      std::string first;
      while (!expected_.empty() && last_seq && expected_.front().seq.cause <= last_seq->cause) {
        if (missing++ == 0) first = EncodeEvent(expected_.front());
        expected_.pop_front();
        if (Status s = Fill(); !s.ok()) return s;
      }
      if (missing > 0) {
        Add("missing_records", events_.End(),
            std::to_string(missing) + " record(s) the re-run produced for processed commands are "
            "not in the events log; the first is expected here", first, "");
      } else if (!last_seq && !expected_.empty()) {
        // an empty events log with commands: all unprocessed
      }
    }
    const std::uint64_t processed = last_seq ? last_seq->cause + 1 : 0;
    report_.unprocessed_commands = report_.commands > processed ? report_.commands - processed : 0;

    // Settlement.
    for (const auto& [id, t] : trades_) {
      if (t.settled) continue;
      if (last_time_ - t.time > options_.pending_grace) {
        Add("trade_unsettled", t.offset,
            "trade " + std::to_string(id) + " executed " +
                std::to_string((last_time_ - t.time) / 1'000'000) +
                " s before the end of the log and never settled");
      } else {
        ++report_.trades_pending;
      }
    }
    // Per-user sums of settled trades against the balances read model.
    for (const auto& [user, s] : sums_) {
      const projections::Balance b = model_.BalanceOf(user);
      if (b.chairs_bought != s.chairs_bought || b.chairs_sold != s.chairs_sold ||
          b.yen_paid != s.yen_paid || b.yen_received != s.yen_received) {
        auto fmt = [](std::int64_t a, std::int64_t b2, std::int64_t c, std::int64_t d) {
          return "bought " + std::to_string(a) + " sold " + std::to_string(b2) + " paid " +
                 std::to_string(c) + " received " + std::to_string(d);
        };
        Add("balance_mismatch", std::nullopt, "user " + std::to_string(user),
            fmt(s.chairs_bought, s.chairs_sold, s.yen_paid, s.yen_received),
            fmt(b.chairs_bought, b.chairs_sold, b.yen_paid, b.yen_received));
      }
    }
    if (options_.bank) CheckBank(*options_.bank);
    return Status::Ok();
  }

  void CheckBank(const std::vector<BankReservation>& bank) {
    report_.bank_checked = true;
    std::unordered_map<std::int64_t, const BankReservation*> by_id;
    for (const auto& r : bank) by_id[r.reserve_id] = &r;
    auto check_trade = [&](const TradeExecuted& t, std::optional<Offset> offset) {
      for (const TradeLeg& leg : t.legs) {
        auto it = by_id.find(leg.reserve_id);
        const std::string name = "trade " + std::to_string(t.trade_id) + ", reservation " + std::to_string(leg.reserve_id);
        if (it == by_id.end()) {
          Add("bank_reservation_unknown", offset, name + ": the bank has no such reservation");
        } else if (it->second->state != "committed" || it->second->commits != 1) {
          Add("bank_commit_not_exactly_once", offset, name, "committed once",
              it->second->state + " (" + std::to_string(it->second->commits) + " commits)");
        }
      }
    };
    for (const auto& [id, t] : trades_) {
      if (t.settled) check_trade(t.trade, t.offset);
    }
    for (const auto& t : settled_before_reset_) check_trade(t, std::nullopt);
    const Micros now = options_.now.value_or(last_time_);
    for (const auto& [reserve_id, time] : released_) {
      auto it = by_id.find(reserve_id);
      if (it != by_id.end() && it->second->state == "pending" && now - time > options_.pending_grace) {
        Add("bank_reservation_left_pending", std::nullopt,
            "reservation " + std::to_string(reserve_id) + " of an aborted match is still pending");
      }
    }
  }

  Log& commands_;
  Log& events_;
  const AuditOptions& options_;
  AuditReport report_;

  commands::Exchange exchange_;
  std::vector<LogRecord> buffer_;
  std::size_t pos_ = 0;
  Offset next_command_ = 0;
  std::vector<Event> scratch_;
  std::deque<Event> expected_;
  bool diverged_ = false;
  Micros last_time_ = 0;

  std::unordered_map<Id, OrderState> orders_, genesis_orders_;
  std::unordered_set<Id> ever_orders_;
  std::unordered_map<Id, std::int64_t> genesis_trade_price_;
  std::unordered_map<Id, MatchProposed> matches_;
  std::map<Id, TradeState> trades_;
  std::unordered_set<Id> discarded_;
  std::vector<TradeExecuted> settled_before_reset_;
  std::vector<std::pair<std::int64_t, Micros>> released_;
  std::map<Id, Sums> sums_, genesis_sums_;
  projections::ReadModel model_;
};

}  // namespace

Result<AuditReport> Audit(Log& commands, Log& events, const AuditOptions& options) {
  return Auditor(commands, events, options).Run();
}

std::string AuditReport::ToJson() const {
  nlohmann::json j;
  j["clean"] = clean();
  j["findings_total"] = findings_total;
  j["commands"] = commands;
  j["events"] = events;
  j["duplicates"] = duplicates;
  j["unprocessed_commands"] = unprocessed_commands;
  j["trades"] = trades;
  j["trades_settled"] = trades_settled;
  j["trades_pending"] = trades_pending;
  j["bank_checked"] = bank_checked;
  j["findings"] = nlohmann::json::array();
  for (const Finding& f : findings) {
    nlohmann::json x;
    x["kind"] = f.kind;
    x["offset"] = f.offset ? nlohmann::json(*f.offset) : nlohmann::json(nullptr);
    x["details"] = f.details;
    x["expected"] = f.expected;
    x["found"] = f.found;
    j["findings"].push_back(std::move(x));
  }
  return j.dump(2) + "\n";
}

std::string AuditReport::Summary() const {
  std::string s = "audit: " + std::to_string(commands) + " commands, " + std::to_string(events) +
                  " events (" + std::to_string(duplicates) + " duplicates), " +
                  std::to_string(trades) + " trades (" + std::to_string(trades_settled) +
                  " settled, " + std::to_string(trades_pending) + " pending), " +
                  std::to_string(unprocessed_commands) + " commands not yet processed, bank " +
                  (bank_checked ? "checked" : "not checked") + "\n";
  if (clean()) return s + "CLEAN: no findings\n";
  s += std::to_string(findings_total) + " FINDING(S):\n";
  for (const Finding& f : findings) {
    s += "  - " + f.kind + (f.offset ? " at events offset " + std::to_string(*f.offset) : "") +
         ": " + f.details + "\n";
    if (!f.expected.empty()) s += "      expected: " + f.expected + "\n";
    if (!f.found.empty()) s += "      found:    " + f.found + "\n";
  }
  if (findings.size() < findings_total) {
    s += "  ... and " + std::to_string(findings_total - findings.size()) + " more\n";
  }
  return s;
}

}  // namespace isucoin::replay
