// The PostgreSQL read model against a real PostgreSQL (ISUCOIN_TEST_POSTGRES, started by
// scripts/test): the sink's tables show what projections::ReadModel shows, at every stage of a
// session (pending, settled, after /initialize); replay equals the live sink row for row;
// point-in-time replay equals what the live system had at that offset.
#include "projections/postgres_sink.h"

#include <gtest/gtest.h>

#include <map>

#include "events/codec.h"
#include "events/memory_log.h"
#include "postgres_test_support.h"

namespace isucoin::projections {
namespace {

using namespace isucoin::projections::pgtest;

class PostgresSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = TestConninfo();
    if (conninfo_.empty()) FAIL() << "no PostgreSQL: see above";
  }
  void TearDown() override {
    if (conninfo_.empty()) return;
    for (const auto& s : schemas_) DropSchema(conninfo_, s);
  }
  std::string Schema(const std::string& tag) {
    schemas_.push_back(TestSchema(tag));
    DropSchema(conninfo_, schemas_.back());
    return schemas_.back();
  }
  PostgresSinkOptions Options(const std::string& schema, std::size_t batch = 5000) {
    PostgresSinkOptions o;
    o.conninfo = conninfo_;
    o.schema = schema;
    o.max_batch_events = batch;
    return o;
  }

  std::string conninfo_;
  std::vector<std::string> schemas_;
};

TEST_F(PostgresSinkTest, TablesShowWhatTheReadModelShowsAtEveryStage) {
  Session session(7);
  session.Genesis();
  session.Steps(300);
  const std::size_t before_reset = session.events().size();
  session.Steps(300, 1);  // /initialize first, then more trading
  const std::size_t after_more = session.events().size();
  session.SettleAll();
  std::map<std::string, int> kinds;
  for (const auto& e : session.events()) ++kinds[events::EventTypeName(e.body)];
  for (const char* k : {"GenesisCompleted", "UserRegistered", "OrderAccepted", "OrderCancelled",
                        "MatchProposed", "MatchAborted", "TradeExecuted", "TradeSettled",
                        "ExchangeReset"}) {
    EXPECT_GT(kinds[k], 0) << "the session has no " << k;
  }
  events::MemoryLog log;
  session.AppendTo(log);
  const std::string schema = Schema("stages");

  // Small batches so that pending and settled events fall in different transactions.
  std::vector<std::size_t> stops = {8, before_reset / 2, before_reset, before_reset + 1,
                                    after_more, session.events().size()};
  for (std::size_t stop : stops) {
    PostgresSink sink(log, Options(schema, 37));  // a fresh sink each time: resumes from SQL
    ASSERT_TRUE(sink.RunUntil(stop).ok());
    EXPECT_EQ(sink.position(), stop);
    SCOPED_TRACE("at offset " + std::to_string(stop));
    ExpectTablesEqualReadModel(conninfo_, schema, FoldUntil(session.events(), stop));
  }
  // A second run over the same log changes nothing (exactly once).
  const auto before = DumpTables(conninfo_, schema);
  PostgresSink again(log, Options(schema));
  ASSERT_TRUE(again.RunUntil(session.events().size()).ok());
  EXPECT_EQ(again.stats().events_applied, 0u);
  EXPECT_EQ(DumpTables(conninfo_, schema), before);
}

TEST_F(PostgresSinkTest, FollowsTheLogOnItsThread) {
  Session session(3);
  session.Genesis();
  session.Steps(200);
  events::MemoryLog log;
  session.AppendTo(log);
  const std::string schema = Schema("thread");
  PostgresSink sink(log, Options(schema));
  ASSERT_TRUE(sink.Start().ok());
  for (int i = 0; i < 200 && sink.position() < log.End(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  sink.Stop();
  ASSERT_EQ(sink.position(), log.End());
  EXPECT_TRUE(sink.health().ok());
  ExpectTablesEqualReadModel(conninfo_, schema, FoldUntil(session.events(), log.End()));
}

TEST_F(PostgresSinkTest, ReplayEqualsTheLiveSinkRowForRow) {
  Session session(11);
  session.Genesis();
  session.Steps(400, 250);
  events::MemoryLog log;
  session.AppendTo(log);
  const std::string live = Schema("live"), replayed = Schema("replayed");
  PostgresSink sink(log, Options(live, 100));
  ASSERT_TRUE(sink.RunUntil(log.End()).ok());
  auto r = ReplayToPostgres(log, conninfo_, replayed, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().end, log.End());
  EXPECT_GT(r.value().rows, 0u);
  const auto a = DumpTables(conninfo_, live), b = DumpTables(conninfo_, replayed);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a, b);
  // Replaying over an existing schema swaps it; a live sink then continues from the position.
  auto again = ReplayToPostgres(log, conninfo_, replayed, log.End() / 2);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  PostgresSink resumed(log, Options(replayed));
  ASSERT_TRUE(resumed.RunUntil(log.End()).ok());
  EXPECT_EQ(DumpTables(conninfo_, replayed), a);
}

TEST_F(PostgresSinkTest, PointInTimeReplayEqualsTheStateAtThatOffset) {
  Session session(5);
  session.Genesis();
  session.Steps(300, 200);
  events::MemoryLog log;
  session.AppendTo(log);
  const std::string pit = Schema("pit"), live = Schema("pitlive");
  PostgresSink sink(log, Options(live, 50));
  for (std::size_t at : {std::size_t{3}, log.End() / 3, log.End() / 2, log.End() - 1}) {
    SCOPED_TRACE("until offset " + std::to_string(at));
    auto r = ReplayToPostgres(log, conninfo_, pit, at);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ExpectTablesEqualReadModel(conninfo_, pit, FoldUntil(session.events(), at));
    // What the live sink had when it stood at that offset.
    ASSERT_TRUE(sink.RunUntil(at).ok());
    EXPECT_EQ(DumpTables(conninfo_, pit), DumpTables(conninfo_, live));
  }
}

}  // namespace
}  // namespace isucoin::projections
