// The exchange as separate processes on Kafka (DESIGN.md "Process layout"): two `isucoin api`
// nodes, an active `isucoin matcher` and a standby, `settle`, `ship` and (when
// ISUCOIN_TEST_POSTGRES is set, as scripts/test does) `project`, with the bank/logger
// simulator, talking only through the topics of tools/devbroker's mock cluster — or of the
// real cluster named by KAFKA_BROKERS (unique topic prefix per test).
//
// What a user of the exchange would notice: a session works on any node, both nodes show the
// same market, and when the active matcher is killed under load the standby takes over with
// no acknowledged order lost, no trade paid twice and `isucoin audit` clean.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <set>
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
using namespace std::chrono_literals;

constexpr const char* kMatcherFailoverSeconds = "3";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// Every process of one exchange, on a fresh topic prefix.
class Cluster {
 public:
  explicit Cluster(const std::string& name) {
    dir_ = (std::filesystem::temp_directory_path() /
            ("isucoin-cluster-" + std::to_string(getpid()) + "-" + name))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string prefix = "c" + std::to_string(getpid()) + "-" + name;
    if (const char* env = std::getenv("KAFKA_BROKERS"); env != nullptr && *env != '\0') {
      brokers_ = env;
    } else {
      broker_ = std::make_unique<ChildProcess>(
          std::vector<std::string>{DEVBROKER_PATH, "--address-file", dir_ + "/kafka.addr",
                                   "--prefix", prefix},
          dir_ + "/devbroker.log", false);
      EXPECT_TRUE(WaitUntil([&] { return std::filesystem::exists(dir_ + "/kafka.addr"); }, 10s));
      brokers_ = ReadFile(dir_ + "/kafka.addr");
      while (!brokers_.empty() && brokers_.back() == '\n') brokers_.pop_back();
    }
    log_ = "kafka://" + brokers_ + "/" + prefix;
    std::ofstream(dir_ + "/secret") << "a session secret shared by every api node of the test";
    if (const char* pg = std::getenv("ISUCOIN_TEST_POSTGRES"); pg != nullptr && *pg != '\0') {
      postgres_ = pg;
      schema_ = "cluster_" + std::to_string(getpid()) + "_" + name;
    }
  }

  ~Cluster() {
    // Servers first, the broker last; then the schema and the directory.
    api_.clear();
    matchers_.clear();
    workers_.clear();
    broker_.reset();
    if (!postgres_.empty()) {
      try {
        pqxx::connection c(postgres_);
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema_) + " CASCADE");
        tx.commit();
      } catch (const std::exception&) {
      }
    }
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
  }

  void StartApi(const IsusimProcess& sim) {
    const int n = static_cast<int>(api_.size());
    api_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{ISUCOIN_PATH, "api", "--log", log_, "--port", "0",
                                 "--bcrypt-cost", "4", "--session-secret-file", dir_ + "/secret",
                                 "--bank", sim.bank_url(), "--bank-appid", sim.appid()},
        dir_ + "/api" + std::to_string(n) + ".log", true));
    ASSERT_FALSE(api_.back()->url().empty()) << api_.back()->StderrText();
  }

  void StartMatcher() {
    const std::string name = "matcher" + std::to_string(matchers_.size());
    matchers_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{ISUCOIN_PATH, "matcher", "--log", log_, "--data",
                                 dir_ + "/" + name, "--failover-timeout",
                                 kMatcherFailoverSeconds},
        dir_ + "/" + name + ".log", false));
  }

  void StartWorkers(const IsusimProcess& sim) {
    workers_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{ISUCOIN_PATH, "settle", "--data", dir_ + "/settle", "--log",
                                 log_, "--bank", sim.bank_url(), "--bank-appid", sim.appid()},
        dir_ + "/settle.log", false));
    workers_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{ISUCOIN_PATH, "ship", "--data", dir_ + "/ship", "--log", log_,
                                 "--logger", sim.logger_url(), "--logger-appid", sim.appid()},
        dir_ + "/ship.log", false));
    if (!postgres_.empty()) {
      workers_.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{ISUCOIN_PATH, "project", "--log", log_, "--postgres",
                                   postgres_, "--schema", schema_, "--batch-ms", "20"},
          dir_ + "/project.log", false));
    }
  }

  // The matcher whose last word is that it is active, once exactly one is.
  std::optional<std::size_t> ActiveMatcher() const {
    std::optional<std::size_t> active;
    for (std::size_t i = 0; i < matchers_.size(); ++i) {
      if (!matchers_[i]->running()) continue;
      const std::string text = matchers_[i]->StderrText();
      const auto on = text.rfind("matcher: active");
      const auto off = text.rfind("lease lost");
      if (on == std::string::npos || (off != std::string::npos && off > on)) continue;
      if (active) return std::nullopt;  // two claim it: a rebalance is still settling
      active = i;
    }
    return active;
  }

  std::string Logs() const {
    std::string out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().extension() == ".log") {
        out += "==== " + entry.path().filename().string() + "\n" + ReadFile(entry.path());
      }
    }
    return out;
  }

  const std::string& url(std::size_t node) const { return api_.at(node)->url(); }
  const std::string& log() const { return log_; }
  ChildProcess& matcher(std::size_t i) { return *matchers_.at(i); }
  const std::string& postgres() const { return postgres_; }
  const std::string& schema() const { return schema_; }

 private:
  std::string dir_, brokers_, log_, postgres_, schema_;
  std::unique_ptr<ChildProcess> broker_;
  std::vector<std::unique_ptr<ChildProcess>> api_, matchers_, workers_;
};

class ClusterTest : public ::testing::Test {
 protected:
  void Initialize(const std::string& url) {
    HttpClient anon;
    auto r = anon.Post(url + "/initialize", "bank_endpoint=" + sim_.bank_url() +
                                                "&bank_appid=" + sim_.appid() +
                                                "&log_endpoint=" + sim_.logger_url() +
                                                "&log_appid=" + sim_.appid());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void SignUp(const std::string& url, const std::string& bank_id) {
    sim_.SetCredit(bank_id, 1'000'000'000);
    HttpClient anon;
    auto r = anon.Post(url + "/signup", "name=" + bank_id + "&bank_id=" + bank_id + "&password=pw");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  static json Orders(HttpClient& user, const std::string& url) {
    auto r = user.Get(url + "/orders");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  IsusimProcess sim_;
};

TEST_F(ClusterTest, AnyNodeServesAnySessionAndBothShowTheSameMarket) {
  Cluster cluster("market");
  cluster.StartMatcher();
  cluster.StartWorkers(sim_);
  cluster.StartApi(sim_);
  cluster.StartApi(sim_);
  const std::string a = cluster.url(0), b = cluster.url(1);
  ASSERT_TRUE(WaitUntil([&] { return cluster.ActiveMatcher().has_value(); }, 30s)) << cluster.Logs();

  Initialize(a);
  SignUp(a, "alice");
  SignUp(b, "bob");
  HttpClient alice, bob;
  // Signed in on one node, trading on the other: the cookie is valid everywhere.
  ASSERT_EQ(alice.Post(a + "/signin", "bank_id=alice&password=pw").status, 200);
  ASSERT_EQ(bob.Post(b + "/signin", "bank_id=bob&password=pw").status, 200);
  auto buy = alice.Post(b + "/orders", "type=buy&amount=5&price=1200");
  ASSERT_EQ(buy.status, 200) << buy.body;
  // Read-your-writes on the node that took the order.
  json mine = Orders(alice, b);
  ASSERT_EQ(mine.size(), 1u) << mine.dump();
  EXPECT_EQ(mine[0]["id"], json::parse(buy.body)["id"]);
  ASSERT_EQ(bob.Post(a + "/orders", "type=sell&amount=5&price=1100").status, 200);

  // The trade is shown once the bank has committed it, on both nodes, at the resting price.
  for (const std::string& node : {a, b}) {
    json orders;
    ASSERT_TRUE(WaitUntil([&] {
      orders = Orders(alice, node);
      return orders.size() == 1 && orders[0].contains("trade");
    }, 20s)) << node << ": " << orders.dump() << cluster.Logs();
    EXPECT_EQ(orders[0]["trade"]["price"], 1200);
    EXPECT_EQ(orders[0]["trade"]["amount"], 5);
  }
  EXPECT_EQ(sim_.Account("alice")["credit"], 1'000'000'000 - 6000);
  EXPECT_EQ(sim_.Account("bob")["credit"], 1'000'000'000 + 6000);
  HttpClient anon;
  json info_a, info_b;
  ASSERT_TRUE(WaitUntil([&] {
    info_a = json::parse(anon.Get(a + "/info").body, nullptr, false);
    info_b = json::parse(anon.Get(b + "/info").body, nullptr, false);
    return info_a == info_b && info_a.value("cursor", 0) == 1;
  }, 10s)) << info_a.dump() << "\n" << info_b.dump();
  // Signing out on one node ends the session on that client only (cookies are stateless).
  EXPECT_EQ(alice.Post(b + "/signout", "").status, 200);
  EXPECT_EQ(alice.Get(a + "/orders").status, 401);

  // The shipper delivered the signups, the orders and the trade.
  ASSERT_TRUE(WaitUntil([&] {
    std::set<std::string> tags;
    for (const auto& l : sim_.Logs()) tags.insert(l["tag"].get<std::string>());
    return tags.count("signup") && tags.count("buy.order") && tags.count("sell.order") &&
           tags.count("trade");
  }, 20s)) << sim_.Logs().dump();
}

// A client that trades on both nodes alternately and remembers what was acknowledged.
struct Trader {
  std::string bank_id;
  HttpClient client;
  std::vector<std::int64_t> acknowledged;
  int refused = 0;
};

TEST_F(ClusterTest, KilledMatcherUnderLoadStandbyTakesOverNothingLostNothingPaidTwice) {
  Cluster cluster("failover");
  cluster.StartMatcher();
  cluster.StartMatcher();
  cluster.StartWorkers(sim_);
  cluster.StartApi(sim_);
  cluster.StartApi(sim_);
  const std::vector<std::string> nodes = {cluster.url(0), cluster.url(1)};
  ASSERT_TRUE(WaitUntil([&] { return cluster.ActiveMatcher().has_value(); }, 30s)) << cluster.Logs();
  Initialize(nodes[0]);

  std::vector<std::unique_ptr<Trader>> traders;
  for (int i = 0; i < 4; ++i) {
    auto t = std::make_unique<Trader>();
    t->bank_id = "trader" + std::to_string(i);
    SignUp(nodes[i % 2], t->bank_id);
    ASSERT_EQ(t->client.Post(nodes[(i + 1) % 2] + "/signin", "bank_id=" + t->bank_id + "&password=pw")
                  .status,
              200);
    traders.push_back(std::move(t));
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < traders.size(); ++i) {
    threads.emplace_back([&, i] {
      Trader& t = *traders[i];
      // Buyers and sellers around one price, so most orders trade with someone.
      const std::string side = i % 2 == 0 ? "buy" : "sell";
      for (int n = 0; !stop.load(); ++n) {
        const int price = 1000 + (i % 2 == 0 ? 1 : -1) * (n % 7);
        auto r = t.client.Post(nodes[n % 2] + "/orders",
                               "type=" + side + "&amount=" + std::to_string(1 + n % 3) +
                                   "&price=" + std::to_string(price));
        if (r.status == 200) {
          t.acknowledged.push_back(json::parse(r.body)["id"].get<std::int64_t>());
        } else {
          ++t.refused;  // not acknowledged: the client knows it may not exist
        }
        std::this_thread::sleep_for(20ms);
      }
    });
  }

  std::this_thread::sleep_for(3s);
  const std::optional<std::size_t> first = cluster.ActiveMatcher();
  ASSERT_TRUE(first.has_value()) << cluster.Logs();
  cluster.matcher(*first).Stop(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  const bool took_over = WaitUntil([&] { return cluster.ActiveMatcher().has_value(); }, 30s);
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  std::this_thread::sleep_for(3s);  // trading goes on with the new active matcher
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_TRUE(took_over) << cluster.Logs();
  std::printf("standby took over %lld ms after the kill\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count()));

  std::size_t acknowledged = 0;
  for (const auto& t : traders) acknowledged += t->acknowledged.size();
  ASSERT_GT(acknowledged, 40u) << "the load did not get going";

  // Quiet: every match settled (no reservation pending at the bank) and nothing moving.
  std::size_t legs_traded = 0;
  std::set<std::int64_t> trade_ids;
  std::string last;
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& r : sim_.Reservations()) {
      if (r["state"] == "pending") return false;
    }
    legs_traded = 0;
    trade_ids.clear();
    std::string seen;
    for (const auto& t : traders) {
      for (const auto& o : Orders(t->client, nodes[1])) {
        if (o.contains("trade_id")) {
          ++legs_traded;
          trade_ids.insert(o["trade_id"].get<std::int64_t>());
        }
      }
    }
    seen = std::to_string(legs_traded);
    const bool stable = seen == last;
    last = seen;
    return stable && legs_traded > 0;
  }, 60s)) << cluster.Logs();

  // No acknowledged order lost: each is in its owner's list, on both nodes. (Nothing here is
  // cancelled: every account can pay for everything.)
  for (const auto& t : traders) {
    for (const std::string& node : nodes) {
      std::set<std::int64_t> listed;
      for (const auto& o : Orders(t->client, node)) listed.insert(o["id"].get<std::int64_t>());
      for (std::int64_t id : t->acknowledged) {
        EXPECT_TRUE(listed.count(id)) << t->bank_id << "'s acknowledged order " << id
                                      << " is missing on " << node;
      }
    }
  }

  // No trade paid twice: one committed reservation per traded leg, none committed twice.
  std::size_t committed = 0;
  for (const auto& r : sim_.Reservations()) {
    EXPECT_LE(r["commit_count"].get<int>(), 1) << r.dump();
    if (r["state"] == "committed") ++committed;
  }
  EXPECT_EQ(committed, legs_traded);

  // The logs themselves: re-running the matcher reproduces every event, every trade follows
  // the rules and is settled, the bank agrees.
  {
    ChildProcess audit({ISUCOIN_PATH, "audit", "--log", cluster.log(), "--bank", sim_.bank_url(),
                        "--bank-appid", sim_.appid()},
                       std::filesystem::temp_directory_path() / ("isucoin-cluster-audit-" +
                                                                 std::to_string(getpid()) + ".log"),
                       false);
    const int status = audit.Stop(0);  // signal 0: just wait for it
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << audit.StderrText();
    std::filesystem::remove(audit.stderr_path());
  }

  // The PostgreSQL read model has every settled trade exactly once.
  if (!cluster.postgres().empty()) {
    std::int64_t rows = -1;
    ASSERT_TRUE(WaitUntil([&] {
      pqxx::connection c(cluster.postgres());
      pqxx::work tx(c);
      rows = tx.exec1("SELECT count(*) FROM " + tx.quote_name(cluster.schema()) +
                      ".trades WHERE settled AND NOT genesis")[0]
                 .as<std::int64_t>();
      return rows == static_cast<std::int64_t>(trade_ids.size());
    }, 20s)) << rows << " settled trades in PostgreSQL, " << trade_ids.size() << " through the api";
  }
}

// The same fail-over on FileLog, on one machine: the events log's writer lock is the lease.
TEST(MatcherStandbyTest, OnFileLogTheStandbyTakesOverWhenTheActiveDies) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("isucoin-standby-" + std::to_string(getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    ChildProcess import({ISUCOIN_PATH, "import", ISUCOIN_SOURCE_DIR "/examples/dataset.jsonl",
                         "--data", dir},
                        dir + "/import.log", false);
    const int status = import.Stop(0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << import.StderrText();
  }
  ChildProcess first({ISUCOIN_PATH, "matcher", "--data", dir}, dir + "/first.log", false);
  ASSERT_TRUE(WaitUntil([&] { return first.StderrText().find("matcher: active") != std::string::npos; },
                        20s))
      << first.StderrText();
  ChildProcess second({ISUCOIN_PATH, "matcher", "--data", dir}, dir + "/second.log", false);
  ASSERT_TRUE(WaitUntil([&] { return second.StderrText().find("standing by") != std::string::npos; },
                        20s))
      << second.StderrText();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(second.StderrText().find("matcher: active"), std::string::npos)
      << "two active matchers on one FileLog";

  first.Stop(SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return second.StderrText().find("matcher: active") != std::string::npos; },
                        20s))
      << second.StderrText();
  second.Stop(SIGTERM);
  EXPECT_NE(second.StderrText().find("stopped cleanly after command"), std::string::npos)
      << second.StderrText();
  // What the two wrote together is what one matcher would have written.
  ChildProcess audit({ISUCOIN_PATH, "audit", "--data", dir}, dir + "/audit.log", false);
  const int status = audit.Stop(0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << audit.StderrText();
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace isucoin
