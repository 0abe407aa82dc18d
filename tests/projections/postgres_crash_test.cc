// Exactly once across a crash: `isucoin project` (a child process over a FileLog) is killed
// with SIGKILL in the middle of its batches, restarted, and must end with every row once and
// its position at the log's end — the same tables as projections::ReadModel over the log.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "events/file_log.h"
#include "postgres_test_support.h"

namespace isucoin::projections {
namespace {

using namespace isucoin::projections::pgtest;

pid_t StartProject(const std::string& data, const std::string& conninfo,
                   const std::string& schema) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(ISUCOIN_PATH, ISUCOIN_PATH, "project", "--data", data.c_str(), "--postgres",
          conninfo.c_str(), "--schema", schema.c_str(), "--batch-events", "700", nullptr);
    _exit(127);
  }
  return pid;
}

// The committed events offset, or -1 before the schema exists.
long long Position(pqxx::connection& c, const std::string& schema) {
  try {
    pqxx::work tx(c);
    return tx.exec1("SELECT events_offset FROM " + tx.quote_name(schema) + ".sink_position")[0]
        .as<long long>();
  } catch (const std::exception&) {
    return -1;
  }
}

TEST(PostgresCrashTest, SigkillMidBatchThenRestartAppliesEveryEventExactlyOnce) {
  const std::string conninfo = TestConninfo();
  if (conninfo.empty()) return;
  const std::string schema = TestSchema("crash");
  DropSchema(conninfo, schema);
  const std::string data = testing::TempDir() + "pg_crash_" + std::to_string(getpid());
  std::filesystem::remove_all(data);

  Session session(42);
  session.Genesis();
  session.Steps(9000, 4000);
  session.SettleAll();
  {
    auto log = events::FileLog::Open(data + "/events");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    session.AppendTo(*log.value());
    ASSERT_TRUE(log.value()->Close().ok());
  }
  const long long end = static_cast<long long>(session.events().size());
  pqxx::connection c(conninfo);

  // Kill it twice in the middle, at different points.
  int kills = 0;
  for (long long kill_after : {end / 5, end / 2}) {
    const pid_t pid = StartProject(data, conninfo, schema);
    ASSERT_GT(pid, 0);
    long long at = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((at = Position(c, schema)) < kill_after && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    at = Position(c, schema);
    if (at < end) ++kills;
    std::fprintf(stderr, "killed at committed offset %lld of %lld\n", at, end);
  }
  EXPECT_GT(kills, 0) << "the sink finished before it could be killed: make the log longer";

  // Restart, let it finish, stop it cleanly.
  const pid_t pid = StartProject(data, conninfo, schema);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (Position(c, schema) < end && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(Position(c, schema), end);

  ExpectTablesEqualReadModel(conninfo, schema, FoldUntil(session.events(), session.events().size()));
  {
    // Every trade leg once, every executed trade once.
    std::size_t legs = 0, trades = 0;
    bool after_reset = false;
    for (const auto& e : session.events()) {
      if (std::holds_alternative<ExchangeReset>(e.body)) { legs = trades = 0; after_reset = true; }
      if (auto* t = std::get_if<TradeExecuted>(&e.body)) { legs += t->legs.size(); ++trades; }
    }
    ASSERT_TRUE(after_reset);
    pqxx::work tx(c);
    const std::string q = tx.quote_name(schema) + ".";
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM " + q + "trade_legs")[0].as<std::size_t>(), legs);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM " + q + "trades WHERE NOT genesis")[0]
                  .as<std::size_t>(), trades);
  }
  DropSchema(conninfo, schema);

  // `isucoin replay --to postgres --until-offset N` over the same log: the state at N.
  const std::string pit = TestSchema("crashpit");
  const long long n = end / 3;
  const pid_t replay = fork();
  if (replay == 0) {
    execl(ISUCOIN_PATH, ISUCOIN_PATH, "replay", "--data", data.c_str(), "--to", "postgres",
          "--postgres", conninfo.c_str(), "--schema", pit.c_str(), "--until-offset",
          std::to_string(n).c_str(), nullptr);
    _exit(127);
  }
  status = 0;
  waitpid(replay, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(Position(c, pit), n);
  ExpectTablesEqualReadModel(conninfo, pit, FoldUntil(session.events(), static_cast<std::size_t>(n)));
  DropSchema(conninfo, pit);
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace isucoin::projections
