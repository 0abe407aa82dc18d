// In-process server tests: ApiServer over MemoryLogs, the real matcher and LiveReadModel.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/api/exchange_harness.h"
#include "tests/api/http_client.h"

namespace isucoin::api::testing {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  // Signs up and signs in `bank_id` on `client`; returns the user id.
  long long SignUpIn(HttpClient& client, const std::string& bank_id, std::int64_t yen = 1'000'000) {
    ex.credit().SetBalance(bank_id, yen);
    auto r = client.Post(ex.url("/signup"), "name=n_" + bank_id + "&bank_id=" + bank_id +
                                                "&password=pw");
    EXPECT_EQ(r.status, 200) << r.body;
    r = client.Post(ex.url("/signin"), "bank_id=" + bank_id + "&password=pw");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("id", 0LL);
  }
  ExchangeHarness ex;
};

TEST_F(ServerTest, SignupSigninStatusCodes) {
  HttpClient c;
  ex.credit().SetBalance("alice", 100);
  EXPECT_EQ(c.Post(ex.url("/signup"), "name=A&bank_id=alice").status, 400);
  EXPECT_EQ(c.Post(ex.url("/signup"), "name=&bank_id=alice&password=x").status, 400);
  auto r = c.Post(ex.url("/signup"), "name=A&bank_id=nobank&password=x");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(json::parse(r.body).contains("error"));
  r = c.Post(ex.url("/signup"), "name=A%20B&bank_id=alice&password=x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(c.Post(ex.url("/signup"), "name=A&bank_id=alice&password=y").status, 409);
  EXPECT_EQ(c.Post(ex.url("/signin"), "bank_id=alice").status, 400);
  EXPECT_EQ(c.Post(ex.url("/signin"), "bank_id=alice&password=wrong").status, 404);
  EXPECT_EQ(c.Post(ex.url("/signin"), "bank_id=ghost&password=x").status, 404);
  r = c.Post(ex.url("/signin"), "bank_id=alice&password=x");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["name"], "A B");
  EXPECT_GT(j["id"].get<long long>(), 0);
  EXPECT_NE(r.headers.find("isucoin_session="), std::string::npos);
  EXPECT_NE(r.headers.find("HttpOnly"), std::string::npos);
  ex.credit().unavailable = true;
  EXPECT_EQ(c.Post(ex.url("/signup"), "name=A&bank_id=bob&password=x").status, 503);
}

TEST_F(ServerTest, BruteForceIsBlockedOnTheSixth) {
  HttpClient c;
  SignUpIn(c, "carol");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(c.Post(ex.url("/signin"), "bank_id=carol&password=bad").status, 404) << i;
  }
  auto r = c.Post(ex.url("/signin"), "bank_id=carol&password=pw");
  EXPECT_EQ(r.status, 403) << r.body;
}

TEST_F(ServerTest, SignedOutPaths) {
  HttpClient c;
  EXPECT_EQ(c.Get(ex.url("/orders")).status, 401);
  EXPECT_EQ(c.Post(ex.url("/orders"), "type=buy&amount=1&price=1").status, 401);
  EXPECT_EQ(c.Delete(ex.url("/order/1")).status, 401);
  // A forged cookie is no session.
  auto r = c.Get(ex.url("/orders"), {"Cookie: isucoin_session=1.99999999999999999.abcd"});
  EXPECT_EQ(r.status, 401);
  r = c.Get(ex.url("/info"));
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["cursor"], 0);
  EXPECT_FALSE(j.contains("traded_orders"));
  EXPECT_FALSE(j.contains("lowest_sell_price"));
  EXPECT_EQ(j["enable_share"], false);
  EXPECT_TRUE(j["chart_by_sec"].is_array());
}

TEST_F(ServerTest, OrdersReadYourWritesAndCancel) {
  HttpClient c;
  long long uid = SignUpIn(c, "dave");
  auto r = c.Post(ex.url("/orders"), "type=sell&amount=2&price=500");
  ASSERT_EQ(r.status, 200) << r.body;
  long long oid = json::parse(r.body)["id"];
  r = c.Get(ex.url("/orders"));
  ASSERT_EQ(r.status, 200);
  auto list = json::parse(r.body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], oid);
  EXPECT_EQ(list[0]["type"], "sell");
  EXPECT_EQ(list[0]["user_id"], uid);
  EXPECT_TRUE(list[0]["closed_at"].is_null());
  EXPECT_FALSE(list[0].contains("trade_id"));
  EXPECT_FALSE(list[0].contains("trade"));
  EXPECT_EQ(list[0]["user"]["name"], "n_dave");
  r = c.Delete(ex.url("/order/" + std::to_string(oid)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"id\":" + std::to_string(oid) + "}");
  EXPECT_EQ(c.Get(ex.url("/orders")).body, "[]");  // cancelled orders are left out
  EXPECT_EQ(c.Delete(ex.url("/order/" + std::to_string(oid))).status, 404);
  EXPECT_EQ(c.Delete(ex.url("/order/999999")).status, 404);
  EXPECT_EQ(c.Delete(ex.url("/order/abc")).status, 404);
  HttpClient other;
  SignUpIn(other, "erin");
  r = c.Post(ex.url("/orders"), "type=sell&amount=1&price=500");
  long long mine = json::parse(r.body)["id"];
  EXPECT_EQ(other.Delete(ex.url("/order/" + std::to_string(mine))).status, 404);
}

TEST_F(ServerTest, BadOrdersChangeNothing) {
  HttpClient c;
  SignUpIn(c, "frank", 1000);
  ASSERT_EQ(c.Post(ex.url("/orders"), "type=buy&amount=1&price=10").status, 200);
  std::string before = c.Get(ex.url("/orders")).body;
  for (const char* bad :
       {"type=hold&amount=1&price=1", "type=buy&amount=0&price=1", "type=buy&amount=-1&price=1",
        "type=buy&amount=1&price=abc", "type=buy&amount=1&price=9223372036854775808",
        "type=buy&amount=1000000001&price=1", "type=sell&amount=1&price=1000000001",
        "type=buy&amount=1", "type=buy&amount=1&price=%zz", "type=buy&type=sell&amount=1&price=1"}) {
    auto r = c.Post(ex.url("/orders"), bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << bad;
  }
  auto commands_before = ex.commands().End();
  auto r = c.Post(ex.url("/orders"), "type=buy&amount=10&price=1000");  // 10000 > 1000 yen
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("残高"), std::string::npos) << r.body;
  EXPECT_EQ(ex.commands().End(), commands_before + 1);  // BuyCreditRefused, for buy.error
  EXPECT_EQ(c.Get(ex.url("/orders")).body, before);
}

TEST_F(ServerTest, TradeShowsInInfoOnceSettledShape) {
  HttpClient buyer, seller;
  long long b = SignUpIn(buyer, "gina");
  SignUpIn(seller, "hank");
  ASSERT_EQ(seller.Post(ex.url("/orders"), "type=sell&amount=1&price=100").status, 200);
  auto r = buyer.Get(ex.url("/info?cursor=0"));
  auto j = json::parse(r.body);
  EXPECT_EQ(j["traded_orders"], json::array());
  EXPECT_EQ(j["enable_share"], (b % 10) < 3);
  // The match waits for the bank (no settlement worker here): the order looks open.
  ASSERT_EQ(buyer.Post(ex.url("/orders"), "type=buy&amount=1&price=100").status, 200);
  auto list = json::parse(buyer.Get(ex.url("/orders")).body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0].contains("trade"));
}

TEST_F(ServerTest, InitializeAnswersAndSignsEveryoneOut) {
  HttpClient c;
  SignUpIn(c, "ivan");
  EXPECT_EQ(c.Post(ex.url("/initialize"), "bank_endpoint=http://b&bank_appid=x").status, 400);
  auto r = c.Post(ex.url("/initialize"),
                  "bank_endpoint=http%3A%2F%2Fbank&bank_appid=a&log_endpoint=http%3A%2F%2Flog&log_appid=b");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(c.Get(ex.url("/orders")).status, 401);  // the user is gone; the cookie with it
}

TEST_F(ServerTest, SignoutClearsTheCookie) {
  HttpClient c;
  SignUpIn(c, "judy");
  EXPECT_EQ(c.Get(ex.url("/orders")).status, 200);
  auto r = c.Post(ex.url("/signout"), "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(c.Get(ex.url("/orders")).status, 401);
}

TEST_F(ServerTest, UnknownRouteAndWrongMethodAreJson) {
  HttpClient c;
  auto r = c.Get(ex.url("/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(json::parse(r.body).contains("error"));
  r = c.Request("PUT", ex.url("/nope"), "");
  EXPECT_EQ(r.status, 404);
  r = c.Get(ex.url("/signup"));
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(json::parse(r.body).contains("error"));
  EXPECT_NE(r.headers.find("Allow: POST"), std::string::npos);
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutItsText) {
  HttpClient c;
  ex.credit().throw_on_check = true;
  auto r = c.Post(ex.url("/signup"), "name=a&bank_id=k&password=p");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"internal error"})");
}

TEST_F(ServerTest, KeepAliveWithoutTheHeader) {
  HttpClient c;
  for (int i = 0; i < 5; ++i) {
    auto r = c.Get(ex.url("/info"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.num_connects, i == 0 ? 1 : 0) << i;  // 0 = reused the connection
  }
  // Raw HTTP/1.1 with no Connection header: the answer says keep-alive.
  auto raw = RawExchange(ex.server().port(), "GET /info HTTP/1.1\r\nHost: x\r\n\r\n", 1);
  EXPECT_NE(raw.find("Connection: Keep-Alive"), std::string::npos) << raw;
}

// Pistache reaps idle peers on a timer and looks up its own parser on each one; a connection
// kept open across that check once killed the whole process (uncaught exception).
TEST_F(ServerTest, AKeptAliveConnectionSurvivesTheIdlePeerCheck) {
  HttpClient c;
  ASSERT_EQ(c.Get(ex.url("/info")).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto again = c.Get(ex.url("/info"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.num_connects, 0);  // still the same connection
  HttpClient other;
  EXPECT_EQ(other.Get(ex.url("/info")).status, 200);  // and the server is alive
}

TEST_F(ServerTest, LargeFormsAnd413) {
  HttpClient c;
  SignUpIn(c, "kate");
  std::string pad(5 * 1024, 'x');
  auto r = c.Post(ex.url("/orders"), "type=sell&amount=1&price=7&pad=" + pad);
  EXPECT_EQ(r.status, 200) << r.body;
  std::string big(100 * 1024, 'y');
  r = c.Post(ex.url("/orders"), "type=sell&amount=1&price=7&pad=" + big);
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(json::parse(r.body).contains("error"));
}

TEST(ServerOptionsTest, A100KbFormPassesWhenTheLimitAllows) {
  ApiOptions o = ExchangeHarness::DefaultOptions();
  o.max_request_bytes = 256 * 1024;
  ExchangeHarness ex(o);
  HttpClient c;
  ex.credit().SetBalance("big", 1);
  auto r = c.Post(ex.url("/signup"), "name=" + std::string(100 * 1024, 'z') +
                                         "&bank_id=big&password=pw");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(ServerTest, PercentEncodedQuery) {
  HttpClient c;
  EXPECT_EQ(c.Get(ex.url("/info?cursor=%31%32")).status, 200);
  EXPECT_EQ(c.Get(ex.url("/info?cursor=")).status, 200);
  EXPECT_EQ(c.Get(ex.url("/info?cursor=-1")).status, 400);
  EXPECT_EQ(c.Get(ex.url("/info?cursor=%zz")).status, 400);
  EXPECT_EQ(c.Get(ex.url("/info?cursor=99999999999999999999")).status, 400);
}

TEST_F(ServerTest, PipelinedRequestsAllAnswerInOrder) {
  std::string one = "GET /nope1 HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string two = "GET /info HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string three = "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nbank_id=zz";
  auto raw = RawExchange(ex.server().port(), one + two + three, 3);
  auto p404 = raw.find("HTTP/1.1 404");
  auto p200 = raw.find("HTTP/1.1 200");
  auto p400 = raw.find("HTTP/1.1 400");
  ASSERT_NE(p404, std::string::npos) << raw;
  ASSERT_NE(p200, std::string::npos) << raw;
  ASSERT_NE(p400, std::string::npos) << raw;
  EXPECT_LT(p404, p200);
  EXPECT_LT(p200, p400);
}

TEST_F(ServerTest, MalformedFramingIsJsonAndCloses) {
  auto raw = RawExchange(ex.server().port(), "GARBAGE\r\n\r\n", 1);
  EXPECT_NE(raw.find("HTTP/1.1 400"), std::string::npos) << raw;
  EXPECT_NE(raw.find("{\"error\""), std::string::npos) << raw;
  raw = RawExchange(ex.server().port(),
                    "POST /signup HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1);
  EXPECT_NE(raw.find("HTTP/1.1 501"), std::string::npos) << raw;
}

TEST(StaticFilesTest, ServesIndexAndAnswers304) {
  auto dir = std::filesystem::temp_directory_path() / ("isucoin-web-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "assets");
  std::ofstream(dir / "index.html") << "<html>ISUCOIN</html>";
  std::ofstream(dir / "assets" / "app.js") << "console.log(1)";
  ApiOptions o = ExchangeHarness::DefaultOptions();
  o.web_root = dir.string();
  ExchangeHarness ex(o);
  HttpClient c;
  auto r = c.Get(ex.url("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html>ISUCOIN</html>");
  EXPECT_NE(r.headers.find("text/html"), std::string::npos);
  auto etag_at = r.headers.find("ETag: ");
  ASSERT_NE(etag_at, std::string::npos);
  std::string etag = r.headers.substr(etag_at + 6, r.headers.find("\r\n", etag_at) - etag_at - 6);
  EXPECT_EQ(c.Get(ex.url("/"), {"If-None-Match: " + etag}).status, 304);
  EXPECT_EQ(c.Get(ex.url("/"), {"If-None-Match: \"other\""}).status, 200);
  EXPECT_EQ(c.Get(ex.url("/"), {"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"}).status, 304);
  EXPECT_EQ(c.Get(ex.url("/"), {"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"}).status, 200);
  r = c.Get(ex.url("/assets/app.js"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("javascript"), std::string::npos);
  EXPECT_EQ(c.Get(ex.url("/../etc/passwd")).status, 404);
  EXPECT_EQ(c.Get(ex.url("/%2e%2e/etc/passwd")).status, 404);
  EXPECT_EQ(c.Get(ex.url("/missing.js")).status, 404);
  std::filesystem::remove_all(dir);
}

TEST_F(ServerTest, ClientGoneBeforeTheAnswerIsHarmless) {
  ex.credit().SetBalance("gone", 1);
  // The answer is sent from a worker after the peer closed: a rejected send, not a crash.
  RawExchange(ex.server().port(),
              "POST /signup HTTP/1.1\r\nContent-Length: 30\r\n\r\nname=a&bank_id=gone&password=p", 0,
              0);
  HttpClient c;
  EXPECT_EQ(c.Get(ex.url("/info")).status, 200);
  EXPECT_EQ(c.Post(ex.url("/signup"), "name=a&bank_id=gone&password=p").status, 409);
}

TEST_F(ServerTest, MetricsCountRequests) {
  HttpClient c;
  c.Get(ex.url("/info"));
  auto r = c.Get(ex.url("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("isucoin_http_requests_total{route=\"/info\",status=\"200\"} 1"),
            std::string::npos) << r.body;
  EXPECT_NE(r.body.find("isucoin_http_request_duration_seconds_bucket{route=\"/info\""),
            std::string::npos);
}

}  // namespace
}  // namespace isucoin::api::testing

namespace isucoin::api::testing {
namespace {

// Sign-ins cost a bcrypt each (~50-100 ms of CPU at cost 10). They run on their own pool, so a
// burst of them (an attacker, a crowd arriving) does not queue orders behind it. Compared
// within one run: the order must come back well before the burst is through.
TEST(ServerPoolsTest, ABurstOfSignInsDoesNotQueueOrdersBehindIt) {
  ApiOptions o = ExchangeHarness::DefaultOptions();
  o.bcrypt_cost = 10;
  o.worker_threads = 4;
  o.auth_worker_threads = 2;
  ExchangeHarness ex(o);
  HttpClient trader;
  ex.credit().SetBalance("trader", 1'000'000);
  ASSERT_EQ(trader.Post(ex.url("/signup"), "name=t&bank_id=trader&password=pw").status, 200);
  ASSERT_EQ(trader.Post(ex.url("/signin"), "bank_id=trader&password=pw").status, 200);

  using Clock = std::chrono::steady_clock;
  const auto burst_start = Clock::now();
  std::vector<std::thread> burst;
  for (int i = 0; i < 24; ++i) {
    burst.emplace_back([&ex, i] {
      HttpClient c;  // unknown bank ids: a full bcrypt against the dummy hash, then 404
      EXPECT_EQ(c.Post(ex.url("/signin"), "bank_id=ghost" + std::to_string(i) + "&password=x").status, 404);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the burst is queued by now
  const auto order_start = Clock::now();
  auto r = trader.Post(ex.url("/orders"), "type=buy&amount=1&price=100");
  const auto order_time = Clock::now() - order_start;
  EXPECT_EQ(r.status, 200) << r.body;
  for (auto& t : burst) t.join();
  const auto burst_time = Clock::now() - burst_start;
  EXPECT_LT(order_time * 4, burst_time)
      << "order " << std::chrono::duration_cast<std::chrono::milliseconds>(order_time).count()
      << " ms, burst " << std::chrono::duration_cast<std::chrono::milliseconds>(burst_time).count()
      << " ms";
}

}  // namespace
}  // namespace isucoin::api::testing
