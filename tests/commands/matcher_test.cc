// Matcher over the logs: exactly-once resumption after a crash at any point.
#include "commands/matcher.h"

#include <gtest/gtest.h>

#include <random>

#include "events/codec.h"
#include "events/memory_log.h"

namespace isucoin::commands {
namespace {

using namespace isucoin::events;

// A short trading session: two users, crossing orders, a report, a commit.
std::vector<std::string> Session() {
  std::vector<CommandBody> bodies = {
      SignupRequested{"a", "bank-a", "h"},
      SignupRequested{"b", "bank-b", "h"},
      OrderPlaced{1, Side::kSell, 3, 100},
      OrderPlaced{2, Side::kBuy, 1, 101},
      OrderPlaced{2, Side::kBuy, 2, 100},  // fills the sell: match 1
      ReservationsReported{1, {{3, 11, ""}, {4, 12, ""}, {5, 13, ""}}},
      CommitsReported{{1}},
      OrderPlaced{1, Side::kSell, 1, 90},
      CancelRequested{1, 6},
  };
  std::vector<std::string> out;
  Micros t = 1'000'000;
  for (auto& b : bodies) out.push_back(EncodeCommand(Command{0, t += 1000, b}));
  return out;
}

std::vector<std::string> Payloads(Log& log) {
  std::vector<std::string> out;
  for (const auto& r : log.Read(0, 1'000'000).value()) out.push_back(r.payload);
  return out;
}

// The events an uninterrupted matcher writes for the session.
std::vector<std::string> Reference() {
  MemoryLog commands, events;
  commands.Append(Session());
  Matcher m(commands, events);
  EXPECT_TRUE(m.Recover().ok());
  EXPECT_EQ(m.Step(1000).value(), Session().size());
  return Payloads(events);
}

TEST(MatcherTest, AppliesCommandsAndWritesSequencedEvents) {
  auto events = Reference();
  ASSERT_GE(events.size(), 10u);
  std::optional<Sequence> previous;
  for (const auto& payload : events) {
    auto e = DecodeEvent(payload);
    ASSERT_TRUE(e.ok()) << payload;
    if (previous) {
      EXPECT_LT(*previous, e.value().seq);  // strictly increasing
    }
    previous = e.value().seq;
  }
}

TEST(MatcherTest, RestartResumesWithoutRepeatingAnything) {
  MemoryLog commands, events;
  auto session = Session();
  commands.Append(std::span(session).subspan(0, 5));
  {
    Matcher m(commands, events);
    ASSERT_TRUE(m.Recover().ok());
    ASSERT_EQ(m.Step(1000).value(), 5u);
  }
  commands.Append(std::span(session).subspan(5));
  Matcher restarted(commands, events);
  ASSERT_TRUE(restarted.Recover().ok());
  EXPECT_EQ(restarted.next_command(), 5u);
  ASSERT_EQ(restarted.Step(1000).value(), session.size() - 5);
  EXPECT_EQ(Payloads(events), Reference());
}

TEST(MatcherTest, ACrashBetweenEventsOfOneCommandIsCompletedOnRecovery) {
  auto full = Reference();
  // Cut the events log after every possible prefix, as a crash mid-append would.
  for (std::size_t keep = 1; keep < full.size(); ++keep) {
    MemoryLog commands, events;
    commands.Append(Session());
    events.Append(std::span(full).subspan(0, keep));
    Matcher m(commands, events);
    ASSERT_TRUE(m.Recover().ok()) << keep;
    ASSERT_TRUE(m.Step(1000).ok());
    EXPECT_EQ(Payloads(events), full) << "events log cut after " << keep << " records";
  }
}

TEST(MatcherTest, AnUndecodableCommandIsRejectedAndTheRestGoesOn) {
  MemoryLog commands, events;
  auto session = Session();
  session.insert(session.begin() + 2, "{\"v\":1,\"type\":\"OrderPlaced\",\"garbage");
  commands.Append(session);
  Matcher m(commands, events);
  ASSERT_TRUE(m.Recover().ok());
  ASSERT_EQ(m.Step(1000).value(), session.size());
  bool rejected_at_2 = false;
  for (const auto& payload : Payloads(events)) {
    auto e = DecodeEvent(payload).value();
    if (e.seq.cause == 2) rejected_at_2 = std::holds_alternative<CommandRejected>(e.body);
  }
  EXPECT_TRUE(rejected_at_2);
}

TEST(MatcherTest, RecoveryRefusesAnEventsLogThatNamesAMissingCommand) {
  MemoryLog commands, events;
  commands.Append(Session());
  events.Append(std::vector<std::string>{EncodeEvent(Event{{99, 0}, 1, ExchangeReset{}})});
  Matcher m(commands, events);
  Status s = m.Recover();
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("99"), std::string::npos);
}

TEST(MatcherTest, RunFollowsTheCommandsLogUntilStopped) {
  MemoryLog commands, events;
  Matcher m(commands, events);
  ASSERT_TRUE(m.Recover().ok());
  std::atomic<bool> stop{false};
  std::thread runner([&] { EXPECT_TRUE(m.Run(stop).ok()); });
  for (const auto& c : Session()) commands.Append(std::vector<std::string>{c});
  auto expected = Reference();
  while (events.End() < expected.size()) events.WaitFor(expected.size() - 1, std::chrono::seconds(5));
  stop = true;
  runner.join();
  EXPECT_EQ(Payloads(events), expected);
}

}  // namespace
}  // namespace isucoin::commands
