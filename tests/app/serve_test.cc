// End to end: `isucoin serve` as its own process, with the bank/logger simulator, on a data
// directory — the product as an operator runs it. A trade goes through the bank and the
// logger, survives kill -9, and /initialize returns to the dataset.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/api/http_client.h"
#include "tests/support/child_process.h"
#include "tests/support/isusim_process.h"

namespace isucoin {
namespace {

using nlohmann::json;
using api::testing::HttpClient;
using test_support::ChildProcess;
using test_support::IsusimProcess;

// One `isucoin serve` child on DATA (stderr in DATA/serve.log); its URL is read from the line
// it prints once listening.
class ServeProcess {
 public:
  ServeProcess(const std::string& data, const IsusimProcess& sim,
               std::vector<std::string> extra = {})
      : child_(Args(data, sim, std::move(extra)), data + "/serve.log", true) {
    EXPECT_FALSE(child_.url().empty()) << "serve did not print its URL: " << child_.StderrText();
  }
  int Kill(int sig) { return child_.Stop(sig); }
  const std::string& url() const { return child_.url(); }

 private:
  static std::vector<std::string> Args(const std::string& data, const IsusimProcess& sim,
                                       std::vector<std::string> extra) {
    std::vector<std::string> args = {
        ISUCOIN_PATH, "serve", "--data", data, "--port", "0", "--bcrypt-cost", "4",
        "--import", ISUCOIN_SOURCE_DIR "/examples/dataset.jsonl", "--bank", sim.bank_url(),
        "--bank-appid", sim.appid(), "--logger", sim.logger_url(), "--logger-appid",
        sim.appid()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  ChildProcess child_;
};

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (std::filesystem::temp_directory_path() /
             ("isucoin-serve-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    std::filesystem::remove_all(data_);
    std::filesystem::create_directories(data_);
    sim_.SetCredit("isucon-001", 1'000'000);
    sim_.SetCredit("isucon-101", 1'000'000);
  }
  void TearDown() override { std::filesystem::remove_all(data_); }

  // Polls GET /orders until `pred` holds (trades appear once the bank commit is done).
  json WaitForOrders(HttpClient& c, const std::string& url, const std::function<bool(const json&)>& pred) {
    json orders;
    for (int i = 0; i < 200; ++i) {
      auto r = c.Get(url + "/orders");
      if (r.status != 200 || !json::accept(r.body)) {
        ADD_FAILURE() << "GET /orders answered " << r.status << ": " << r.body << "\n" << r.headers;
        return orders;
      }
      orders = json::parse(r.body);
      if (pred(orders)) return orders;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "orders never reached the expected state: " << orders.dump();
    return orders;
  }

  std::string data_;
  IsusimProcess sim_;
};

TEST_F(ServeTest, ATradeIsPaidLoggedAndSurvivesKill9AndInitializeReturnsToTheDataset) {
  std::string cookie_jar_user;
  {
    ServeProcess serve(data_, sim_);
    const std::string url = serve.url();
    HttpClient anon, alice, seller;
    ASSERT_EQ(anon.Post(url + "/initialize",
                        "bank_endpoint=" + sim_.bank_url() + "&bank_appid=" + sim_.appid() +
                            "&log_endpoint=" + sim_.logger_url() + "&log_appid=" + sim_.appid())
                  .status,
              200);
    ASSERT_EQ(anon.Post(url + "/signup", "name=alice&bank_id=isucon-101&password=pw").status, 200);
    ASSERT_EQ(alice.Post(url + "/signin", "bank_id=isucon-101&password=pw").status, 200);
    // The dataset's user, with its imported $2a$ hash.
    ASSERT_EQ(seller.Post(url + "/signin", "bank_id=isucon-001&password=password").status, 200);
    // Above every open sell of the dataset: only the seller's new order fits.
    auto placed = alice.Post(url + "/orders", "type=buy&amount=7&price=9000");
    ASSERT_EQ(placed.status, 200) << placed.body;
    ASSERT_EQ(seller.Post(url + "/orders", "type=sell&amount=7&price=8000").status, 200);
    json mine = WaitForOrders(alice, url, [](const json& o) {
      return o.size() == 1 && o[0].contains("trade_id");
    });
    EXPECT_EQ(mine[0]["trade"]["price"], 9000);  // the older order's price (alice's)
    EXPECT_EQ(mine[0]["trade"]["amount"], 7);
    EXPECT_EQ(sim_.Account("isucon-101")["credit"], 1'000'000 - 63'000);
    EXPECT_EQ(sim_.Account("isucon-001")["credit"], 1'000'000 + 63'000);

    // Every action reaches the logger.
    std::set<std::string> tags;
    for (int i = 0; i < 100 && !tags.contains("sell.trade"); ++i) {
      tags.clear();
      for (const auto& log : sim_.Logs()) tags.insert(log["tag"].get<std::string>());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const char* tag : {"signup", "signin", "buy.order", "sell.order", "trade", "buy.trade", "sell.trade"})
      EXPECT_TRUE(tags.contains(tag)) << tag;

    serve.Kill(SIGKILL);  // no goodbye: what was acknowledged must be on disk

    ServeProcess again(data_, sim_);
    // The same session cookie works (the secret is kept in the data directory), and the
    // same orders and trade are served.
    HttpClient& after = alice;
    auto reread = json::parse(after.Get(again.url() + "/orders").body);
    EXPECT_EQ(reread, mine);
    auto info = json::parse(after.Get(again.url() + "/info?cursor=0").body);
    EXPECT_EQ(info["cursor"], mine[0]["trade_id"]);

    // /initialize: back to the dataset; alice is gone, the dataset's users remain.
    ASSERT_EQ(anon.Post(again.url() + "/initialize",
                        "bank_endpoint=" + sim_.bank_url() + "&bank_appid=" + sim_.appid() +
                            "&log_endpoint=" + sim_.logger_url() + "&log_appid=" + sim_.appid())
                  .status,
              200);
    EXPECT_EQ(after.Get(again.url() + "/orders").status, 401);
    EXPECT_EQ(anon.Post(again.url() + "/signin", "bank_id=isucon-101&password=pw").status, 404);
    EXPECT_EQ(seller.Post(again.url() + "/signin", "bank_id=isucon-001&password=password").status, 200);
    auto dataset_info = json::parse(anon.Get(again.url() + "/info").body);
    EXPECT_EQ(dataset_info["cursor"], 90);  // the dataset's last trade

    int status = again.Kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "serve did not stop cleanly";
  }
}

TEST_F(ServeTest, EveryStatusOfTheContractAgainstTheRealBank) {
  ServeProcess serve(data_, sim_);
  const std::string url = serve.url();
  HttpClient anon, alice, bob;
  sim_.SetCredit("isucon-102", 100);  // bob can pay for 1 chair at 100, not more

  // signup: 400 missing, 404 no bank account, 200, 409 taken.
  EXPECT_EQ(anon.Post(url + "/signup", "name=alice&bank_id=isucon-101").status, 400);
  EXPECT_EQ(anon.Post(url + "/signup", "name=&bank_id=isucon-101&password=pw").status, 400);
  EXPECT_EQ(anon.Post(url + "/signup", "name=x&bank_id=no-such-account&password=pw").status, 404);
  EXPECT_EQ(anon.Post(url + "/signup", "name=alice&bank_id=isucon-101&password=pw").status, 200);
  EXPECT_EQ(anon.Post(url + "/signup", "name=alice2&bank_id=isucon-101&password=pw").status, 409);
  EXPECT_EQ(anon.Post(url + "/signup", "name=bob&bank_id=isucon-102&password=pw").status, 200);

  // signin: 400 missing, 404 wrong password or unknown, 403 from the 6th failure on.
  EXPECT_EQ(anon.Post(url + "/signin", "bank_id=isucon-101").status, 400);
  EXPECT_EQ(anon.Post(url + "/signin", "bank_id=nobody&password=pw").status, 404);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(anon.Post(url + "/signin", "bank_id=isucon-102&password=no").status, 404);
  EXPECT_EQ(anon.Post(url + "/signin", "bank_id=isucon-102&password=pw").status, 403);
  auto signed_in = alice.Post(url + "/signin", "bank_id=isucon-101&password=pw");
  ASSERT_EQ(signed_in.status, 200);
  EXPECT_EQ(json::parse(signed_in.body)["name"], "alice");

  // orders: 401 signed out, 400 invalid, 400 with 残高 when the bank says no.
  EXPECT_EQ(anon.Post(url + "/orders", "type=buy&amount=1&price=100").status, 401);
  EXPECT_EQ(anon.Get(url + "/orders").status, 401);
  EXPECT_EQ(anon.Request("DELETE", url + "/order/1", "").status, 401);
  for (const char* bad : {"type=hold&amount=1&price=1", "type=buy&amount=0&price=1",
                          "type=buy&amount=-1&price=1", "type=buy&amount=1&price=x",
                          "type=buy&amount=99999999999999999999&price=1", "type=buy&price=1"}) {
    auto r = alice.Post(url + "/orders", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << r.body;
  }
  auto poor = alice.Post(url + "/orders", "type=buy&amount=1000&price=1000000");  // 10^9 yen
  EXPECT_EQ(poor.status, 400);
  EXPECT_NE(json::parse(poor.body)["error"].get<std::string>().find("残高"), std::string::npos);
  EXPECT_EQ(json::parse(alice.Get(url + "/orders").body).size(), 0u);  // nothing changed

  // DELETE: 200 own open order, 404 again (closed), 404 someone else's, 404 unknown.
  auto placed = alice.Post(url + "/orders", "type=sell&amount=1&price=999999");
  ASSERT_EQ(placed.status, 200);
  const std::string id = std::to_string(json::parse(placed.body)["id"].get<long>());
  EXPECT_EQ(json::parse(alice.Get(url + "/orders").body).size(), 1u);  // read-your-writes
  HttpClient user1;
  ASSERT_EQ(user1.Post(url + "/signin", "bank_id=isucon-001&password=password").status, 200);
  EXPECT_EQ(user1.Request("DELETE", url + "/order/" + id, "").status, 404);
  auto cancelled = alice.Request("DELETE", url + "/order/" + id, "");
  EXPECT_EQ(cancelled.status, 200);
  EXPECT_EQ(json::parse(cancelled.body)["id"].get<long>(), std::stol(id));
  EXPECT_EQ(json::parse(alice.Get(url + "/orders").body).size(), 0u);  // cancelled: left out
  EXPECT_EQ(alice.Request("DELETE", url + "/order/" + id, "").status, 404);
  EXPECT_EQ(alice.Request("DELETE", url + "/order/424242", "").status, 404);

  // /info signed out: no traded_orders, no share button; the dataset's chart is there.
  auto info = json::parse(anon.Get(url + "/info?cursor=0").body);
  EXPECT_FALSE(info.contains("traded_orders"));
  EXPECT_EQ(info["enable_share"], false);
  EXPECT_FALSE(info["chart_by_hour"].empty());

  // signout clears the session.
  EXPECT_EQ(alice.Post(url + "/signout", "").status, 200);
  EXPECT_EQ(alice.Get(url + "/orders").status, 401);
  EXPECT_EQ(anon.Get(url + "/no/such/route").status, 404);
}

TEST_F(ServeTest, ATradeIsShownOnlyOnceTheBankHasCommittedIt) {
  // Every account of the dataset exists: alice's buy may well trade with an open sell of the
  // dataset rather than with the seller below; either way it must be paid before it shows.
  IsusimProcess slow_bank({"--commit-ms", "1500", "--reserve-ms", "0", "--check-ms", "0",
                           "--accounts", ISUCOIN_SOURCE_DIR "/examples/bank_accounts.jsonl"});
  ServeProcess serve(data_, slow_bank);
  const std::string url = serve.url();
  HttpClient alice, seller;
  ASSERT_EQ(alice.Post(url + "/signup", "name=alice&bank_id=isucon-101&password=pw").status, 200);
  ASSERT_EQ(alice.Post(url + "/signin", "bank_id=isucon-101&password=pw").status, 200);
  ASSERT_EQ(seller.Post(url + "/signin", "bank_id=isucon-001&password=password").status, 200);
  ASSERT_EQ(alice.Post(url + "/orders", "type=buy&amount=1&price=9000").status, 200);
  ASSERT_EQ(seller.Post(url + "/orders", "type=sell&amount=1&price=9000").status, 200);
  auto first_info = alice.Get(url + "/info");
  ASSERT_EQ(first_info.status, 200) << first_info.body;
  const auto cursor = json::parse(first_info.body)["cursor"];

  // Reserved at once, commit takes 1.5 s: in between the trade is executed but unpaid.
  bool executed_unpaid = false;
  for (int i = 0; i < 40 && !executed_unpaid; ++i) {
    executed_unpaid = !slow_bank.Reservations().empty();
    if (!executed_unpaid) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(executed_unpaid);
  auto before = json::parse(alice.Get(url + "/orders").body);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_FALSE(before[0].contains("trade_id")) << "shown as traded before the bank committed";
  EXPECT_EQ(json::parse(alice.Get(url + "/info?cursor=" + cursor.dump()).body)["cursor"], cursor);

  auto after = WaitForOrders(alice, url, [](const json& o) { return o[0].contains("trade_id"); });
  for (const auto& r : slow_bank.Reservations()) EXPECT_EQ(r["state"], "committed");
  auto info = json::parse(alice.Get(url + "/info?cursor=" + cursor.dump()).body);
  EXPECT_EQ(info["cursor"], after[0]["trade_id"]);
  ASSERT_EQ(info["traded_orders"].size(), 1u);  // every trade of mine between the two cursors
  EXPECT_EQ(info["traded_orders"][0]["id"], after[0]["id"]);
  EXPECT_EQ(json::parse(alice.Get(url + "/info?cursor=" + info["cursor"].dump()).body)["traded_orders"].size(), 0u);
}

TEST_F(ServeTest, PeriodicSnapshotsAreWrittenAndARestartStartsFromThem) {
  const std::vector<std::string> often = {"--snapshot-every", "20", "--snapshot-interval", "1"};
  json orders_before, info_before;
  {
    ServeProcess serve(data_, sim_, often);
    HttpClient alice;
    ASSERT_EQ(alice.Post(serve.url() + "/signup", "name=alice&bank_id=isucon-101&password=pw").status, 200);
    ASSERT_EQ(alice.Post(serve.url() + "/signin", "bank_id=isucon-101&password=pw").status, 200);
    for (int i = 0; i < 30; ++i) {
      ASSERT_EQ(alice.Post(serve.url() + "/orders", "type=sell&amount=1&price=" + std::to_string(20000 + i)).status, 200);
    }
    // Both kinds of snapshot files appear while serving.
    const auto dir = std::filesystem::path(data_) / "snapshots";
    bool both = false;
    for (int i = 0; i < 100 && !both; ++i) {
      bool matcher = false, model = false;
      if (std::filesystem::exists(dir)) {
        for (const auto& f : std::filesystem::directory_iterator(dir)) {
          const auto name = f.path().filename().string();
          matcher |= name.rfind("matcher-", 0) == 0 && f.path().extension() == ".snap";
          model |= name.rfind("readmodel-", 0) == 0 && f.path().extension() == ".snap";
        }
      }
      both = matcher && model;
      if (!both) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(both) << "no periodic snapshots in " << dir;
    orders_before = json::parse(alice.Get(serve.url() + "/orders").body);
    info_before = json::parse(alice.Get(serve.url() + "/info").body);
    serve.Kill(SIGKILL);
  }
  ServeProcess again(data_, sim_, often);
  HttpClient alice;
  ASSERT_EQ(alice.Post(again.url() + "/signin", "bank_id=isucon-101&password=pw").status, 200);
  EXPECT_EQ(json::parse(alice.Get(again.url() + "/orders").body), orders_before);
  auto info_after = json::parse(alice.Get(again.url() + "/info").body);
  EXPECT_EQ(info_after["cursor"], info_before["cursor"]);
  EXPECT_EQ(info_after["lowest_sell_price"], info_before["lowest_sell_price"]);
  std::ifstream log(data_ + "/serve.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("matcher resumed from its snapshot"), std::string::npos) << text;
  EXPECT_NE(text.find("read model resumed from its snapshot"), std::string::npos) << text;
}

}  // namespace
}  // namespace isucoin
