// tools/isusim over HTTP, started through tests/support/isusim_process.h: every status path of
// the bank and the logger, failure injection, and answers that wait without adding up.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/isusim_process.h"

namespace isucoin::test_support {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::string ErrorOf(const HttpResult& r) {
  json j = r.Json();
  return j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "<none>";
}

int64_t Reserve(const IsusimProcess& sim, const std::string& bank_id, int64_t price) {
  HttpResult r = sim.Bank("/reserve", {{"bank_id", bank_id}, {"price", price}});
  EXPECT_EQ(r.status, 200) << r.body;
  return r.Json().value("reserve_id", int64_t{-1});
}

json ReservationById(const IsusimProcess& sim, int64_t id) {
  for (const json& r : sim.Reservations()) {
    if (r["reserve_id"] == id) return r;
  }
  return nullptr;
}

// Requests of `service` `path` answered `status` so far, per /admin/stats.
int64_t StatCount(const IsusimProcess& sim, const std::string& service, const std::string& path,
                  const std::string& status) {
  json stats = sim.Stats();
  if (!stats.contains(service) || !stats[service].contains(path)) return 0;
  return stats[service][path].value(status, int64_t{0});
}

json Record(const std::string& tag, json data = json::object()) {
  return {{"tag", tag}, {"time", "2018-10-20T12:00:00+09:00"}, {"data", std::move(data)}};
}

// ---------------------------------------------------------------- bank

TEST(IsusimBankHttp, Check) {
  IsusimProcess sim;
  sim.SetCredit("alice", 1000);
  EXPECT_EQ(sim.Bank("/check", {{"bank_id", "alice"}, {"price", 1000}}).status, 200);
  EXPECT_EQ(sim.Bank("/check", {{"bank_id", "alice"}, {"price", 0}}).Json(), json::object());
  HttpResult poor = sim.Bank("/check", {{"bank_id", "alice"}, {"price", 1001}});
  EXPECT_EQ(poor.status, 400);
  EXPECT_EQ(ErrorOf(poor), "credit is insufficient");
  HttpResult missing = sim.Bank("/check", {{"bank_id", "bob"}, {"price", 0}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorOf(missing), "no such account");
  // Pending withdrawals are not counted by /check.
  Reserve(sim, "alice", -1000);
  EXPECT_EQ(sim.Bank("/check", {{"bank_id", "alice"}, {"price", 1000}}).status, 200);
}

TEST(IsusimBankHttp, AppIdIsChecked) {
  IsusimProcess sim({"--appid", "good", "--appid", "also-good"});
  EXPECT_EQ(sim.appid(), "good");
  sim.SetCredit("alice", 10);
  const std::string body = json{{"bank_id", "alice"}, {"price", 1}}.dump();
  for (const char* path : {"/check", "/reserve", "/commit", "/cancel"}) {
    HttpResult wrong = IsusimProcess::Post(sim.bank_url() + path, body, "bad");
    EXPECT_EQ(wrong.status, 401) << path;
    EXPECT_EQ(ErrorOf(wrong), "unknown app id");
    HttpResult none = IsusimProcess::Post(sim.bank_url() + path, body, "");
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_THAT(ErrorOf(none), HasSubstr("Bearer"));
  }
  EXPECT_EQ(IsusimProcess::Post(sim.bank_url() + "/check", body, "also-good").status, 200);
  EXPECT_TRUE(sim.Reservations().empty());
}

TEST(IsusimBankHttp, ReserveHoldsWithdrawalsAgainstCredit) {
  IsusimProcess sim;
  sim.SetCredit("alice", 100);
  int64_t first = Reserve(sim, "alice", -70);
  EXPECT_GT(first, 0);
  HttpResult refused = sim.Bank("/reserve", {{"bank_id", "alice"}, {"price", -31}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(ErrorOf(refused), "credit is insufficient");
  int64_t deposit = Reserve(sim, "alice", 5000);
  EXPECT_GT(deposit, first);
  Reserve(sim, "alice", -30);
  json account = sim.Account("alice");
  EXPECT_EQ(account["credit"], 100);
  EXPECT_EQ(account["pending_withdrawals"], 100);
  EXPECT_EQ(account["pending_deposits"], 5000);

  HttpResult zero = sim.Bank("/reserve", {{"bank_id", "alice"}, {"price", 0}});
  EXPECT_EQ(zero.status, 400);
  EXPECT_THAT(ErrorOf(zero), HasSubstr("price"));
  HttpResult nobody = sim.Bank("/reserve", {{"bank_id", "nobody"}, {"price", 10}});
  EXPECT_EQ(nobody.status, 404);
  EXPECT_EQ(ErrorOf(nobody), "no such account");
}

TEST(IsusimBankHttp, CommitMovesMoneyOnceAndAllOrNothing) {
  IsusimProcess sim;
  sim.SetCredit("buyer", 1000);
  sim.SetCredit("seller", 0);
  int64_t pay = Reserve(sim, "buyer", -600);
  int64_t get = Reserve(sim, "seller", 600);

  HttpResult unknown = sim.Bank("/commit", {{"reserve_ids", {pay, get, 424242}}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorOf(unknown), "reserve_id 424242 not found");
  EXPECT_EQ(sim.Account("buyer")["credit"], 1000);

  EXPECT_EQ(sim.Bank("/commit", {{"reserve_ids", {get}}}).status, 200);
  HttpResult mixed = sim.Bank("/commit", {{"reserve_ids", {pay, get}}});
  EXPECT_EQ(mixed.status, 400);
  EXPECT_EQ(ErrorOf(mixed), "reserve_id " + std::to_string(get) + " is already committed");
  EXPECT_EQ(sim.Account("buyer")["credit"], 1000) << "nothing of a refused batch applies";
  EXPECT_EQ(ReservationById(sim, pay)["state"], "pending");

  EXPECT_EQ(sim.Bank("/commit", {{"reserve_ids", {pay}}}).status, 200);
  EXPECT_EQ(sim.Account("buyer")["credit"], 400);
  EXPECT_EQ(sim.Account("seller")["credit"], 600);
  EXPECT_EQ(sim.Account("buyer")["pending_withdrawals"], 0);
  json r = ReservationById(sim, pay);
  EXPECT_EQ(r["state"], "committed");
  EXPECT_EQ(r["commit_count"], 1);
  EXPECT_EQ(r["bank_id"], "buyer");
  EXPECT_EQ(r["price"], -600);
  EXPECT_GT(r["reserved_at_ms"].get<int64_t>(), 0);

  HttpResult empty = sim.Bank("/commit", {{"reserve_ids", json::array()}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_THAT(ErrorOf(empty), HasSubstr("empty"));
}

TEST(IsusimBankHttp, CancelReleasesAndAnswersLikeCommit) {
  IsusimProcess sim;
  sim.SetCredit("alice", 100);
  int64_t id = Reserve(sim, "alice", -100);
  EXPECT_EQ(sim.Bank("/reserve", {{"bank_id", "alice"}, {"price", -1}}).status, 400);
  EXPECT_EQ(sim.Bank("/cancel", {{"reserve_ids", {id}}}).status, 200);
  EXPECT_EQ(sim.Account("alice")["pending_withdrawals"], 0);
  EXPECT_EQ(sim.Account("alice")["credit"], 100);
  HttpResult again = sim.Bank("/cancel", {{"reserve_ids", {id}}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(ErrorOf(again), "reserve_id " + std::to_string(id) + " is already cancelled");
  EXPECT_EQ(ErrorOf(sim.Bank("/commit", {{"reserve_ids", {id}}})),
            "reserve_id " + std::to_string(id) + " is already cancelled");
  EXPECT_EQ(sim.Bank("/cancel", {{"reserve_ids", {id + 100}}}).status, 404);
  EXPECT_EQ(ReservationById(sim, id)["state"], "cancelled");
  int64_t committed = Reserve(sim, "alice", -1);
  ASSERT_EQ(sim.Bank("/commit", {{"reserve_ids", {committed}}}).status, 200);
  EXPECT_EQ(ErrorOf(sim.Bank("/cancel", {{"reserve_ids", {committed}}})),
            "reserve_id " + std::to_string(committed) + " is already committed");
}

TEST(IsusimBankHttp, ReservationsExpireAfterTheTtl) {
  IsusimProcess sim({"--reservation-ttl-ms", "300"});
  sim.SetCredit("alice", 100);
  int64_t early = Reserve(sim, "alice", -50);
  int64_t late = Reserve(sim, "alice", -50);
  ASSERT_EQ(sim.Bank("/commit", {{"reserve_ids", {early}}}).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  HttpResult expired = sim.Bank("/commit", {{"reserve_ids", {late}}});
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(ErrorOf(expired), "reserve_id " + std::to_string(late) + " is expired");
  EXPECT_EQ(sim.Bank("/cancel", {{"reserve_ids", {late}}}).status, 400);
  EXPECT_EQ(ReservationById(sim, late)["state"], "expired");
  EXPECT_EQ(ReservationById(sim, early)["state"], "committed");
  // The expired withdrawal no longer holds credit.
  EXPECT_EQ(sim.Account("alice")["pending_withdrawals"], 0);
  Reserve(sim, "alice", -50);
}

TEST(IsusimBankHttp, MalformedBodiesAre400WithAMessage) {
  IsusimProcess sim;
  sim.SetCredit("a", 10);
  std::vector<std::string> bodies = {
      "",
      "{",
      "null",
      "[]",
      "123",
      "\"a\"",
      "{}",
      R"({"bank_id":1,"price":1})",
      R"({"bank_id":"a","price":"1"})",
      R"({"bank_id":"a","price":1.5})",
      R"({"bank_id":"a","price":18446744073709551615})",
      R"({"bank_id":"a","price":-92233720368547758090})",
      R"({"bank_id":null,"price":null})",
      R"({"reserve_ids":"1"})",
      R"({"reserve_ids":["1"]})",
      R"({"reserve_ids":[1.5]})",
      R"({"reserve_ids":[[1]]})",
      R"({"reserve_ids":{"0":1}})",
      "\xff\xfe\x00\x01",
      "{\"bank_id\":\"a\",\"price\":1}garbage",
  };
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    bodies.push_back(junk);
  }
  for (const char* path : {"/check", "/reserve", "/commit", "/cancel"}) {
    for (const std::string& body : bodies) {
      HttpResult r = IsusimProcess::Post(sim.bank_url() + path, body, sim.appid());
      // A body that happens to be valid for the other endpoint kind is fine to accept.
      if (r.status == 200 || r.status == 404) continue;
      EXPECT_EQ(r.status, 400) << path << " " << json(body).dump(-1, ' ', false, json::error_handler_t::replace);
      EXPECT_NE(ErrorOf(r), "<none>") << r.body;
    }
  }
  EXPECT_EQ(sim.Bank("/check", {{"bank_id", "a"}, {"price", 10}}).status, 200) << "still serving";
  EXPECT_EQ(sim.Account("a")["credit"], 10);
}

TEST(IsusimBankHttp, UnknownPathsAndMethods) {
  IsusimProcess sim;
  EXPECT_EQ(sim.Bank("/nope", json::object()).status, 404);
  HttpResult get = IsusimProcess::Get(sim.bank_url() + "/check");
  EXPECT_EQ(get.status, 405);
  EXPECT_NE(ErrorOf(get), "<none>");
  EXPECT_EQ(IsusimProcess::Get(sim.bank_url() + "/admin/nope").status, 404);
  EXPECT_EQ(IsusimProcess::Get(sim.bank_url() + "/admin/accounts/nobody").status, 404);
  // Echoed paths with bytes that are not UTF-8 must not turn into a 500.
  EXPECT_EQ(sim.Bank("/%FF%FE", json::object()).status, 404);
  EXPECT_EQ(IsusimProcess::Get(sim.bank_url() + "/admin/accounts/%FF").status, 404);
  EXPECT_TRUE(sim.Account("nobody").is_null());
}

// ---------------------------------------------------------------- logger

TEST(IsusimLoggerHttp, SendAndSendBulkKeepRecordsInOrder) {
  IsusimProcess sim({"--appid", "app1", "--appid", "app2"});
  int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_EQ(sim.Logger("/send", Record("signup", {{"user_id", 1}})).status, 200);
  HttpResult bulk = IsusimProcess::Post(sim.logger_url() + "/send_bulk",
                                        json::array({Record("buy.order", {{"amount", 2}}), Record("trade")}).dump(),
                                        "app2");
  EXPECT_EQ(bulk.status, 200);
  EXPECT_EQ(bulk.Json(), json::object());
  json logs = sim.Logs();
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0]["tag"], "signup");
  EXPECT_EQ(logs[0]["appid"], "app1");
  EXPECT_EQ(logs[0]["data"], json({{"user_id", 1}}));
  EXPECT_EQ(logs[0]["time"], "2018-10-20T12:00:00+09:00");
  EXPECT_GE(logs[0]["received_at_ms"].get<int64_t>(), before);
  EXPECT_EQ(logs[1]["tag"], "buy.order");
  EXPECT_EQ(logs[1]["appid"], "app2");
  EXPECT_EQ(logs[2]["tag"], "trade");
  ASSERT_EQ(sim.Logs(2).size(), 1u);
  EXPECT_EQ(sim.Logs(2)[0]["tag"], "trade");
}

TEST(IsusimLoggerHttp, BadRecordsAre400AndNothingIsKept) {
  std::vector<std::string> appids;
  std::vector<std::string> args;
  for (int i = 0; i < 40; ++i) {  // a fresh app id per request keeps clear of the rate limit
    appids.push_back("a" + std::to_string(i));
    args.insert(args.end(), {"--appid", appids.back()});
  }
  IsusimProcess sim(args);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/send", ""},
      {"/send", "{"},
      {"/send", "[]"},
      {"/send", R"({"time":"t","data":{}})"},
      {"/send", R"({"tag":1,"time":"t","data":{}})"},
      {"/send", R"({"tag":"x","time":12,"data":{}})"},
      {"/send", R"({"tag":"x","time":"t","data":[]})"},
      {"/send", R"({"tag":"x","time":"t"})"},
      {"/send", R"({"tag":"","time":"t","data":{}})"},
      {"/send", "\xff\xff"},
      {"/send_bulk", R"({"tag":"x","time":"t","data":{}})"},
      {"/send_bulk", "[]"},
      {"/send_bulk", R"([{"tag":"x","time":"t","data":{}}, 5])"},
      {"/send_bulk", R"([{"tag":"x","time":"t","data":{}}, {"tag":"y","time":"t","data":"s"}])"},
      {"/send_bulk", "[{"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    HttpResult r = IsusimProcess::Post(sim.logger_url() + cases[i].first, cases[i].second, appids[i]);
    EXPECT_EQ(r.status, 400) << cases[i].first << " " << i;
    EXPECT_NE(ErrorOf(r), "<none>") << r.body;
  }
  HttpResult named = IsusimProcess::Post(sim.logger_url() + "/send_bulk", cases[13].second, appids[30]);
  EXPECT_THAT(ErrorOf(named), HasSubstr("record 1"));
  EXPECT_TRUE(sim.Logs().empty());

  HttpResult wrong = IsusimProcess::Post(sim.logger_url() + "/send", Record("x").dump(), "intruder");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ErrorOf(wrong), "unknown app id");
  EXPECT_EQ(IsusimProcess::Post(sim.logger_url() + "/send_bulk", json::array({Record("x")}).dump(), "").status, 401);
  EXPECT_EQ(IsusimProcess::Post(sim.logger_url() + "/other", "{}", appids[31]).status, 404);
  EXPECT_TRUE(sim.Logs().empty());
}

// A /send_bulk body of exactly `size` bytes.
std::string BulkOfSize(size_t size) {
  const std::string head = R"([{"tag":"pad","time":"t","data":{"p":")";
  const std::string tail = R"("}}])";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

TEST(IsusimLoggerHttp, BodyLimitIsOneMebibyte) {
  IsusimProcess sim;
  const std::string at_limit = BulkOfSize(1048576);
  ASSERT_EQ(at_limit.size(), 1048576u);
  EXPECT_EQ(IsusimProcess::Post(sim.logger_url() + "/send_bulk", at_limit, sim.appid()).status, 200);
  HttpResult over = IsusimProcess::Post(sim.logger_url() + "/send_bulk", BulkOfSize(1048577), sim.appid());
  EXPECT_EQ(over.status, 413);
  EXPECT_NE(ErrorOf(over), "<none>");
  EXPECT_EQ(sim.Logs().size(), 1u);
  // Far over the limit: still a clean 413, not a reset connection.
  EXPECT_EQ(IsusimProcess::Post(sim.logger_url() + "/send", std::string(5 << 20, ' '), sim.appid()).status, 413);
}

TEST(IsusimLoggerHttp, TwentyFirstRequestInASecondIs429) {
  IsusimProcess sim;
  // The 21 requests must land within one second; a stalled machine gets another try.
  bool checked = false;
  for (int attempt = 0; attempt < 3 && !checked; ++attempt) {
    sim.Reset();
    auto start = Clock::now();
    std::vector<long> statuses;
    for (int i = 0; i < 21; ++i) statuses.push_back(sim.Logger("/send", Record("r")).status);
    if (Clock::now() - start > std::chrono::milliseconds(800)) continue;
    checked = true;
    for (int i = 0; i < 20; ++i) EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(statuses[20], 429);
    HttpResult limited = sim.Logger("/send", Record("r"));
    EXPECT_EQ(limited.status, 429);
    EXPECT_THAT(ErrorOf(limited), HasSubstr("second"));
  }
  ASSERT_TRUE(checked) << "machine too slow to send 21 requests in 800 ms";
  EXPECT_EQ(sim.Logs().size(), 20u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(sim.Logger("/send", Record("later")).status, 200);
  EXPECT_EQ(StatCount(sim, "logger", "/send", "429"), 2);
}

TEST(IsusimLoggerHttp, EleventhRequestInFlightIs429) {
  IsusimProcess sim({"--logger-ms", "800"});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      if (sim.Logger("/send", Record("slow")).status == 200) ++ok;
    });
  }
  // The simulator counts a request when it handles it, before its delayed answer leaves.
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (StatCount(sim, "logger", "/send", "200") < 10 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  HttpResult eleventh = sim.Logger("/send", Record("one too many"));
  EXPECT_EQ(eleventh.status, 429);
  EXPECT_THAT(ErrorOf(eleventh), HasSubstr("in flight"));
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(sim.Logger("/send", Record("after")).status, 200) << "in-flight slots are released";
  EXPECT_EQ(sim.Logs().size(), 11u);
}

// ---------------------------------------------------------------- faults, admin, HTTP

TEST(IsusimFaults, ProportionsFollowTheRates) {
  IsusimProcess sim({"--seed", "42", "--fail-rate", "0.3", "--drop-rate", "0.1"});
  sim.SetCredit("a", 1);
  int failed = 0, dropped = 0, ok = 0;
  for (int i = 0; i < 1000; ++i) {
    HttpResult r = sim.Bank("/check", {{"bank_id", "a"}, {"price", 1}});
    if (r.status == 500) {
      ++failed;
      EXPECT_EQ(ErrorOf(r), "injected failure");
    } else if (r.status == 0) {
      ++dropped;
    } else if (r.status == 200) {
      ++ok;
    }
  }
  EXPECT_EQ(failed + dropped + ok, 1000);
  EXPECT_GT(failed, 200);
  EXPECT_LT(failed, 400);
  EXPECT_GT(dropped, 50);
  EXPECT_LT(dropped, 150);
  EXPECT_EQ(StatCount(sim, "bank", "/check", "500"), failed);
  EXPECT_EQ(StatCount(sim, "bank", "/check", "dropped"), dropped);
  EXPECT_EQ(StatCount(sim, "bank", "/check", "200"), ok);
}

TEST(IsusimFaults, FailedCallsAreNotAppliedDroppedOnesAre) {
  IsusimProcess sim;
  sim.SetCredit("a", 100);
  sim.SetFaults(1.0);
  EXPECT_EQ(sim.Bank("/reserve", {{"bank_id", "a"}, {"price", -10}}).status, 500);
  EXPECT_EQ(sim.Logger("/send", Record("x")).status, 500);
  EXPECT_TRUE(sim.Reservations().empty());
  EXPECT_TRUE(sim.Logs().empty());
  sim.SetFaults(0, 0, 0, 1.0);
  HttpResult dropped = sim.Bank("/reserve", {{"bank_id", "a"}, {"price", -10}});
  EXPECT_EQ(dropped.status, 0) << dropped.body;
  ASSERT_EQ(sim.Reservations().size(), 1u) << "a dropped call still happened at the bank";
  sim.SetFaults(0);
  int64_t id = sim.Reservations()[0]["reserve_id"];
  EXPECT_EQ(sim.Bank("/commit", {{"reserve_ids", {id}}}).status, 200);
}

TEST(IsusimFaults, SlowAnswersComeLate) {
  IsusimProcess sim({"--slow-rate", "1", "--slow-ms", "250"});
  sim.SetCredit("a", 1);
  auto start = Clock::now();
  EXPECT_EQ(sim.Bank("/check", {{"bank_id", "a"}, {"price", 1}}).status, 200);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(250));
}

TEST(IsusimAdmin, FaultsValidationResetAndStats) {
  IsusimProcess sim({"--fail-rate", "0.5"});
  EXPECT_EQ(IsusimProcess::Get(sim.bank_url() + "/admin/faults").Json()["fail_rate"], 0.5);
  EXPECT_EQ(IsusimProcess::Post(sim.bank_url() + "/admin/faults", R"({"fail_rate":1.5})", "").status, 400);
  EXPECT_EQ(IsusimProcess::Post(sim.bank_url() + "/admin/faults", R"({"fail_rate":0.6,"drop_rate":0.6})", "").status,
            400);
  EXPECT_EQ(IsusimProcess::Post(sim.bank_url() + "/admin/faults", R"({"slow_ms":-1})", "").status, 400);
  EXPECT_EQ(IsusimProcess::Post(sim.bank_url() + "/admin/accounts", R"({"bank_id":"x"})", "").status, 400);
  EXPECT_EQ(IsusimProcess::Post(sim.bank_url() + "/admin/accounts", "nonsense", "").status, 400);
  sim.SetFaults(0);
  sim.SetCredit("weird id/with space", 5);
  EXPECT_EQ(sim.Account("weird id/with space")["credit"], 5);
  Reserve(sim, "weird id/with space", 1);
  EXPECT_EQ(sim.Logger("/send", Record("x")).status, 200);
  EXPECT_EQ(StatCount(sim, "bank", "/reserve", "200"), 1);
  sim.Reset();
  EXPECT_TRUE(sim.Account("weird id/with space").is_null());
  EXPECT_TRUE(sim.Reservations().empty());
  EXPECT_TRUE(sim.Logs().empty());
  EXPECT_EQ(IsusimProcess::Get(sim.bank_url() + "/admin/faults").Json()["fail_rate"], 0.5) << "back to the flags";
}

TEST(IsusimAdmin, AccountsFileSeedsTheBank) {
  char path[] = "/tmp/isusim-accounts-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string lines = "{\"bank_id\":\"alice\",\"credit\":10}\n\n{\"bank_id\":\"bob\",\"credit\":20}\n";
  ASSERT_EQ(write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  close(fd);
  {
    IsusimProcess sim({"--accounts", path});
    EXPECT_EQ(sim.Account("alice")["credit"], 10);
    EXPECT_EQ(sim.Account("bob")["credit"], 20);
  }
  unlink(path);
  EXPECT_THROW(IsusimProcess({"--accounts", "/nonexistent/accounts.jsonl"}), std::runtime_error);
  EXPECT_THROW(IsusimProcess({"--latency", "fast"}), std::runtime_error);
}

// Sends raw bytes on one connection and reads until `responses` answers (or EOF) arrived.
std::string RawExchange(const std::string& base_url, const std::string& bytes, int responses, bool* closed) {
  int port = std::stoi(base_url.substr(base_url.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  EXPECT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  std::string got;
  char buf[4096];
  *closed = false;
  auto count = [&] {
    int n = 0;
    for (size_t p = 0; (p = got.find("HTTP/1.1 ", p)) != std::string::npos; ++p) ++n;
    return n;
  };
  while (count() < responses || got.rfind("\r\n\r\n") == std::string::npos ||
         got.size() - got.rfind("\r\n\r\n") - 4 < 2) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = n == 0;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  if (!*closed) {
    // Is the server keeping the connection? A closed one reads EOF at once.
    timeval short_tv{0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &short_tv, sizeof short_tv);
    *closed = recv(fd, buf, sizeof buf, 0) == 0;
  }
  close(fd);
  return got;
}

std::string RawPost(const std::string& path, const std::string& body, const std::string& extra_headers = "",
                    const std::string& version = "HTTP/1.1") {
  return "POST " + path + " " + version + "\r\nHost: x\r\nAuthorization: Bearer isucoin-dev\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(IsusimHttp, KeepAliveByDefaultAndPipelinedAnswersInOrder) {
  IsusimProcess sim({"--check-ms", "100"});
  sim.SetCredit("a", 5);
  bool closed = false;
  // The first answer is slow; the second must still come after it, each once.
  std::string got = RawExchange(sim.bank_url(),
                                RawPost("/check", R"({"bank_id":"a","price":5})") +
                                    RawPost("/check", R"({"bank_id":"nobody","price":5})"),
                                2, &closed);
  size_t first = got.find("HTTP/1.1 200");
  size_t second = got.find("HTTP/1.1 404");
  ASSERT_NE(first, std::string::npos) << got;
  ASSERT_NE(second, std::string::npos) << got;
  EXPECT_LT(first, second);
  EXPECT_FALSE(closed) << "HTTP/1.1 keeps the connection without a Connection header";

  got = RawExchange(sim.bank_url(), RawPost("/check", R"({"bank_id":"a","price":5})", "", "HTTP/1.0"), 1, &closed);
  EXPECT_NE(got.find("200 OK"), std::string::npos) << got;
  EXPECT_TRUE(closed) << "HTTP/1.0 without keep-alive closes";

  got = RawExchange(sim.bank_url(), "NONSENSE\r\n\r\n", 1, &closed);
  EXPECT_NE(got.find("HTTP/1.1 400"), std::string::npos) << got;
  EXPECT_TRUE(closed);
  got = RawExchange(sim.bank_url(), RawPost("/check", "{}", "Transfer-Encoding: chunked\r\n"), 1, &closed);
  EXPECT_NE(got.find("HTTP/1.1 501"), std::string::npos) << got;
  EXPECT_EQ(sim.Bank("/check", {{"bank_id", "a"}, {"price", 5}}).status, 200) << "still serving";
}

// The property the settlement design relies on: the bank is slow per call but fast in parallel.
TEST(IsusimConcurrency, SlowCommitsDoNotAddUp) {
  constexpr int kCalls = 200;
  constexpr int kCommitMs = 300;
  IsusimProcess sim({"--commit-ms", std::to_string(kCommitMs)});
  sim.SetCredit("a", kCalls);
  std::vector<int64_t> ids;
  for (int i = 0; i < kCalls; ++i) ids.push_back(Reserve(sim, "a", -1));
  std::vector<long> statuses(kCalls);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] { statuses[i] = sim.Bank("/commit", {{"reserve_ids", {ids[i]}}}).status; });
  }
  for (auto& t : threads) t.join();
  double wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(statuses[i], 200) << i;
  double ratio = wall_ms / kCommitMs;
  std::cout << kCalls << " concurrent commits of " << kCommitMs << " ms took " << wall_ms << " ms (ratio " << ratio
            << ")\n";
  RecordProperty("wall_over_latency", std::to_string(ratio));
  EXPECT_LT(ratio, 10.0);
  EXPECT_GE(ratio, 1.0);
  EXPECT_EQ(sim.Account("a")["credit"], 0);
  for (const json& r : sim.Reservations()) EXPECT_EQ(r["commit_count"], 1);
}

}  // namespace
}  // namespace isucoin::test_support
