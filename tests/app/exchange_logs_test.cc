// The --log value every subcommand takes (app/exchange_logs.h): what it accepts, and that a
// mistake is refused with a message naming it instead of opening something else.
#include "app/exchange_logs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace isucoin::app {
namespace {

TEST(LogLocationTest, ADirectoryOrFileUrlIsFileLog) {
  for (const char* text : {"data/run", "file:data/run"}) {
    auto where = ParseLogLocation(text);
    ASSERT_TRUE(where.ok()) << where.status().ToString();
    EXPECT_FALSE(where.value().is_kafka());
    EXPECT_EQ(where.value().dir, "data/run");
    EXPECT_EQ(where.value().ToString(), "file:data/run");
  }
}

TEST(LogLocationTest, AKafkaUrlNamesBrokersPrefixAndClientProperties) {
  auto where = ParseLogLocation(
      "kafka://k1:9092,k2:9092/isucoin.prod?security.protocol=SASL_SSL&sasl.password=p%26w%2Bx");
  ASSERT_TRUE(where.ok()) << where.status().ToString();
  EXPECT_TRUE(where.value().is_kafka());
  EXPECT_EQ(where.value().brokers, "k1:9092,k2:9092");
  EXPECT_EQ(where.value().prefix, "isucoin.prod");
  EXPECT_EQ(where.value().matcher_lease_topic(), "isucoin.prod.matcher");
  using Config = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(where.value().kafka_config,
            (Config{{"security.protocol", "SASL_SSL"}, {"sasl.password", "p&w+x"}}));
  // Logged without the query: it may hold credentials.
  EXPECT_EQ(where.value().ToString(), "kafka://k1:9092,k2:9092/isucoin.prod");
}

TEST(LogLocationTest, MistakesAreRefusedWithWhatIsWrong) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "empty"},
      {"file:", "empty"},
      {"kafka://k1:9092", "expected kafka://"},
      {"kafka:///isucoin", "expected kafka://"},
      {"kafka://k1:9092/", "expected kafka://"},
      {"kafka://k1:9092/bad/prefix", "topic prefix"},
      {"kafka://k1:9092/ok?novalue", "PROPERTY=VALUE"},
      {"kafka://k1:9092/ok?a=%zz", "PROPERTY=VALUE"},
      {"kafka://k1:9092/ok?=v", "PROPERTY=VALUE"},
      {"s3://bucket/x", "unknown scheme"},
  };
  for (const Case& c : cases) {
    auto where = ParseLogLocation(c.text);
    ASSERT_FALSE(where.ok()) << c.text;
    EXPECT_NE(where.status().message().find(c.says), std::string::npos)
        << c.text << ": " << where.status().message();
  }
  EXPECT_FALSE(LogLocationFor("", "").ok());
  EXPECT_EQ(LogLocationFor("d", "").value().dir, "d");
  EXPECT_TRUE(LogLocationFor("d", "kafka://b:1/p").value().is_kafka());
}

TEST(LogLocationTest, FileLogsOpenWithTheAccessAsked) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("isucoin-logs-" + std::to_string(getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  auto writer = OpenExchangeLogs(LogLocation{.dir = dir}, {.write_commands = true, .write_events = true});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  // A second writer of the same logs is refused (Busy); a reader is not.
  auto second = OpenExchangeLogs(LogLocation{.dir = dir}, {.write_events = true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kBusy) << second.status().ToString();
  auto reader = OpenExchangeLogs(LogLocation{.dir = dir}, {});
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(writer.value().Close().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace isucoin::app
