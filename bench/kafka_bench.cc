// KafkaLog on librdkafka's mock cluster (in this process): what the separate processes of the
// Kafka deployment pay per hop (`./scripts/bench kafka`).
//   1. follow latency: one KafkaLog appends a record every 2 ms; another instance (its own
//      clients, as in another process) follows with WaitFor + Read, the way the matcher and
//      the api nodes do; from before the Append to the follower holding the record.
//   2. concurrent appends: single-record appends per second through one KafkaLog from 1, 4,
//      16 and 64 threads (an api node's request threads share it).
// The mock is not a broker: it holds an empty fetch for fetch.wait.max.ms (10 ms by default)
// instead of answering when a record arrives, so figure 1 is run with the default and with
// ?fetch.wait.max.ms=1 (app/exchange_logs.h); a real broker answers at once.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "events/kafka_log.h"

namespace {

using namespace isucoin::events;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Mock {
  Mock() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster = rd_kafka_mock_cluster_new(rk, 1);
  }
  ~Mock() {
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
  }
  std::string Topic(const std::string& name) {
    rd_kafka_mock_topic_create(cluster, name.c_str(), 1, 1);
    return name;
  }
  KafkaLogOptions Options(const std::string& topic, KafkaConfig consumer = {}) {
    KafkaLogOptions o;
    o.bootstrap_servers = rd_kafka_mock_cluster_bootstraps(cluster);
    o.topic = topic;
    o.create_topic = false;
    o.consumer_config = std::move(consumer);
    return o;
  }
  rd_kafka_t* rk;
  rd_kafka_mock_cluster_t* cluster;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p / 100 * v.size()))];
}

// Figure 1: microseconds from before Append to the follower's Read returning the record.
std::vector<double> FollowLatency(Mock& mock, const std::string& topic, KafkaConfig consumer,
                                  int records) {
  auto writer = KafkaLog::Open(mock.Options(topic));
  auto follower = KafkaLog::Open(mock.Options(topic, consumer));
  if (!writer.ok() || !follower.ok()) {
    std::fprintf(stderr, "open: %s\n", (!writer.ok() ? writer.status() : follower.status()).ToString().c_str());
    std::exit(1);
  }
  std::vector<Clock::time_point> sent(records);
  std::vector<double> latency;
  std::atomic<int> appended{0};
  std::thread follow([&] {
    Offset next = 0;  // a fresh topic
    while (static_cast<int>(latency.size()) < records) {
      auto batch = follower.value()->Read(next, 1024);
      if (!batch.ok()) std::exit((std::fprintf(stderr, "read: %s\n", batch.status().ToString().c_str()), 1));
      const auto now = Clock::now();
      for (std::size_t i = 0; i < batch.value().size(); ++i) {
        latency.push_back(std::chrono::duration<double, std::micro>(now - sent[latency.size()]).count());
        ++next;
      }
      if (batch.value().empty()) follower.value()->WaitFor(next, 100ms);
    }
  });
  for (int i = 0; i < records; ++i) {
    const std::string payload = "record " + std::to_string(i);
    sent[i] = Clock::now();
    if (!writer.value()->Append(std::span<const std::string>(&payload, 1)).ok()) std::exit(1);
    std::this_thread::sleep_for(2ms);
  }
  follow.join();
  return latency;
}

double AppendsPerSecond(Mock& mock, const std::string& topic, int threads, Clock::duration run) {
  auto log = KafkaLog::Open(mock.Options(topic));
  if (!log.ok()) std::exit(1);
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      const std::string payload(200, 'x');
      while (!stop.load()) {
        if (!log.value()->Append(std::span<const std::string>(&payload, 1)).ok()) std::exit(1);
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(run);
  stop = true;
  for (auto& t : pool) t.join();
  return done.load() / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main() {
  Mock mock;
  const int records = 500;
  struct Run {
    const char* name;
    KafkaConfig consumer;
  } runs[] = {{"default", {}}, {"fetch_wait_1ms", {{"fetch.wait.max.ms", "1"}}}};
  for (const Run& run : runs) {
    auto l = FollowLatency(mock, mock.Topic(std::string("follow-") + run.name), run.consumer, records);
    std::printf("follow latency (%s): p50 %.0f us, p99 %.0f us over %d records\n", run.name,
                Percentile(l, 50), Percentile(l, 99), records);
    std::printf("RESULT kafka_follow_latency_p50_us_%s %.0f us\n", run.name, Percentile(l, 50));
    std::printf("RESULT kafka_follow_latency_p99_us_%s %.0f us\n", run.name, Percentile(l, 99));
  }
  for (int threads : {1, 4, 16, 64}) {
    const double rate =
        AppendsPerSecond(mock, mock.Topic("appends-" + std::to_string(threads)), threads, 3s);
    std::printf("RESULT kafka_appends_per_sec_%d_threads %.0f appends/s\n", threads, rate);
  }
  return 0;
}
