// A small Prometheus registry: counters, gauges, histograms (with labels), and gauges read
// through a callback at scrape time (log end offsets, consumer lag). The api records its own
// request metrics here; app/ registers the rest (bank/logger call latencies and errors, …).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace isucoin::api {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  // Latency buckets in seconds, from sub-millisecond reads to the 30 s /initialize.
  static const std::vector<double>& DefaultBuckets();

  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Increment(const std::string& name, const Labels& labels = {}, double delta = 1);
  void Set(const std::string& name, const Labels& labels, double value);
  void Observe(const std::string& name, const Labels& labels, double value);
  // `read` runs on every scrape, outside the registry's lock.
  void RegisterCallback(const std::string& name, const std::string& type,
                        const std::string& help,
                        std::function<std::vector<std::pair<Labels, double>>()> read);

  std::string Render() const;

 private:
  struct Series {
    double value = 0;                 // counter / gauge; histogram: sum
    std::vector<std::uint64_t> buckets;  // histogram: per-bucket (not cumulative) counts
    std::uint64_t count = 0;
  };
  struct Family {
    std::string type = "untyped", help;
    std::map<std::string, Series> series;  // rendered label set -> series
  };
  struct Callback {
    std::string name, type, help;
    std::function<std::vector<std::pair<Labels, double>>()> read;
  };
  Family& FamilyLocked(const std::string& name, const char* type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<Callback> callbacks_;
};

std::string RenderLabels(const Labels& labels);

}  // namespace isucoin::api
