// The initial dataset import: every valid line becomes a genesis command; one bad line refuses
// the whole file, naming the line.
#include "commands/dataset.h"

#include <gtest/gtest.h>

#include <sstream>

#include "commands/exchange.h"

namespace isucoin::commands {
namespace {

using namespace isucoin::events;

const char* kHash = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";

std::string User(int id, const std::string& bank) {
  return R"({"kind":"user","id":)" + std::to_string(id) + R"(,"bank_id":")" + bank +
         R"(","name":"n","password":")" + kHash +
         R"(","created_at":"2018-10-16T09:00:00.123456+09:00"})";
}

std::string Good() {
  return User(1, "b1") + "\n" + User(2, "b2") + "\n" +
         R"({"kind":"trade","id":1,"amount":3,"price":5000,"created_at":"2018-10-16T09:01:00+09:00"})"
         "\n"
         R"({"kind":"order","id":1,"type":"buy","user_id":1,"amount":3,"price":5000,"created_at":"2018-10-16T09:00:30+09:00","closed_at":"2018-10-16T09:01:00+09:00","trade_id":1})"
         "\n"
         R"({"kind":"order","id":2,"type":"sell","user_id":2,"amount":3,"price":4900,"created_at":"2018-10-16T09:00:40+09:00","closed_at":"2018-10-16T09:01:00+09:00","trade_id":1})"
         "\n"
         R"({"kind":"order","id":3,"type":"sell","user_id":2,"amount":1,"price":5100,"created_at":"2018-10-16T09:02:00+09:00","closed_at":null,"trade_id":null})"
         "\n";
}

Result<Dataset> Parse(const std::string& text) {
  std::istringstream in(text);
  return ParseDataset(in);
}

TEST(DatasetTest, AValidDatasetBecomesTheGenesisCommands) {
  auto d = Parse(Good());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d.value().counts.users, 2u);
  EXPECT_EQ(d.value().counts.trades, 1u);
  EXPECT_EQ(d.value().counts.orders, 3u);
  EXPECT_EQ(d.value().counts.open_orders, 1u);
  ASSERT_EQ(d.value().commands.size(), 7u);
  EXPECT_TRUE(std::holds_alternative<GenesisSealed>(d.value().commands.back()));
  const auto& u = std::get<UserImported>(d.value().commands[0]);
  EXPECT_EQ(u.created_at, 1'539'648'000'123'456);
  EXPECT_EQ(u.password_hash, kHash);

  // The matcher accepts every command, and the open order is live.
  Exchange exchange;
  std::uint64_t offset = 0;
  for (const auto& body : d.value().commands) {
    for (const auto& e : exchange.apply(Command{offset++, 0, body})) {
      EXPECT_FALSE(std::holds_alternative<CommandRejected>(e.body));
    }
  }
  EXPECT_EQ(exchange.best_ask(), 5100);
}

struct BadCase {
  std::string text;
  std::string message;
};

class DatasetErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(DatasetErrorTest, NamesTheLineAndImportsNothing) {
  auto d = Parse(GetParam().text);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(GetParam().message), std::string::npos)
      << d.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Dataset, DatasetErrorTest,
    ::testing::Values(
        BadCase{User(1, "b1") + "\n{oops\n", "line 2: not a JSON object"},
        BadCase{User(1, "b1") + "\n" + User(1, "b2") + "\n", "line 2: duplicate user id"},
        BadCase{User(1, "b1") + "\n" + User(2, "b1") + "\n", "line 2: duplicate bank_id b1"},
        BadCase{R"({"kind":"user","id":1,"bank_id":"b","name":"n","password":"plain","created_at":"2018-10-16T09:00:00+09:00"})",
                "line 1: password must be a bcrypt hash"},
        BadCase{R"({"kind":"user","id":-1,"bank_id":"b","name":"n","password":"x","created_at":"x"})",
                "line 1: id must be"},
        BadCase{R"({"kind":"user","id":1,"bank_id":"b","name":"n","password":"x"})",
                "line 1: missing field created_at"},
        BadCase{R"({"kind":"trade","id":1,"amount":3,"price":5000,"created_at":"yesterday"})",
                "line 1: created_at: time \"yesterday\""},
        BadCase{R"({"kind":"trade","id":1,"amount":0,"price":5000,"created_at":"2018-10-16T09:00:00Z"})",
                "line 1: amount must be from 1"},
        BadCase{R"({"kind":"trade","id":1,"amount":1,"price":99999999999999999999,"created_at":"2018-10-16T09:00:00Z"})",
                "line 1: price must be an integer"},
        BadCase{R"({"kind":"chair","id":1})", "line 1: kind must be user, trade or order"},
        BadCase{User(1, "b1") + "\n" +
                    R"({"kind":"order","id":1,"type":"hold","user_id":1,"amount":1,"price":1,"created_at":"2018-10-16T09:00:00Z","closed_at":null,"trade_id":null})",
                "line 2: type must be buy or sell"},
        BadCase{User(1, "b1") + "\n" +
                    R"({"kind":"order","id":1,"type":"buy","user_id":9,"amount":1,"price":1,"created_at":"2018-10-16T09:00:00Z","closed_at":null,"trade_id":null})",
                "line 2: user_id names no user"},
        BadCase{User(1, "b1") + "\n" +
                    R"({"kind":"order","id":1,"type":"buy","user_id":1,"amount":1,"price":1,"created_at":"2018-10-16T09:00:00Z","closed_at":null,"trade_id":4})",
                "line 2: trade_id names no trade"},
        BadCase{R"({"kind":"trade","id":1,"amount":3,"price":5000,"created_at":"2018-10-16T09:00:00Z"})"
                "\n" +
                    User(1, "b1"),
                "line 2: users must come before"},
        BadCase{User(1, "b1") + "\n" +
                    R"({"kind":"trade","id":1,"amount":3,"price":5000,"created_at":"2018-10-16T09:00:00Z"})"
                    "\n"
                    R"({"kind":"order","id":1,"type":"buy","user_id":1,"amount":2,"price":5000,"created_at":"2018-10-16T09:00:00Z","closed_at":"2018-10-16T09:00:00Z","trade_id":1})",
                "trade 1: its buy orders sum to 2"}));

}  // namespace
}  // namespace isucoin::commands
