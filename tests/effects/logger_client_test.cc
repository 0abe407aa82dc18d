// LoggerClient against the real simulator (tools/isusim): every outcome of SPEC.md's
// /send_bulk and /send, and that no call outlives its timeout.
#include "effects/logger_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "tests/support/isusim_process.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;
using test_support::IsusimProcess;

LoggerRecord Signin(std::int64_t user_id) {
  return LoggerRecord{"signin", "2018-10-16T09:00:00+09:00", {{"user_id", user_id}}};
}

class LoggerClientTest : public ::testing::Test {
 protected:
  IsusimProcess sim_;
  LoggerClient client_{LoggerClientOptions{{sim_.logger_url(), sim_.appid()}, 2000ms}};
};

TEST_F(LoggerClientTest, BulkIsAcceptedAndStoredAsSent) {
  std::vector<LoggerRecord> records = {Signin(1), Signin(2), Signin(3)};
  LoggerReply reply = client_.SendBulk(records);
  EXPECT_EQ(reply.outcome, LoggerOutcome::kOk) << reply.detail;
  EXPECT_EQ(reply.http_status, 200);
  auto logs = sim_.Logs();
  ASSERT_EQ(logs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(logs[i]["tag"], "signin");
    EXPECT_EQ(logs[i]["time"], "2018-10-16T09:00:00+09:00");
    EXPECT_EQ(logs[i]["data"]["user_id"], i + 1);
    EXPECT_EQ(logs[i]["appid"], sim_.appid());
  }
}

TEST_F(LoggerClientTest, SingleSendIsAccepted) {
  EXPECT_EQ(client_.Send(Signin(9)).outcome, LoggerOutcome::kOk);
  EXPECT_EQ(sim_.Logs().size(), 1u);
}

TEST_F(LoggerClientTest, BodyOverOneMegabyteIsTooLarge) {
  LoggerRecord big = Signin(1);
  big.data["padding"] = std::string(1 << 20, 'x');
  LoggerReply reply = client_.SendBulk(std::vector<LoggerRecord>{big});
  EXPECT_EQ(reply.outcome, LoggerOutcome::kTooLarge);
  EXPECT_EQ(reply.http_status, 413);
  EXPECT_EQ(sim_.Logs().size(), 0u);
}

TEST_F(LoggerClientTest, MalformedRecordIsBadRequest) {
  LoggerReply reply = client_.SendBulkBody(R"([{"tag":"","time":"x","data":{}}])");
  EXPECT_EQ(reply.outcome, LoggerOutcome::kBadRequest);
  EXPECT_EQ(reply.http_status, 400);
  EXPECT_FALSE(reply.detail.empty());  // the service's reason, for the operator
}

TEST_F(LoggerClientTest, WrongAppIdIsUnknownAppId) {
  LoggerClient stranger(LoggerClientOptions{{sim_.logger_url(), "not-our-app"}, 2000ms});
  EXPECT_EQ(stranger.SendBulk(std::vector<LoggerRecord>{Signin(1)}).outcome,
            LoggerOutcome::kUnknownAppId);
}

TEST_F(LoggerClientTest, MoreThanTwentyPerSecondIsRateLimited) {
  int ok = 0, limited = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 25; ++i) {
    LoggerReply r = client_.SendBulk(std::vector<LoggerRecord>{Signin(i)});
    if (r.outcome == LoggerOutcome::kOk) ++ok;
    if (r.outcome == LoggerOutcome::kRateLimited) ++limited;
  }
  // With a zero-latency simulator 25 calls take far less than a second.
  if (std::chrono::steady_clock::now() - t0 < 900ms) {
    EXPECT_EQ(ok, 20);
    EXPECT_EQ(limited, 5);
  } else {
    EXPECT_GT(ok, 0);
  }
}

TEST_F(LoggerClientTest, ServerErrorIsUnavailable) {
  sim_.SetFaults(1.0);
  LoggerReply reply = client_.SendBulk(std::vector<LoggerRecord>{Signin(1)});
  EXPECT_EQ(reply.outcome, LoggerOutcome::kUnavailable);
  EXPECT_GE(reply.http_status, 500);
}

TEST_F(LoggerClientTest, DroppedConnectionIsUnavailable) {
  sim_.SetFaults(0, 0, 0, 1.0);
  LoggerReply reply = client_.SendBulk(std::vector<LoggerRecord>{Signin(1)});
  EXPECT_EQ(reply.outcome, LoggerOutcome::kUnavailable);
  EXPECT_EQ(reply.http_status, 0);
}

TEST_F(LoggerClientTest, SlowAnswerTimesOutAsUnavailableWithoutHanging) {
  sim_.SetFaults(0, 1.0, 5000);
  LoggerClient impatient(LoggerClientOptions{{sim_.logger_url(), sim_.appid()}, 300ms});
  const auto t0 = std::chrono::steady_clock::now();
  LoggerReply reply = impatient.SendBulk(std::vector<LoggerRecord>{Signin(1)});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(reply.outcome, LoggerOutcome::kUnavailable);
  EXPECT_EQ(reply.http_status, 0);
}

TEST_F(LoggerClientTest, ServiceGoneIsUnavailable) {
  const std::string url = sim_.logger_url();
  sim_.Stop();
  LoggerClient client(LoggerClientOptions{{url, "isucoin-dev"}, 1000ms});
  LoggerReply reply = client.SendBulk(std::vector<LoggerRecord>{Signin(1)});
  EXPECT_EQ(reply.outcome, LoggerOutcome::kUnavailable);
  EXPECT_EQ(reply.http_status, 0);
}

TEST(LoggerClientClassifyTest, StatusCodes) {
  EXPECT_EQ(LoggerClient::Classify(200), LoggerOutcome::kOk);
  EXPECT_EQ(LoggerClient::Classify(400), LoggerOutcome::kBadRequest);
  EXPECT_EQ(LoggerClient::Classify(401), LoggerOutcome::kUnknownAppId);
  EXPECT_EQ(LoggerClient::Classify(413), LoggerOutcome::kTooLarge);
  EXPECT_EQ(LoggerClient::Classify(429), LoggerOutcome::kRateLimited);
  EXPECT_EQ(LoggerClient::Classify(500), LoggerOutcome::kUnavailable);
  EXPECT_EQ(LoggerClient::Classify(503), LoggerOutcome::kUnavailable);
}

TEST(LoggerClientNoEndpointTest, IsUnavailableWithoutCalling) {
  LoggerClient client(LoggerClientOptions{{}, 100ms});
  EXPECT_EQ(client.SendBulk(std::vector<LoggerRecord>{Signin(1)}).outcome,
            LoggerOutcome::kUnavailable);
}

}  // namespace
}  // namespace isucoin::effects
