// Determinism of the production matcher: the same command stream gives byte-identical events,
// and Snapshot()/Restore() at any point continues exactly like an uninterrupted run (same
// events, same StateHash()). Streams come from the property test's seeded generator.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "commands/exchange.h"
#include "events/codec.h"
#include "tests/commands/model_util.h"

namespace isucoin::testing {
namespace {

namespace ev = isucoin::events;
using commands::Exchange;

std::vector<std::string> Encode(const std::vector<ev::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(ev::EncodeEvent(e));
  return out;
}

// One stream, generated against a first exchange; returns the commands and their events.
void Generate(std::uint64_t seed, int body_commands, std::vector<ev::Command>& commands,
              std::vector<std::vector<ev::Event>>& events, std::uint64_t& final_hash,
              std::string& final_snapshot) {
  StreamGenerator gen(seed, body_commands);
  Exchange ex;
  while (auto cmd = gen.Next()) {
    auto out = ex.apply(*cmd);
    gen.Observe(out);
    commands.push_back(*cmd);
    events.push_back(std::move(out));
  }
  final_hash = ex.StateHash();
  final_snapshot = ex.Snapshot();
}

constexpr int kStreams = 400;
constexpr int kBodyCommands = 60;

TEST(MatcherDeterminismTest, SameStreamSameBytes) {
  for (int s = 0; s < kStreams; ++s) {
    const std::uint64_t seed = 9'000'000 + s;
    std::vector<ev::Command> commands;
    std::vector<std::vector<ev::Event>> events;
    std::uint64_t hash = 0;
    std::string snapshot;
    Generate(seed, kBodyCommands, commands, events, hash, snapshot);

    Exchange again;
    std::vector<ev::Event> out;  // the appending overload must give the same output
    for (std::size_t i = 0; i < commands.size(); ++i) {
      auto got = again.apply(commands[i]);
      ASSERT_EQ(Encode(got), Encode(events[i]))
          << "seed " << seed << " command #" << i << " " << Describe(commands[i]) << "\nfirst:\n"
          << Describe(events[i]) << "second:\n"
          << Describe(got);
      ASSERT_EQ(got, events[i]);
    }
    EXPECT_EQ(again.StateHash(), hash) << "seed " << seed;
    EXPECT_EQ(again.Snapshot(), snapshot) << "seed " << seed;

    Exchange appending;
    for (const auto& c : commands) appending.apply(c, out);
    std::vector<ev::Event> flat;
    for (const auto& v : events) flat.insert(flat.end(), v.begin(), v.end());
    ASSERT_EQ(Encode(out), Encode(flat)) << "seed " << seed << ": apply(cmd, out) differs";
  }
}

TEST(MatcherDeterminismTest, SnapshotRestoreContinuesIdentically) {
  std::mt19937_64 rng(4242);
  for (int s = 0; s < kStreams; ++s) {
    const std::uint64_t seed = 7'000'000 + s;
    std::vector<ev::Command> commands;
    std::vector<std::vector<ev::Event>> events;
    std::uint64_t hash = 0;
    std::string snapshot;
    Generate(seed, kBodyCommands, commands, events, hash, snapshot);

    // Cut anywhere, including before the first command and during the genesis import.
    const std::size_t cut = std::uniform_int_distribution<std::size_t>(0, commands.size())(rng);
    Exchange first;
    for (std::size_t i = 0; i < cut; ++i) first.apply(commands[i]);
    const std::string snap = first.Snapshot();
    auto restored = Exchange::Restore(snap);
    ASSERT_TRUE(restored.ok()) << "seed " << seed << " cut " << cut << ": "
                               << restored.status().ToString();
    Exchange second = std::move(restored).value();
    EXPECT_EQ(second.Snapshot(), snap) << "seed " << seed << " cut " << cut;
    EXPECT_EQ(second.StateHash(), first.StateHash()) << "seed " << seed << " cut " << cut;
    for (std::size_t i = cut; i < commands.size(); ++i) {
      auto got = second.apply(commands[i]);
      ASSERT_EQ(Encode(got), Encode(events[i]))
          << "seed " << seed << " cut " << cut << " command #" << i << " "
          << Describe(commands[i]) << "\nuninterrupted:\n"
          << Describe(events[i]) << "after restore:\n"
          << Describe(got);
    }
    EXPECT_EQ(second.StateHash(), hash) << "seed " << seed << " cut " << cut;
    EXPECT_EQ(second.Snapshot(), snapshot) << "seed " << seed << " cut " << cut;
  }
}

// The snapshot must depend on the state: every accepted order changes it (guards against a
// Snapshot() that silently drops the book, which would make the round trips above vacuous).
TEST(MatcherDeterminismTest, SnapshotCapturesTheBook) {
  StreamGenerator gen(123, 40);
  Exchange ex;
  std::string previous = ex.Snapshot();
  int changed = 0;
  while (auto cmd = gen.Next()) {
    auto out = ex.apply(*cmd);
    gen.Observe(out);
    bool accepted = false;
    for (const auto& e : out) accepted |= std::holds_alternative<ev::OrderAccepted>(e.body);
    std::string now = ex.Snapshot();
    if (accepted) {
      EXPECT_NE(now, previous) << "an accepted order did not change the snapshot: "
                               << Describe(*cmd);
      ++changed;
    }
    previous = now;
  }
  EXPECT_GT(changed, 0);
}

}  // namespace
}  // namespace isucoin::testing
