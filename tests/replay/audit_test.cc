// Incident drills: a real session's logs, copied and tampered with; the audit must find each.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "events/codec.h"
#include "events/file_log.h"
#include "replay/audit.h"
#include "tests/replay/history_fixture.h"

namespace isucoin::replay {
namespace {

namespace fs = std::filesystem;
using replay_test::Fill;
using replay_test::Payloads;

struct Session {
  std::vector<std::string> commands, events;
};

const Session& TheSession() {
  static const Session s = [] {
    events::MemoryLog c, e;
    replay_test::Generate(c, e, 15'000);
    return Session{Payloads(c), Payloads(e)};
  }();
  return s;
}

AuditReport AuditOf(const std::vector<std::string>& events_payloads, AuditOptions options = {}) {
  events::MemoryLog c, e;
  Fill(c, TheSession().commands);
  Fill(e, events_payloads);
  auto report = Audit(c, e, options);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.value();
}

std::size_t FirstOffsetOf(const std::vector<std::string>& payloads, std::size_t from,
                          bool (*pred)(const events::Event&)) {
  for (std::size_t i = from; i < payloads.size(); ++i) {
    if (pred(events::DecodeEvent(payloads[i]).value())) return i;
  }
  ADD_FAILURE() << "no such event";
  return 0;
}

bool IsTrade(const events::Event& e) { return std::holds_alternative<events::TradeExecuted>(e.body); }

const Finding* FindKind(const AuditReport& r, const std::string& kind) {
  for (const auto& f : r.findings) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

TEST(Audit, CleanSessionIsClean) {
  AuditReport r = AuditOf(TheSession().events);
  EXPECT_TRUE(r.clean()) << r.Summary();
  EXPECT_GT(r.trades, 100u);
  EXPECT_EQ(r.trades_settled, r.trades);
  EXPECT_EQ(r.events, TheSession().events.size());
  auto json = nlohmann::json::parse(r.ToJson());
  EXPECT_TRUE(json["clean"].get<bool>());
}

TEST(Audit, DuplicatedDeliveryIsNotAFinding) {
  auto events = TheSession().events;
  events.insert(events.begin() + 1000, events[999]);  // a producer retry re-delivered one
  AuditReport r = AuditOf(events);
  EXPECT_TRUE(r.clean()) << r.Summary();
  EXPECT_EQ(r.duplicates, 1u);
}

TEST(Audit, ChangedTradePriceIsFoundAtItsOffset) {
  auto events = TheSession().events;
  const std::size_t at = FirstOffsetOf(events, events.size() / 2, IsTrade);
  auto e = events::DecodeEvent(events[at]).value();
  auto& trade = std::get<events::TradeExecuted>(e.body);
  trade.price += 5000;  // above every buyer's limit
  events[at] = events::EncodeEvent(e);
  AuditReport r = AuditOf(events);
  ASSERT_FALSE(r.clean());
  ASSERT_EQ(r.findings[0].kind, "divergence") << r.Summary();
  EXPECT_EQ(r.findings[0].offset, at);
  EXPECT_NE(r.findings[0].found, r.findings[0].expected);
  EXPECT_NE(r.findings[0].found.find(std::to_string(trade.price)), std::string::npos);
  // The rules see it too, from the events alone.
  const Finding* limit = FindKind(r, "trade_price_outside_limit");
  ASSERT_NE(limit, nullptr) << r.Summary();
  EXPECT_EQ(limit->offset, at);
  EXPECT_NE(FindKind(r, "trade_price_differs_from_match"), nullptr);
}

TEST(Audit, DroppedEventIsFoundAtItsOffset) {
  auto events = TheSession().events;
  const std::size_t at = FirstOffsetOf(events, events.size() / 3, IsTrade);
  events.erase(events.begin() + static_cast<long>(at));
  AuditReport r = AuditOf(events);
  ASSERT_FALSE(r.clean());
  EXPECT_EQ(r.findings[0].kind, "divergence");
  EXPECT_EQ(r.findings[0].offset, at);
  EXPECT_EQ(r.findings[0].expected, TheSession().events[at]);  // the missing trade
  EXPECT_NE(FindKind(r, "settled_unknown_trade"), nullptr) << r.Summary();
}

TEST(Audit, SwappedEventsAreFoundAtTheFirstOffset) {
  auto events = TheSession().events;
  const std::size_t at = FirstOffsetOf(events, events.size() / 4, IsTrade);
  std::swap(events[at - 1], events[at]);  // MatchProposed/... and the trade
  AuditReport r = AuditOf(events);
  ASSERT_FALSE(r.clean());
  EXPECT_EQ(r.findings[0].kind, "divergence");
  EXPECT_EQ(r.findings[0].offset, at - 1);
}

TEST(Audit, MissingTailAndUnsettledTradesAreFound) {
  auto events = TheSession().events;
  // Cut the last command's events but one: "missing" at the end.
  auto last = events::DecodeEvent(events.back()).value();
  ASSERT_GT(events.size(), 2u);
  if (events::DecodeEvent(events[events.size() - 2]).value().seq.cause == last.seq.cause) {
    events.pop_back();
    AuditReport r = AuditOf(events);
    EXPECT_NE(FindKind(r, "missing_records"), nullptr) << r.Summary();
  }
  // Unsettled: a trade whose settlement never came, older than 5 minutes at the end.
  AuditOptions options;
  options.pending_grace = 0;
  events = TheSession().events;
  const std::size_t settled = FirstOffsetOf(events, 0, [](const events::Event& e) {
    return std::holds_alternative<events::TradeSettled>(e.body);
  });
  events.erase(events.begin() + static_cast<long>(settled));
  AuditReport r = AuditOf(events, options);
  EXPECT_NE(FindKind(r, "trade_unsettled"), nullptr) << r.Summary();
}

TEST(Audit, BankRecordsAreReconciled) {
  // Build the bank's view from the session: every traded reservation committed once.
  std::vector<BankReservation> bank;
  for (const auto& p : TheSession().events) {
    auto e = events::DecodeEvent(p).value();
    if (auto* t = std::get_if<events::TradeExecuted>(&e.body)) {
      for (const auto& leg : t->legs) bank.push_back({leg.reserve_id, "committed", 1, e.time});
    } else if (auto* a = std::get_if<events::MatchAborted>(&e.body)) {
      for (auto id : a->release_reserve_ids) bank.push_back({id, "cancelled", 0, e.time});
    }
  }
  AuditOptions options;
  options.bank = bank;
  AuditReport clean = AuditOf(TheSession().events, options);
  EXPECT_TRUE(clean.clean()) << clean.Summary();
  EXPECT_TRUE(clean.bank_checked);
  bank[3].commits = 2;
  for (auto& r : bank) {
    if (r.state == "cancelled") {
      r.state = "pending";
      break;
    }
  }
  options.bank = bank;
  options.now = events::DecodeEvent(TheSession().events.back()).value().time + 3'600'000'000LL;
  AuditReport bad = AuditOf(TheSession().events, options);
  EXPECT_NE(FindKind(bad, "bank_commit_not_exactly_once"), nullptr) << bad.Summary();
  EXPECT_NE(FindKind(bad, "bank_reservation_left_pending"), nullptr) << bad.Summary();
}

// The binary on a FileLog copy: exit codes, JSON report naming the offset.
TEST(AuditCommand, ExitCodesAndJsonReport) {
  const fs::path dir = fs::temp_directory_path() / ("isucoin-audit-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto write = [&](const std::vector<std::string>& events) {
    fs::remove_all(dir);
    auto c = events::FileLog::Open((dir / "commands").string()).value();
    auto e = events::FileLog::Open((dir / "events").string()).value();
    Fill(*c, TheSession().commands);
    Fill(*e, events);
    ASSERT_TRUE(c->Close().ok());
    ASSERT_TRUE(e->Close().ok());
  };
  auto run = [&](const std::string& extra) {
    const std::string cmd = std::string(ISUCOIN_PATH) + " audit --data " + dir.string() +
                            " --json " + (dir / "report.json").string() + extra + " > " +
                            (dir / "stdout").string() + " 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  write(TheSession().events);
  EXPECT_EQ(run(""), 0);
  auto events = TheSession().events;
  const std::size_t at = FirstOffsetOf(events, events.size() / 2, IsTrade);
  auto e = events::DecodeEvent(events[at]).value();
  std::get<events::TradeExecuted>(e.body).price -= 7;
  events[at] = events::EncodeEvent(e);
  write(events);
  EXPECT_EQ(run(""), 1);
  std::ifstream in(dir / "report.json");
  auto report = nlohmann::json::parse(in);
  EXPECT_FALSE(report["clean"].get<bool>());
  EXPECT_EQ(report["findings"][0]["kind"], "divergence");
  EXPECT_EQ(report["findings"][0]["offset"].get<std::uint64_t>(), at);
  std::ifstream out(dir / "stdout");
  std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("offset " + std::to_string(at)), std::string::npos) << text;
  EXPECT_EQ(run(" --bogus"), 2);
  fs::remove_all(dir);
  EXPECT_EQ(std::system((std::string(ISUCOIN_PATH) + " audit --data " + dir.string() + " >/dev/null 2>&1").c_str()) >> 8, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace isucoin::replay
