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

// Each component registers its own series of a shared family; a scraper must see one family.
TEST(MetricsTest, CallbacksOfOneFamilyShareOneHeader) {
  MetricsRegistry m;
  m.RegisterCallback("lag", "gauge", "Lag.", [] {
    return std::vector<std::pair<Labels, double>>{{{{"consumer", "read_model"}}, 1}};
  });
  m.RegisterCallback("end", "gauge", "End.", [] { return std::vector<std::pair<Labels, double>>{}; });
  m.RegisterCallback("lag", "gauge", "Lag.", [] {
    return std::vector<std::pair<Labels, double>>{{{{"consumer", "matcher"}}, 2}};
  });
  const std::string text = m.Render();
  const auto header = text.find("# TYPE lag gauge");
  ASSERT_NE(header, std::string::npos) << text;
  EXPECT_EQ(text.find("# TYPE lag gauge", header + 1), std::string::npos) << text;
  const auto first = text.find("lag{consumer=\"read_model\"} 1");
  const auto second = text.find("lag{consumer=\"matcher\"} 2");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(header, first);
  EXPECT_EQ(text.find("# TYPE", header + 1) > second, true) << "another family in between: " << text;
}

}  // namespace
}  // namespace isucoin::api
