// `isucoin settle` as a child process over FileLog directories, killed with SIGKILL while
// reservations and commits are at the bank, then restarted: every trade ends committed exactly
// once (the bank's own commit_count), and settled in the log.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "events/file_log.h"
#include "tests/effects/exchange_harness.h"
#include "tests/support/isusim_process.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;
using namespace isucoin::effects::testing;
using test_support::IsusimProcess;

pid_t SpawnSettle(const std::string& dir, const IsusimProcess& sim) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string err = dir + "/settle.stderr";
    FILE* f = std::fopen(err.c_str(), "a");
    if (f) ::dup2(fileno(f), 2);
    ::execl(ISUCOIN_PATH, ISUCOIN_PATH, "settle", "--data", dir.c_str(), "--bank",
            sim.bank_url().c_str(), "--bank-appid", sim.appid().c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

TEST(SettleProcessTest, SigkillMidFlightThenRestartCommitsEveryTradeOnce) {
  // Commits slower than anything else here, so that killing the worker once the first trade
  // is executed always finds commits at the bank.
  IsusimProcess sim({"--check-ms", "0", "--reserve-ms", "70", "--commit-ms", "1000",
                     "--cancel-ms", "80"});
  const std::string dir = ::testing::TempDir() + "/settle_process_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  constexpr int kPairs = 40;
  {
    // The test writes the orders first, then hands the commands log to `settle` (its writer).
    auto commands = events::FileLog::Open(dir + "/commands");
    ASSERT_TRUE(commands.ok()) << commands.status().ToString();
    for (int i = 0; i < kPairs; ++i) {
      sim.SetCredit("b" + std::to_string(i), 1'000'000);
      sim.SetCredit("s" + std::to_string(i), 0);
      AppendCommand(*commands.value(), events::SignupRequested{"b", "b" + std::to_string(i), "$2a$04$x"});
      AppendCommand(*commands.value(), events::SignupRequested{"s", "s" + std::to_string(i), "$2a$04$x"});
    }
    for (int i = 0; i < kPairs; ++i) {  // user ids follow signup order
      AppendCommand(*commands.value(), events::OrderPlaced{2 * i + 2, events::Side::kSell, 1, 900});
      AppendCommand(*commands.value(), events::OrderPlaced{2 * i + 1, events::Side::kBuy, 1, 900});
    }
    ASSERT_TRUE(commands.value()->Close().ok());
  }
  auto events_log = events::FileLog::Open(dir + "/events");
  ASSERT_TRUE(events_log.ok());
  auto commands_ro = events::FileLog::Open(dir + "/commands", {.read_only = true});
  ASSERT_TRUE(commands_ro.ok());

  pid_t child = SpawnSettle(dir, sim);
  ASSERT_GT(child, 0);
  auto settled = [&] { return Only<events::TradeSettled>(ReadEvents(*events_log.value())).size(); };
  {
    MatcherThread matcher(*commands_ro.value(), *events_log.value());
    // Kill once trades are executed: their commits are then at the bank (1 s each).
    ASSERT_TRUE(Eventually(
        [&] { return !Only<events::TradeExecuted>(ReadEvents(*events_log.value())).empty(); },
        20s));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ::waitpid(child, &status, 0);
    const std::size_t before_restart = settled();
    EXPECT_LT(before_restart, static_cast<std::size_t>(kPairs)) << "nothing was in flight";

    child = SpawnSettle(dir, sim);
    ASSERT_GT(child, 0);
    EXPECT_TRUE(Eventually([&] { return settled() == kPairs; }, 40s)) << settled();
  }
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  std::map<std::int64_t, nlohmann::json> by_id;
  for (const auto& r : sim.Reservations()) by_id[r["reserve_id"].get<std::int64_t>()] = r;
  auto trades = Only<events::TradeExecuted>(ReadEvents(*events_log.value()));
  EXPECT_EQ(trades.size(), static_cast<std::size_t>(kPairs));
  for (const auto& t : trades) {
    for (const auto& leg : t.legs) {
      EXPECT_EQ(by_id[leg.reserve_id]["state"], "committed");
      EXPECT_EQ(by_id[leg.reserve_id]["commit_count"], 1);
    }
  }
  std::int64_t received = 0;
  for (int i = 0; i < kPairs; ++i) {
    received += sim.Account("s" + std::to_string(i))["credit"].get<std::int64_t>();
  }
  EXPECT_EQ(received, kPairs * 900);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace isucoin::effects
