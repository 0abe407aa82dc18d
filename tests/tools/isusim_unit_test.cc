// The simulator's state machines, without sockets or real time.
#include <gtest/gtest.h>

#include "tools/isusim/bank.h"
#include "tools/isusim/logger.h"

namespace isusim {
namespace {

constexpr int64_t kTtl = 1000;

TEST(IsusimBank, CheckIgnoresReservationsAndZeroIsExistence) {
  Bank bank(kTtl);
  bank.SetCredit("a", 100);
  EXPECT_EQ(bank.Reserve("a", -100, 0).status, 200);
  EXPECT_EQ(bank.Check("a", 100).status, 200);
  EXPECT_EQ(bank.Check("a", 0).status, 200);
  EXPECT_EQ(bank.Check("a", 101).status, 400);
  EXPECT_EQ(bank.Check("a", 101).body["error"], "credit is insufficient");
  EXPECT_EQ(bank.Check("nobody", 0).status, 404);
  EXPECT_EQ(bank.Check("a", -1).status, 400);
}

TEST(IsusimBank, PendingWithdrawalsHoldCreditUntilSettledOrExpired) {
  Bank bank(kTtl);
  bank.SetCredit("a", 100);
  auto r1 = bank.Reserve("a", -60, 0);
  ASSERT_EQ(r1.status, 200);
  EXPECT_EQ(bank.Reserve("a", -41, 10).status, 400);
  EXPECT_EQ(bank.Reserve("a", 500, 10).status, 200);  // deposits never hold anything
  auto r2 = bank.Reserve("a", -40, 10);
  ASSERT_EQ(r2.status, 200);
  auto view = bank.Account("a", 10);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->pending_withdrawals, 100);
  EXPECT_EQ(view->pending_deposits, 500);
  EXPECT_EQ(bank.Cancel({r2.body["reserve_id"].get<int64_t>()}, 20).status, 200);
  EXPECT_EQ(bank.Reserve("a", -40, 20).status, 200);
  // r1 expires at exactly ttl after its reservation: its 60 is free again.
  EXPECT_EQ(bank.Reserve("a", -60, kTtl - 1).status, 400);
  EXPECT_EQ(bank.Reserve("a", -60, kTtl).status, 200);
}

TEST(IsusimBank, CommitAtTheTtlBoundary) {
  Bank bank(kTtl);
  bank.SetCredit("a", 100);
  int64_t young = bank.Reserve("a", -10, 0).body["reserve_id"];
  int64_t old = bank.Reserve("a", -10, 0).body["reserve_id"];
  EXPECT_EQ(bank.Commit({young}, kTtl - 1).status, 200);
  auto expired = bank.Commit({old}, kTtl);
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(expired.body["error"], "reserve_id " + std::to_string(old) + " is expired");
  EXPECT_EQ(bank.Account("a", kTtl)->credit, 90);
}

TEST(IsusimBank, CommitIsAllOrNothing) {
  Bank bank(kTtl);
  bank.SetCredit("a", 100);
  bank.SetCredit("b", 0);
  int64_t w = bank.Reserve("a", -30, 0).body["reserve_id"];
  int64_t d = bank.Reserve("b", 30, 0).body["reserve_id"];
  EXPECT_EQ(bank.Commit({w, d, 999}, 1).status, 404);
  EXPECT_EQ(bank.Commit({w, w}, 1).status, 400);
  EXPECT_EQ(bank.Commit({}, 1).status, 400);
  EXPECT_EQ(bank.Commit({d}, 1).status, 200);
  auto again = bank.Commit({w, d}, 2);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body["error"], "reserve_id " + std::to_string(d) + " is already committed");
  EXPECT_EQ(bank.Account("a", 2)->credit, 100);  // w not applied
  EXPECT_EQ(bank.Commit({w}, 3).status, 200);
  EXPECT_EQ(bank.Account("a", 3)->credit, 70);
  EXPECT_EQ(bank.Account("b", 3)->credit, 30);
  auto res = bank.Reservations(3);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0]["commit_count"], 1);
  EXPECT_EQ(res[0]["commit_attempts"], 2);  // the 404 and duplicate calls never reached it
  EXPECT_EQ(res[1]["state"], "committed");
}

TEST(IsusimBank, OverflowIsRefusedNotWrapped) {
  Bank bank(kTtl);
  bank.SetCredit("a", INT64_MAX - 5);
  int64_t d = bank.Reserve("a", 10, 0).body["reserve_id"];
  EXPECT_EQ(bank.Commit({d}, 1).status, 400);
  EXPECT_EQ(bank.Account("a", 1)->credit, INT64_MAX - 5);
  EXPECT_EQ(bank.Reserve("a", INT64_MIN, 1).status, 400);
}

TEST(IsusimBank, CancelThenCommitSaysCancelledAndResetKeepsIdsIncreasing) {
  Bank bank(kTtl);
  bank.SetCredit("a", 10);
  int64_t id = bank.Reserve("a", -5, 0).body["reserve_id"];
  EXPECT_EQ(bank.Cancel({id}, 1).status, 200);
  EXPECT_EQ(bank.Commit({id}, 1).body["error"], "reserve_id " + std::to_string(id) + " is already cancelled");
  EXPECT_EQ(bank.Cancel({id}, 1).status, 400);
  bank.Reset();
  EXPECT_FALSE(bank.Account("a", 1));
  bank.SetCredit("a", 10);
  EXPECT_GT(bank.Reserve("a", -5, 2).body["reserve_id"].get<int64_t>(), id);
}

TEST(IsusimLogger, SlidingWindowOfAdmittedRequests) {
  Logger logger;
  for (int i = 0; i < Logger::kMaxPerSecond; ++i) {
    ASSERT_FALSE(logger.Admit("app", 10, 1000 + i)) << i;
    logger.Done("app");
  }
  auto refused = logger.Admit("app", 10, 1500);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_FALSE(logger.Admit("other", 10, 1500));  // limits are per app id
  logger.Done("other");
  // The first admission (t=1000) leaves the window at t=2000.
  EXPECT_TRUE(logger.Admit("app", 10, 1999));
  EXPECT_FALSE(logger.Admit("app", 10, 2000));
}

TEST(IsusimLogger, InFlightLimitAndBodyLimit) {
  Logger logger;
  for (int i = 0; i < Logger::kMaxInFlight; ++i) ASSERT_FALSE(logger.Admit("app", 10, 0));
  auto refused = logger.Admit("app", 10, 0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  logger.Done("app");
  EXPECT_FALSE(logger.Admit("app", 10, 0));
  EXPECT_EQ(logger.Admit("x", Logger::kMaxBodyBytes + 1, 0)->status, 413);
  EXPECT_FALSE(logger.Admit("x", Logger::kMaxBodyBytes, 0));
}

TEST(IsusimLogger, BulkIsAllOrNothing) {
  Logger logger;
  EXPECT_EQ(logger.Accept("app", R"([{"tag":"a","time":"t","data":{}},{"tag":"b","time":"t"}])", true, 5).status,
            400);
  EXPECT_EQ(logger.size(), 0u);
  EXPECT_EQ(logger.Accept("app", R"([{"tag":"a","time":"t","data":{"k":1}},{"tag":"b","time":"u","data":{}}])",
                          true, 5)
                .status,
            200);
  auto records = logger.Records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["tag"], "b");
  EXPECT_EQ(records[0]["received_at_ms"], 5);
}

}  // namespace
}  // namespace isusim
