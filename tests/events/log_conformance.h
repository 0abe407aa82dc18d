// The conformance suite every Log backend passes (events/log.h). The test bodies live in
// log_conformance.cc; a backend's test binary compiles that file and instantiates the suite:
//
//   // tests/events/CMakeLists.txt
//   isucoin_add_test(my_log_test SOURCES my_log_test.cc log_conformance.cc LIBS ...)
//
//   // my_log_test.cc
//   #include "tests/events/log_conformance.h"
//   INSTANTIATE_TEST_SUITE_P(Mine, LogConformanceTest,
//       ::testing::Values(isucoin::conformance::LogBackendFactory{
//           "mine", [](const std::string& key) -> std::unique_ptr<isucoin::events::Log> {...}}),
//       isucoin::conformance::LogBackendName);
//
// `open` may return nullptr on failure (the test then fails with the backend's name and key).
// A test closes and destroys its log before reopening the same key, so a backend that allows
// one writer per log (FileLog) can reopen it.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "events/log.h"

namespace isucoin::conformance {

struct LogBackendFactory {
  std::string name;
  // Opens, or reopens, the log identified by `key` (unique per test; the same key reopens the
  // same log). Keys are made of [A-Za-z0-9_-] and are unique across processes and runs, so
  // they can name topics on a long-lived broker.
  std::function<std::unique_ptr<isucoin::events::Log>(const std::string& key)> open;
  // Optional: removes what `open(key)` created; called at the end of every test for every key
  // it opened (after the logs are destroyed).
  std::function<void(const std::string& key)> destroy = {};
};

// For INSTANTIATE_TEST_SUITE_P's last argument: names the instances after the backend.
inline std::string LogBackendName(const ::testing::TestParamInfo<LogBackendFactory>& info) {
  return info.param.name;
}

// So that gtest names the backend instead of dumping the factory's bytes.
inline void PrintTo(const LogBackendFactory& f, std::ostream* os) { *os << f.name; }

class LogConformanceTest : public ::testing::TestWithParam<LogBackendFactory> {
 protected:
  void TearDown() override;

  // A fresh key for a log of this test; `role` tells several logs of one test apart.
  std::string Key(const std::string& role = "log");
  // Opens (or reopens) the log for `key`; fails the test when the backend returns nullptr.
  std::unique_ptr<isucoin::events::Log> Open(const std::string& key);

 private:
  std::vector<std::string> keys_;
};

}  // namespace isucoin::conformance

using isucoin::conformance::LogBackendFactory;
using isucoin::conformance::LogBackendName;
using isucoin::conformance::LogConformanceTest;
