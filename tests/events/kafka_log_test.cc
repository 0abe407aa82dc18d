// KafkaLog and KafkaGroupConsumer: Kafka-specific tests, plus the Log conformance suite.
//
// By default every test process starts librdkafka's mock cluster in-process. With
// KAFKA_BROKERS=host:port[,...] the same tests run against that cluster instead; every test
// uses topics of its own (created, and deleted at the end of the test).
#include "events/kafka_log.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/events/log_conformance.h"

namespace isucoin::events {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// An in-process mock cluster: the handle that hosts it and the cluster itself.
class MockCluster {
 public:
  explicit MockCluster(int brokers) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);  // "no bootstrap.servers"
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) std::abort();
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
    if (cluster_ == nullptr) std::abort();
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  rd_kafka_mock_cluster_t* get() { return cluster_; }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

// The cluster the tests of this process use: KAFKA_BROKERS, or a mock started on first use.
class TestCluster {
 public:
  static TestCluster& Get() {
    static TestCluster cluster;
    return cluster;
  }

  bool real() const { return mock_ == nullptr; }
  const std::string& bootstraps() const { return bootstraps_; }

  // A topic name no other test, process or run uses.
  std::string UniqueTopic(const std::string& what) {
    static std::atomic<unsigned> counter{0};
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    return "isucoin-test." + what + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(now % 1000000000) + "-" + std::to_string(counter++);
  }

  // Creates `topic` with `partitions` partitions (idempotent). The mock cannot create topics
  // over the protocol, and would auto-create them with 4 partitions on first mention.
  void CreateTopic(const std::string& topic, int partitions) {
    std::lock_guard lock(mu_);
    if (created_.count(topic) != 0) return;
    if (!real()) {
      rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mock_->get(), topic.c_str(),
                                                           partitions, 1);
      ASSERT_TRUE(err == RD_KAFKA_RESP_ERR_NO_ERROR ||
                  err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
          << rd_kafka_err2str(err);
    } else {
      Admin(topic, partitions);
    }
    created_.insert(topic);
  }

  // Deletes a test topic from a real cluster (the mock's vanish with the process).
  void DeleteTopic(const std::string& topic) {
    if (!real()) return;
    Admin(topic, 0);
  }

  KafkaLogOptions Options(const std::string& topic) const {
    KafkaLogOptions o;
    o.bootstrap_servers = bootstraps_;
    o.topic = topic;
    o.client_id = "kafka_log_test";
    o.open_timeout = 10s;
    o.append_timeout = 10s;
    o.read_timeout = 5s;
    return o;
  }

 private:
  TestCluster() {
    if (const char* env = std::getenv("KAFKA_BROKERS"); env != nullptr && *env != '\0') {
      bootstraps_ = env;
    } else {
      mock_ = std::make_unique<MockCluster>(1);
      bootstraps_ = mock_->bootstraps();
    }
  }

  // partitions > 0: create; 0: delete. Waits for the answer (10 s).
  void Admin(const std::string& topic, int partitions) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ASSERT_NE(rk, nullptr) << err;
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    if (partitions > 0) {
      rd_kafka_NewTopic_t* nt =
          rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, err, sizeof err);
      rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
      rd_kafka_NewTopic_destroy(nt);
    } else {
      rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
      rd_kafka_DeleteTopics(rk, &dt, 1, nullptr, q);
      rd_kafka_DeleteTopic_destroy(dt);
    }
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 10000);
    EXPECT_NE(ev, nullptr) << "admin request for " << topic << " timed out";
    if (ev != nullptr) {
      EXPECT_EQ(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR)
          << rd_kafka_event_error_string(ev);
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
  }

  std::unique_ptr<MockCluster> mock_;
  std::string bootstraps_;
  std::mutex mu_;
  std::set<std::string> created_;
};

std::vector<std::string> Records(const std::string& prefix, int n, size_t size = 0) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string r = prefix + std::to_string(i);
    if (r.size() < size) r.resize(size, '.');
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<LogRecord> ReadAll(Log& log, Offset from, Offset to) {
  std::vector<LogRecord> out;
  while (from < to) {
    auto r = log.Read(from, static_cast<size_t>(to - from));
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      break;
    }
    if (r.value().empty()) {
      ADD_FAILURE() << "no record at " << from << " below " << to;
      break;
    }
    for (auto& rec : r.value()) {
      from = rec.offset + 1;
      out.push_back(std::move(rec));
    }
  }
  return out;
}

class KafkaLogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& t : topics_) TestCluster::Get().DeleteTopic(t);
  }

  // A fresh single-partition topic for this test.
  std::string Topic(const std::string& what, int partitions = 1) {
    std::string t = TestCluster::Get().UniqueTopic(what);
    TestCluster::Get().CreateTopic(t, partitions);
    topics_.push_back(t);
    return t;
  }

  std::unique_ptr<KafkaLog> OpenLog(const std::string& topic) {
    auto r = KafkaLog::Open(TestCluster::Get().Options(topic));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  std::vector<std::string> topics_;
};

TEST_F(KafkaLogTest, TopicNamesFromPrefix) {
  auto t = KafkaTopicsFor("isucoin");
  EXPECT_EQ(t.commands, "isucoin.commands");
  EXPECT_EQ(t.events, "isucoin.events");
}

TEST_F(KafkaLogTest, DeliveryReportOffsetsAreDenseAndMatchRead) {
  auto log = OpenLog(Topic("dense"));
  ASSERT_NE(log, nullptr);
  std::vector<std::string> all;
  Offset expected = 0;
  for (int b = 0; b < 20; ++b) {
    auto batch = Records("b" + std::to_string(b) + "-", 1 + b % 7);
    auto r = log->Append(batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.value(), expected);
    expected += batch.size();
    all.insert(all.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(log->End(), expected);
  auto begin = log->Begin();
  ASSERT_TRUE(begin.ok()) << begin.status().ToString();
  EXPECT_EQ(begin.value(), 0u);
  auto got = ReadAll(*log, 0, expected);
  ASSERT_EQ(got.size(), all.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].offset, i);
    EXPECT_EQ(got[i].payload, all[i]);
  }
}

// Two KafkaLog instances are two producers, as two processes would be. With linger.ms >= 1
// each batch still lands contiguously: librdkafka sends it as one MessageSet, which the broker
// appends whole. (With the default linger.ms=0 the first record may leave alone; KafkaLog then
// reports the interleaving as an error, see events/KAFKA.md.)
TEST_F(KafkaLogTest, ConcurrentAppendsFromTwoProducersNeverInterleave) {
  const std::string topic = Topic("interleave");
  auto open = [&] {
    auto o = TestCluster::Get().Options(topic);
    o.producer_config = {{"linger.ms", "1"}};
    auto r = KafkaLog::Open(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  };
  auto log_a = open();
  auto log_b = open();
  ASSERT_NE(log_a, nullptr);
  ASSERT_NE(log_b, nullptr);
  constexpr int kThreads = 6, kBatches = 30;
  std::mutex mu;
  std::map<Offset, std::vector<std::string>> acked;  // first offset -> batch
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      KafkaLog& log = t % 2 == 0 ? *log_a : *log_b;
      std::mt19937 rng(t);
      for (int b = 0; b < kBatches; ++b) {
        auto batch =
            Records("t" + std::to_string(t) + "b" + std::to_string(b) + "-", 1 + rng() % 10);
        auto r = log.Append(batch);
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          return;
        }
        std::lock_guard lock(mu);
        EXPECT_TRUE(acked.emplace(r.value(), std::move(batch)).second);
      }
    });
  }
  for (auto& th : threads) th.join();
  Offset total = 0;
  for (auto& [first, batch] : acked) {
    EXPECT_EQ(first, total) << "batches must tile the log with no gap or overlap";
    total = first + batch.size();
  }
  ASSERT_EQ(log_a->End(), total);
  auto got = ReadAll(*log_b, 0, total);
  ASSERT_EQ(got.size(), total);
  for (auto& [first, batch] : acked) {
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(got[first + i].payload, batch[i]) << "offset " << first + i;
    }
  }
}

TEST_F(KafkaLogTest, ReaderAssignedToAnExplicitOffset) {
  const std::string topic = Topic("assign");
  auto writer = OpenLog(topic);
  ASSERT_NE(writer, nullptr);
  const auto want = Records("r", 200);
  ASSERT_TRUE(writer->Append(want).ok());

  auto reader = OpenLog(topic);  // a fresh process: it has read nothing yet
  ASSERT_NE(reader, nullptr);
  auto check = [&](Offset from, size_t max, size_t expect) {
    auto r = reader->Read(from, max);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r.value().size(), expect) << "Read(" << from << ", " << max << ")";
    for (size_t i = 0; i < r.value().size(); ++i) {
      EXPECT_EQ(r.value()[i].offset, from + i);
      EXPECT_EQ(r.value()[i].payload, want[from + i]);
    }
  };
  check(150, 10, 10);  // replay from the middle
  check(160, 5, 5);    // sequential: continues the same fetch
  check(10, 3, 3);     // backwards: reassigns
  check(195, 50, 5);   // capped at the end
  check(200, 10, 0);   // at the end: nothing, no wait
  // After other appends, a sequential read picks them up.
  ASSERT_TRUE(writer->Append(Records("more", 3)).ok());
  auto r = reader->Read(200, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r.value().size(), 3u);
  EXPECT_EQ(r.value()[0].payload, "more0");
}

TEST_F(KafkaLogTest, WaitForSeesAppendsFromAnotherProducer) {
  const std::string topic = Topic("wait");
  auto writer = OpenLog(topic);
  auto follower = OpenLog(topic);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(follower, nullptr);
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(writer->Append(Records("x", 2)).ok());
  });
  const auto t0 = Clock::now();
  EXPECT_EQ(follower->WaitFor(0, 5s), 2u);
  EXPECT_LT(Clock::now() - t0, 2s);
  t.join();
}

TEST_F(KafkaLogTest, TopicWithTwoPartitionsIsRejected) {
  const std::string topic = Topic("two", 2);
  auto r = KafkaLog::Open(TestCluster::Get().Options(topic));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("2 partitions"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find(topic), std::string::npos) << r.status().ToString();
}

TEST_F(KafkaLogTest, MissingTopic) {
  auto& cluster = TestCluster::Get();
  const std::string topic = cluster.UniqueTopic("missing");
  auto o = cluster.Options(topic);
  o.create_topic = false;
  auto r = KafkaLog::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();

  o.create_topic = true;
  if (cluster.real()) {
    topics_.push_back(topic);
    auto created = KafkaLog::Open(o);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    auto first = created.value()->Append(Records("c", 2));
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(first.value(), 0u);
  } else {
    // The mock has no CreateTopics: the error must say what to do instead.
    o.open_timeout = 1s;
    const auto t0 = Clock::now();
    auto mock = KafkaLog::Open(o);
    ASSERT_FALSE(mock.ok());
    EXPECT_LT(Clock::now() - t0, 4s);
    EXPECT_NE(mock.status().message().find("devbroker"), std::string::npos)
        << mock.status().ToString();
  }
}

TEST_F(KafkaLogTest, UnreachableBrokerFailsWithinTheTimeout) {
  // A cluster of our own to take down, even when KAFKA_BROKERS is set.
  MockCluster mock(1);
  ASSERT_EQ(rd_kafka_mock_topic_create(mock.get(), "down", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  KafkaLogOptions o = TestCluster::Get().Options("down");
  o.bootstrap_servers = mock.bootstraps();
  o.append_timeout = 1500ms;
  o.read_timeout = 1000ms;
  auto opened = KafkaLog::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& log = *opened.value();
  ASSERT_TRUE(log.Append(Records("up", 3)).ok());

  ASSERT_EQ(rd_kafka_mock_broker_set_down(mock.get(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto t0 = Clock::now();
  auto r = log.Append(Records("down", 2));
  auto took = Clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kTimeout) << r.status().ToString();
  EXPECT_LT(took, 2500ms) << r.status().ToString();
  EXPECT_GE(took, 1400ms);

  t0 = Clock::now();
  EXPECT_FALSE(log.QueryEnd().ok());
  EXPECT_EQ(log.End(), 3u);  // the last end it knew
  EXPECT_EQ(log.WaitFor(3, 300ms), 3u);
  auto read = log.Read(0, 3);
  EXPECT_FALSE(read.ok());
  EXPECT_LT(Clock::now() - t0, 6s);

  t0 = Clock::now();
  EXPECT_TRUE(log.Close().ok());
  EXPECT_LT(Clock::now() - t0, 3s);

  // Opening against a dead address fails within open_timeout too.
  o.bootstrap_servers = "127.0.0.1:1";
  o.open_timeout = 1s;
  t0 = Clock::now();
  auto dead = KafkaLog::Open(o);
  ASSERT_FALSE(dead.ok());
  EXPECT_LT(Clock::now() - t0, 3s);
  EXPECT_TRUE(dead.status().code() == Status::Code::kTimeout ||
              dead.status().code() == Status::Code::kUnavailable)
      << dead.status().ToString();
}

// Consumer-group mode: the active worker holds the partition; when it leaves, another member
// takes over and resumes from its own checkpoint.
TEST_F(KafkaLogTest, GroupConsumerFailover) {
  const std::string topic = Topic("group");
  auto log = OpenLog(topic);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Records("g", 10)).ok());

  const std::string group = TestCluster::Get().UniqueTopic("group");
  std::atomic<Offset> checkpoint{0};  // the workers' shared durable checkpoint
  auto open = [&](const std::string& name) {
    KafkaGroupOptions o;
    o.bootstrap_servers = TestCluster::Get().bootstraps();
    o.topic = topic;
    o.group_id = group;
    o.client_id = name;
    o.session_timeout = 3s;
    o.on_assigned = [&]() -> std::optional<Offset> { return checkpoint.load(); };
    auto r = KafkaGroupConsumer::Open(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  };
  // Polls until `want` records came or 20 s passed.
  auto drain = [&](KafkaGroupConsumer& c, size_t want) {
    std::vector<LogRecord> got;
    const auto deadline = Clock::now() + 20s;
    while (got.size() < want && Clock::now() < deadline) {
      auto r = c.Poll(want - got.size(), 200ms);
      if (!r.ok()) {
        ADD_FAILURE() << r.status().ToString();
        break;
      }
      for (auto& rec : r.value()) got.push_back(std::move(rec));
    }
    return got;
  };

  auto first = open("worker-1");
  ASSERT_NE(first, nullptr);
  auto got = drain(*first, 6);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_TRUE(first->assigned());
  EXPECT_EQ(got[0].offset, 0u);
  EXPECT_EQ(got[5].payload, "g5");
  checkpoint = 6;
  EXPECT_TRUE(first->Commit(6).ok());

  auto second = open("worker-2");
  ASSERT_NE(second, nullptr);
  // worker-2 joins: with one partition exactly one member is active. Keep both polling
  // while the group rebalances.
  const auto settle = Clock::now() + 15s;
  while (Clock::now() < settle) {
    (void)first->Poll(1, 50ms);
    (void)second->Poll(0, 50ms);
    if (first->assigned() != second->assigned()) break;
  }
  EXPECT_NE(first->assigned(), second->assigned());

  const auto t0 = Clock::now();
  ASSERT_TRUE(first->Close().ok());
  // worker-1 left: worker-2 resumes at the checkpoint.
  got = drain(*second, 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(second->assigned());
  EXPECT_EQ(got[0].offset, 6u);
  EXPECT_EQ(got[3].payload, "g9");
  std::printf("group fail-over took %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0)
                      .count()));
  EXPECT_TRUE(second->Close().ok());
}

// Not a benchmark, a measurement printed for the record: durable appends of 200-byte records.
TEST_F(KafkaLogTest, AppendThroughput) {
  const std::string topic = Topic("throughput");
  auto log = OpenLog(topic);
  ASSERT_NE(log, nullptr);
  for (int threads : {1, 16}) {
    for (size_t batch : {size_t{1}, size_t{100}}) {
      std::atomic<long> records{0};
      std::atomic<bool> stop{false};
      std::vector<std::thread> ts;
      const auto payloads = Records("p", static_cast<int>(batch), 200);
      const auto t0 = Clock::now();
      for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] {
          while (!stop) {
            auto r = log->Append(payloads);
            if (!r.ok()) {
              ADD_FAILURE() << r.status().ToString();
              return;
            }
            records += static_cast<long>(batch);
          }
        });
      }
      std::this_thread::sleep_for(700ms);
      stop = true;
      for (auto& t : ts) t.join();
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::printf("RESULT kafka_%s_appends_per_sec threads=%d batch=%zu records/s=%.0f\n",
                  TestCluster::Get().real() ? "real" : "mock", threads, batch,
                  static_cast<double>(records.load()) / secs);
    }
  }
}

}  // namespace
}  // namespace isucoin::events

// The shared Log conformance suite on Kafka: a key names a topic.
INSTANTIATE_TEST_SUITE_P(
    Kafka, LogConformanceTest,
    ::testing::Values(LogBackendFactory{
        "Kafka",
        [](const std::string& key) -> std::unique_ptr<isucoin::events::Log> {
          auto& cluster = isucoin::events::TestCluster::Get();
          const std::string topic = "isucoin-test.conformance." + key;
          cluster.CreateTopic(topic, 1);
          auto r = isucoin::events::KafkaLog::Open(cluster.Options(topic));
          if (!r.ok()) {
            ADD_FAILURE() << r.status().ToString();
            return nullptr;
          }
          return std::move(r).value();
        },
        [](const std::string& key) {
          isucoin::events::TestCluster::Get().DeleteTopic("isucoin-test.conformance." + key);
        }}),
    LogBackendName);
