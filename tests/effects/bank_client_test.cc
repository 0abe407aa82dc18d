// BankClient against the real simulator (tools/isusim): every status of SPEC.md "ISUBANK",
// retries for 5xx and timeouts only, and calls bounded by their timeouts.
#include "effects/bank_client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/isusim_process.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;
using test_support::IsusimProcess;

BankClientOptions Fast(const IsusimProcess& sim, int attempts = 3) {
  BankClientOptions o;
  o.endpoint = sim.bank_url();
  o.app_id = sim.appid();
  o.call_timeout = 2000ms;
  o.retry.max_attempts = attempts;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 5ms;
  o.retry.overall_deadline = 10000ms;
  return o;
}

std::uint64_t StatCount(const IsusimProcess& sim, const char* path, const char* status) {
  auto stats = sim.Stats();
  auto bank = stats.value("bank", nlohmann::json::object());
  auto p = bank.value(path, nlohmann::json::object());
  return p.value(status, std::uint64_t{0});
}

class BankClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_.SetCredit("alice", 1000);
    sim_.SetCredit("bob", 0);
  }
  IsusimProcess sim_;
  HttpClient http_;
  BankClient bank_{http_, Fast(sim_)};
};

TEST_F(BankClientTest, CheckAnswersOkInsufficientAndNoSuchAccount) {
  EXPECT_EQ(bank_.Check("alice", 1000).outcome, BankOutcome::kOk);
  EXPECT_EQ(bank_.Check("alice", 0).outcome, BankOutcome::kOk);
  BankReply poor = bank_.Check("alice", 1001);
  EXPECT_EQ(poor.outcome, BankOutcome::kInsufficientCredit);
  EXPECT_EQ(poor.http_status, 400);
  EXPECT_EQ(poor.message, "credit is insufficient");
  EXPECT_EQ(poor.attempts, 1);  // a 4xx is never retried
  BankReply nobody = bank_.Check("nobody", 0);
  EXPECT_EQ(nobody.outcome, BankOutcome::kNoSuchAccount);
  EXPECT_EQ(nobody.http_status, 404);
  EXPECT_EQ(nobody.attempts, 1);
}

TEST_F(BankClientTest, ReserveReturnsAnIdOrRefuses) {
  BankReply r = bank_.Reserve("alice", -600);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_GT(r.reserve_id, 0);
  // The simulator holds pending withdrawals against the credit.
  EXPECT_EQ(bank_.Reserve("alice", -600).outcome, BankOutcome::kInsufficientCredit);
  EXPECT_EQ(bank_.Reserve("nobody", 10).outcome, BankOutcome::kNoSuchAccount);
  BankReply deposit = bank_.Reserve("bob", 600);
  ASSERT_TRUE(deposit.ok());
  EXPECT_NE(deposit.reserve_id, r.reserve_id);
}

TEST_F(BankClientTest, CommitMovesMoneyOnceAndRefusesASecondTime) {
  BankReply withdraw = bank_.Reserve("alice", -300);
  BankReply deposit = bank_.Reserve("bob", 300);
  ASSERT_TRUE(withdraw.ok() && deposit.ok());
  BankReply commit = bank_.Commit({withdraw.reserve_id, deposit.reserve_id});
  EXPECT_EQ(commit.outcome, BankOutcome::kOk) << commit.message;
  EXPECT_EQ(sim_.Account("alice")["credit"], 700);
  EXPECT_EQ(sim_.Account("bob")["credit"], 300);

  BankReply again = bank_.Commit({withdraw.reserve_id});
  EXPECT_EQ(again.outcome, BankOutcome::kRejected);
  EXPECT_EQ(again.http_status, 400);
  EXPECT_NE(again.message.find("already committed"), std::string::npos) << again.message;
  EXPECT_EQ(again.attempts, 1);
  EXPECT_EQ(sim_.Account("alice")["credit"], 700);

  BankReply unknown = bank_.Commit({999999});
  EXPECT_EQ(unknown.outcome, BankOutcome::kUnknownReservation);
  EXPECT_EQ(unknown.http_status, 404);
}

TEST_F(BankClientTest, CancelReleasesAndThenRefuses) {
  BankReply r = bank_.Reserve("alice", -1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(bank_.Cancel({r.reserve_id}).outcome, BankOutcome::kOk);
  EXPECT_EQ(sim_.Account("alice")["pending_withdrawals"], 0);
  BankReply again = bank_.Cancel({r.reserve_id});
  EXPECT_EQ(again.outcome, BankOutcome::kRejected);
  EXPECT_NE(again.message.find("cancelled"), std::string::npos) << again.message;
  EXPECT_EQ(bank_.Commit({r.reserve_id}).outcome, BankOutcome::kRejected);
  EXPECT_EQ(bank_.Cancel({424242}).outcome, BankOutcome::kUnknownReservation);
  EXPECT_EQ(sim_.Account("alice")["credit"], 1000);
}

TEST_F(BankClientTest, UnknownAppIdIsNotRetried) {
  BankClientOptions o = Fast(sim_);
  o.app_id = "not-an-app";
  BankClient stranger(http_, o);
  BankReply r = stranger.Check("alice", 0);
  EXPECT_EQ(r.outcome, BankOutcome::kUnknownAppId);
  EXPECT_EQ(r.http_status, 401);
  EXPECT_EQ(r.attempts, 1);
}

TEST_F(BankClientTest, ServerErrorsAreRetriedUntilAttemptsRunOut) {
  sim_.SetFaults(/*fail_rate=*/1.0);
  BankReply r = bank_.Check("alice", 0);
  EXPECT_EQ(r.outcome, BankOutcome::kUnavailable);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(StatCount(sim_, "/check", "500"), 3u);
  EXPECT_EQ(bank_.retries(), 2u);
}

TEST_F(BankClientTest, ServerErrorsAreRetriedToSuccess) {
  sim_.SetFaults(/*fail_rate=*/0.5);
  BankClient patient(http_, Fast(sim_, /*attempts=*/30));
  int retried = 0;
  for (int i = 0; i < 20; ++i) {
    BankReply r = patient.Reserve("bob", 1);
    ASSERT_TRUE(r.ok()) << r.message;  // 0.5^30: never in practice
    if (r.attempts > 1) ++retried;
  }
  EXPECT_GT(retried, 0);
  EXPECT_GT(StatCount(sim_, "/reserve", "500"), 0u);
  EXPECT_EQ(StatCount(sim_, "/reserve", "200"), 20u);
}

TEST_F(BankClientTest, SlowAnswersTimeOutAndAreRetriedWithinTheDeadline) {
  sim_.SetFaults(/*fail_rate=*/0, /*slow_rate=*/1.0, /*slow_ms=*/3000);
  BankClientOptions o = Fast(sim_, /*attempts=*/2);
  o.call_timeout = 150ms;
  BankClient impatient(http_, o);
  const auto start = std::chrono::steady_clock::now();
  BankReply r = impatient.Check("alice", 0);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.outcome, BankOutcome::kUnavailable);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.message.find("Timeout"), std::string::npos) << r.message;
  EXPECT_LT(took, 3000ms);  // never waits for the slow answer

  o.retry.max_attempts = 100;
  o.retry.overall_deadline = 400ms;
  BankClient bounded(http_, o);
  const auto start2 = std::chrono::steady_clock::now();
  BankReply r2 = bounded.Check("alice", 0);
  EXPECT_EQ(r2.outcome, BankOutcome::kUnavailable);
  EXPECT_LT(r2.attempts, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - start2, 3000ms);
}

TEST_F(BankClientTest, DroppedConnectionsAreRetried) {
  sim_.SetFaults(/*fail_rate=*/0, 0, 0, /*drop_rate=*/1.0);
  BankReply r = bank_.Check("alice", 0);
  EXPECT_EQ(r.outcome, BankOutcome::kUnavailable);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(r.attempts, 3);
}

TEST(BankClientNoServerTest, RefusedConnectionIsUnavailable) {
  HttpClient http;
  BankClientOptions o;
  o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.app_id = "x";
  o.call_timeout = 500ms;
  o.retry.max_attempts = 2;
  o.retry.initial_backoff = 1ms;
  BankClient bank(http, o);
  BankReply r = bank.Commit({1});
  EXPECT_EQ(r.outcome, BankOutcome::kUnavailable);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_FALSE(r.message.empty());
}

}  // namespace
}  // namespace isucoin::effects
