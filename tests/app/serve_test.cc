// End to end: `isucoin serve` as its own process, with the bank/logger simulator, on a data
// directory — the product as an operator runs it. A trade goes through the bank and the
// logger, survives kill -9, and /initialize returns to the dataset.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/api/http_client.h"
#include "tests/support/isusim_process.h"

namespace isucoin {
namespace {

using nlohmann::json;
using api::testing::HttpClient;
using test_support::IsusimProcess;

// One `isucoin serve` child; its URL is read from the line it prints once listening.
class ServeProcess {
 public:
  ServeProcess(const std::string& data, const IsusimProcess& sim) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::string log = data + "/serve.log";
      int err = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(err, 2);
      execl(ISUCOIN_PATH, "isucoin", "serve", "--data", data.c_str(), "--port", "0",
            "--bcrypt-cost", "4", "--import", ISUCOIN_SOURCE_DIR "/examples/dataset.jsonl",
            "--bank", sim.bank_url().c_str(), "--bank-appid", sim.appid().c_str(), "--logger",
            sim.logger_url().c_str(), "--logger-appid", sim.appid().c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    auto at = line.find("http://");
    EXPECT_NE(at, std::string::npos) << "serve printed: " << line;
    if (at != std::string::npos) url_ = line.substr(at, line.find('/', at + 7) - at);
  }
  ~ServeProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }
  int Kill(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
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
      orders = json::parse(c.Get(url + "/orders").body);
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

}  // namespace
}  // namespace isucoin
