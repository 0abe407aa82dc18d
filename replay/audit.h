// Audit (DESIGN.md "Replay and audit"): checks the logs of a stopped (or running) exchange.
//
//  1. Re-run: a fresh Exchange re-applies the commands log; its output must equal the events
//     log record by record (re-delivered duplicates — a sequence not above the last — are
//     allowed and counted). The FIRST divergence is reported with its events-log offset and
//     both records; then missing records (the matcher's output that the log lacks, for
//     commands the log shows as processed) and extra ones (records no command explains).
//     Since the matcher is deterministic and its rules (MATCHING.md) include price-time
//     priority, an equal re-run proves every match followed priority: priority is covered
//     here, not re-derived in (2).
//  2. Trading rules from the events alone, on every TradeExecuted, with its MatchProposed and
//     the OrderAccepted/GenesisOrder of each leg: one price within every limit, the trade's
//     amount equals the sum on both sides and every leg is its whole order (all-or-nothing),
//     one order alone on its side (or both single), every order open when it traded, traded
//     at most once and never both traded and cancelled.
//  3. Settlement: every TradeExecuted has its TradeSettled, unless younger than
//     `pending_grace` at the end of the log (then "pending"); per-user sums of settled trades
//     equal the balances read model (projections::ReadModel::BalanceOf); with the bank's
//     records, every trade's reservations committed exactly once and no reservation of a
//     MatchAborted left pending past the grace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/log.h"
#include "events/records.h"
#include "events/status.h"

namespace isucoin::replay {

struct Finding {
  std::string kind;                     // e.g. "divergence", "trade_price_outside_limit"
  std::optional<std::uint64_t> offset;  // events-log offset it is about
  std::string details;
  std::string expected;  // JSON record (divergence) or value
  std::string found;
};

// What the bank says about one reservation (tools/isusim /admin/reservations).
struct BankReservation {
  std::int64_t reserve_id = 0;
  std::string state;  // "pending", "committed", "cancelled"
  int commits = 0;    // how many times it was committed
  events::Micros created_at = 0;
};

struct AuditOptions {
  events::Micros pending_grace = 5LL * 60 * 1'000'000;
  int utc_offset_seconds = 9 * 3600;
  // The bank's records when reachable; the bank checks are skipped otherwise.
  std::optional<std::vector<BankReservation>> bank;
  // Reference time for "pending past the grace" against the bank (default: last event time).
  std::optional<events::Micros> now;
  std::size_t max_findings = 1000;  // beyond this, findings are counted, not kept
};

struct AuditReport {
  std::vector<Finding> findings;
  std::uint64_t findings_total = 0;
  std::uint64_t commands = 0;
  std::uint64_t events = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t unprocessed_commands = 0;  // commands after the last event's cause
  std::uint64_t trades = 0;
  std::uint64_t trades_settled = 0;
  std::uint64_t trades_pending = 0;  // unsettled but younger than the grace
  bool bank_checked = false;
  bool clean() const { return findings_total == 0; }
  std::string ToJson() const;
  std::string Summary() const;
};

Result<AuditReport> Audit(events::Log& commands, events::Log& events,
                          const AuditOptions& options = {});

}  // namespace isucoin::replay
