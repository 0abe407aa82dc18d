#include "api/metrics.h"

#include <gtest/gtest.h>

namespace isucoin::api {
namespace {

TEST(MetricsTest, RendersCountersHistogramsAndCallbacks) {
  MetricsRegistry m;
  m.Describe("req_total", "counter", "Requests.");
  m.Increment("req_total", {{"route", "/info"}, {"status", "200"}});
  m.Increment("req_total", {{"route", "/info"}, {"status", "200"}});
  m.Observe("lat_seconds", {{"route", "/info"}}, 0.003);
  m.RegisterCallback("log_end", "gauge", "End offset.", [] {
    return std::vector<std::pair<Labels, double>>{{{{"log", "commands"}}, 12}};
  });
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE req_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{route=\"/info\",status=\"200\"} 2"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/info\",le=\"0.005\"} 1"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/info\",le=\"0.0025\"} 0"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{route=\"/info\"} 1"), std::string::npos);
  EXPECT_NE(text.find("log_end{log=\"commands\"} 12"), std::string::npos);
}

}  // namespace
}  // namespace isucoin::api
