#include "effects/settlement_ledger.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <type_traits>

namespace isucoin::effects {

using events::Event;
using nlohmann::json;

void SettlementActions::Merge(SettlementActions&& other) {
  auto move_all = [](auto& into, auto& from) {
    into.insert(into.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
  };
  move_all(reserve, other.reserve);
  move_all(commit, other.commit);
  move_all(release, other.release);
  move_all(report_reservations, other.report_reservations);
  move_all(report_commits, other.report_commits);
}

std::int64_t BankPrice(const events::MatchLeg& leg, std::int64_t match_price) {
  const std::int64_t value = leg.amount * match_price;
  return leg.side == events::Side::kBuy ? -value : value;
}

void SettlementLedger::SetBank(std::string endpoint, std::string appid) {
  if (!endpoint.empty()) bank_endpoint_ = std::move(endpoint);
  if (!appid.empty()) bank_appid_ = std::move(appid);
}

SettlementActions SettlementLedger::Apply(const Event& event) {
  SettlementActions out;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, events::MatchProposed>) {
          if (matches_.count(body.match_id) != 0) return;
          PendingMatch& m = matches_[body.match_id];
          m.proposal = body;
          m.proposed_at = event.time;
          m.results.assign(body.legs.size(), std::nullopt);
          for (std::size_t i = 0; i < body.legs.size(); ++i) {
            const events::MatchLeg& leg = body.legs[i];
            out.reserve.push_back(LegToReserve{body.match_id, i, leg.order_id, leg.bank_id,
                                               BankPrice(leg, body.price)});
          }
        } else if constexpr (std::is_same_v<T, events::MatchAborted>) {
          std::set<ReserveId> release(body.release_reserve_ids.begin(),
                                      body.release_reserve_ids.end());
          auto it = matches_.find(body.match_id);
          if (it != matches_.end()) {
            // A reset aborts with nothing to release even when we had reserved (and maybe
            // reported): whatever we hold for the match is released here, and legs still at
            // the bank are released when they come back (OnLegReserved).
            for (const auto& r : it->second.results) {
              if (r && r->reserve_id) release.insert(*r->reserve_id);
            }
            matches_.erase(it);
          }
          for (ReserveId id : release) {
            if (releases_.insert(id).second) out.release.push_back(id);
          }
        } else if constexpr (std::is_same_v<T, events::TradeExecuted>) {
          if (trades_.count(body.trade_id) != 0) return;
          UnsettledTrade& t = trades_[body.trade_id];
          t.trade_id = body.trade_id;
          t.epoch = epoch_;
          t.reserved_since = event.time;
          for (const auto& leg : body.legs) {
            t.reserve_ids.push_back(leg.reserve_id);
            t.uncommitted.insert(leg.reserve_id);
          }
          auto it = matches_.find(body.match_id);
          if (it != matches_.end()) {
            // Reservations were made after the proposal, so none is older than it.
            t.reserved_since = it->second.proposed_at;
            // After a restart the match may have been reported twice with different
            // reservations; the matcher used the first report, ours of the other are spare.
            for (const auto& r : it->second.results) {
              if (r && r->reserve_id && t.uncommitted.count(*r->reserve_id) == 0 &&
                  releases_.insert(*r->reserve_id).second) {
                out.release.push_back(*r->reserve_id);
              }
            }
            matches_.erase(it);
          }
          out.commit.push_back(TradeToCommit{t.trade_id, t.reserve_ids, t.reserved_since});
        } else if constexpr (std::is_same_v<T, events::TradeSettled>) {
          trades_.erase(body.trade_id);
        } else if constexpr (std::is_same_v<T, events::ExchangeReset>) {
          if (!body.endpoints.bank_endpoint.empty() || !body.endpoints.bank_appid.empty()) {
            SetBank(body.endpoints.bank_endpoint, body.endpoints.bank_appid);
            bank_from_log_ = true;
          }
          ++epoch_;
          // The matcher forgot every trade of the discarded history: none of them will ever
          // be settled, so those already reported are done. Those still committing finish
          // (the bank was promised them) but their report will be ignored.
          std::erase_if(trades_, [](const auto& kv) {
            return kv.second.phase == TradePhase::kReported;
          });
        }
      },
      event.body);
  return out;
}

SettlementActions SettlementLedger::OnLegReserved(Id match_id, std::size_t leg_index,
                                                  events::Reservation result) {
  SettlementActions out;
  auto it = matches_.find(match_id);
  if (it == matches_.end() || leg_index >= it->second.results.size() ||
      it->second.results[leg_index].has_value()) {
    // The match ended while this leg was at the bank: nobody will use the reservation.
    if (result.reserve_id && releases_.insert(*result.reserve_id).second) {
      out.release.push_back(*result.reserve_id);
    }
    return out;
  }
  PendingMatch& m = it->second;
  m.results[leg_index] = std::move(result);
  if (std::all_of(m.results.begin(), m.results.end(), [](const auto& r) { return r.has_value(); })) {
    m.phase = MatchPhase::kReporting;
    events::ReservationsReported report{match_id, {}};
    for (const auto& r : m.results) report.results.push_back(*r);
    out.report_reservations.push_back(std::move(report));
  }
  return out;
}

void SettlementLedger::OnReservationsReported(const std::vector<Id>& match_ids) {
  for (Id id : match_ids) {
    auto it = matches_.find(id);
    if (it != matches_.end() && it->second.phase == MatchPhase::kReporting) {
      it->second.phase = MatchPhase::kReported;
    }
  }
}

bool SettlementLedger::IsTradeUncommitted(Id trade_id, ReserveId reserve_id) const {
  auto it = trades_.find(trade_id);
  return it != trades_.end() && it->second.uncommitted.count(reserve_id) != 0;
}

SettlementActions SettlementLedger::OnCommitted(Id trade_id,
                                                const std::vector<ReserveId>& reserve_ids) {
  SettlementActions out;
  auto it = trades_.find(trade_id);
  if (it == trades_.end()) return out;
  UnsettledTrade& t = it->second;
  for (ReserveId id : reserve_ids) t.uncommitted.erase(id);
  if (t.uncommitted.empty() && t.phase == TradePhase::kCommitting) {
    if (t.incident) {
      trades_.erase(it);  // never reported as paid; the incident was logged by the worker
    } else {
      t.phase = TradePhase::kReporting;
      out.report_commits.push_back(trade_id);
    }
  }
  return out;
}

bool SettlementLedger::OnCommitIncident(Id trade_id, ReserveId reserve_id) {
  auto it = trades_.find(trade_id);
  if (it == trades_.end()) return false;
  UnsettledTrade& t = it->second;
  t.incident = true;
  t.uncommitted.erase(reserve_id);
  if (t.uncommitted.empty()) {
    trades_.erase(it);
    return true;
  }
  return false;
}

void SettlementLedger::OnCommitsReported(const std::vector<Id>& trade_ids) {
  for (Id id : trade_ids) {
    auto it = trades_.find(id);
    if (it == trades_.end() || it->second.phase != TradePhase::kReporting) continue;
    if (it->second.epoch < epoch_) {
      trades_.erase(it);  // executed before a reset: the matcher will never settle it
    } else {
      it->second.phase = TradePhase::kReported;
    }
  }
}

void SettlementLedger::OnReleased(const std::vector<ReserveId>& reserve_ids) {
  for (ReserveId id : reserve_ids) releases_.erase(id);
}

SettlementActions SettlementLedger::Resume() const {
  SettlementActions out;
  for (const auto& [match_id, m] : matches_) {
    if (m.phase == MatchPhase::kReserving) {
      for (std::size_t i = 0; i < m.results.size(); ++i) {
        if (m.results[i]) continue;
        const events::MatchLeg& leg = m.proposal.legs[i];
        out.reserve.push_back(
            LegToReserve{match_id, i, leg.order_id, leg.bank_id, BankPrice(leg, m.proposal.price)});
      }
    } else if (m.phase == MatchPhase::kReporting) {
      // Maybe appended before the crash: a second identical report is ignored by the matcher.
      events::ReservationsReported report{match_id, {}};
      for (const auto& r : m.results) report.results.push_back(*r);
      out.report_reservations.push_back(std::move(report));
    }
  }
  for (const auto& [trade_id, t] : trades_) {
    if (t.phase == TradePhase::kCommitting) {
      out.commit.push_back(TradeToCommit{
          trade_id, std::vector<ReserveId>(t.uncommitted.begin(), t.uncommitted.end()),
          t.reserved_since});
    } else if (t.phase == TradePhase::kReporting) {
      out.report_commits.push_back(trade_id);
    }
  }
  out.release.assign(releases_.begin(), releases_.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checkpoint body

namespace {

const char* MatchPhaseName(SettlementLedger::MatchPhase p) {
  switch (p) {
    case SettlementLedger::MatchPhase::kReserving: return "reserving";
    case SettlementLedger::MatchPhase::kReporting: return "reporting";
    case SettlementLedger::MatchPhase::kReported: return "reported";
  }
  return "reserving";
}
const char* TradePhaseName(SettlementLedger::TradePhase p) {
  switch (p) {
    case SettlementLedger::TradePhase::kCommitting: return "committing";
    case SettlementLedger::TradePhase::kReporting: return "reporting";
    case SettlementLedger::TradePhase::kReported: return "reported";
  }
  return "committing";
}

}  // namespace

json SettlementLedger::ToJson() const {
  json matches = json::array();
  for (const auto& [id, m] : matches_) {
    json legs = json::array();
    for (const auto& leg : m.proposal.legs) {
      legs.push_back({{"order_id", leg.order_id}, {"user_id", leg.user_id},
                      {"bank_id", leg.bank_id}, {"side", events::SideName(leg.side)},
                      {"amount", leg.amount}, {"price", leg.price}});
    }
    json results = json::array();
    for (const auto& r : m.results) {
      if (!r) {
        results.push_back(nullptr);
        continue;
      }
      results.push_back({{"order_id", r->order_id},
                         {"reserve_id", r->reserve_id ? json(*r->reserve_id) : json(nullptr)},
                         {"error", r->error}});
    }
    matches.push_back({{"match_id", id}, {"price", m.proposal.price},
                       {"amount", m.proposal.amount}, {"proposed_at", m.proposed_at},
                       {"phase", MatchPhaseName(m.phase)}, {"legs", std::move(legs)},
                       {"results", std::move(results)}});
  }
  json trades = json::array();
  for (const auto& [id, t] : trades_) {
    trades.push_back({{"trade_id", id}, {"reserved_since", t.reserved_since},
                      {"reserve_ids", t.reserve_ids}, {"uncommitted", t.uncommitted},
                      {"incident", t.incident}, {"phase", TradePhaseName(t.phase)},
                      {"epoch", t.epoch}});
  }
  return {{"bank_endpoint", bank_endpoint_}, {"bank_appid", bank_appid_},
          {"bank_from_log", bank_from_log_}, {"epoch", epoch_},
          {"matches", std::move(matches)}, {"trades", std::move(trades)},
          {"releases", releases_}};
}

Result<SettlementLedger> SettlementLedger::FromJson(const json& j) {
  try {
    SettlementLedger l;
    l.bank_endpoint_ = j.at("bank_endpoint").get<std::string>();
    l.bank_appid_ = j.at("bank_appid").get<std::string>();
    l.bank_from_log_ = j.at("bank_from_log").get<bool>();
    l.epoch_ = j.at("epoch").get<std::uint64_t>();
    for (const json& jm : j.at("matches")) {
      PendingMatch m;
      m.proposal.match_id = jm.at("match_id").get<Id>();
      m.proposal.price = jm.at("price").get<std::int64_t>();
      m.proposal.amount = jm.at("amount").get<std::int64_t>();
      m.proposed_at = jm.at("proposed_at").get<Micros>();
      const std::string phase = jm.at("phase").get<std::string>();
      if (phase == "reserving") m.phase = MatchPhase::kReserving;
      else if (phase == "reporting") m.phase = MatchPhase::kReporting;
      else if (phase == "reported") m.phase = MatchPhase::kReported;
      else return Status::Invalid("settlement checkpoint: match phase '" + phase + "'");
      for (const json& jl : jm.at("legs")) {
        events::MatchLeg leg;
        leg.order_id = jl.at("order_id").get<Id>();
        leg.user_id = jl.at("user_id").get<Id>();
        leg.bank_id = jl.at("bank_id").get<std::string>();
        leg.side = jl.at("side").get<std::string>() == "buy" ? events::Side::kBuy
                                                              : events::Side::kSell;
        leg.amount = jl.at("amount").get<std::int64_t>();
        leg.price = jl.at("price").get<std::int64_t>();
        m.proposal.legs.push_back(std::move(leg));
      }
      for (const json& jr : jm.at("results")) {
        if (jr.is_null()) {
          m.results.push_back(std::nullopt);
          continue;
        }
        events::Reservation r;
        r.order_id = jr.at("order_id").get<Id>();
        if (!jr.at("reserve_id").is_null()) r.reserve_id = jr.at("reserve_id").get<ReserveId>();
        r.error = jr.at("error").get<std::string>();
        m.results.push_back(std::move(r));
      }
      if (m.results.size() != m.proposal.legs.size()) {
        return Status::Invalid("settlement checkpoint: match " +
                               std::to_string(m.proposal.match_id) + " results do not fit legs");
      }
      const Id id = m.proposal.match_id;
      l.matches_.emplace(id, std::move(m));
    }
    for (const json& jt : j.at("trades")) {
      UnsettledTrade t;
      t.trade_id = jt.at("trade_id").get<Id>();
      t.reserved_since = jt.at("reserved_since").get<Micros>();
      t.reserve_ids = jt.at("reserve_ids").get<std::vector<ReserveId>>();
      for (ReserveId id : jt.at("uncommitted").get<std::vector<ReserveId>>()) {
        t.uncommitted.insert(id);
      }
      t.incident = jt.at("incident").get<bool>();
      const std::string phase = jt.at("phase").get<std::string>();
      if (phase == "committing") t.phase = TradePhase::kCommitting;
      else if (phase == "reporting") t.phase = TradePhase::kReporting;
      else if (phase == "reported") t.phase = TradePhase::kReported;
      else return Status::Invalid("settlement checkpoint: trade phase '" + phase + "'");
      t.epoch = jt.at("epoch").get<std::uint64_t>();
      l.trades_.emplace(t.trade_id, std::move(t));
    }
    for (ReserveId id : j.at("releases").get<std::vector<ReserveId>>()) l.releases_.insert(id);
    return l;
  } catch (const json::exception& e) {
    return Status::Invalid(std::string("settlement checkpoint: ") + e.what());
  }
}

}  // namespace isucoin::effects
