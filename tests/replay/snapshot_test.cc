// Snapshot files and start-up from them: snapshot + tail equals a full replay.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "commands/matcher.h"
#include "events/codec.h"
#include "replay/memory_replay.h"
#include "replay/snapshot_file.h"
#include "replay/startup.h"
#include "tests/replay/history_fixture.h"

namespace isucoin::replay {
namespace {

namespace fs = std::filesystem;
using replay_test::Fill;
using replay_test::Generate;
using replay_test::Payloads;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("isucoin-snap-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(SnapshotFile, RoundTripAndEveryCorruptionIsRefused) {
  const std::string body = "hello snapshot body";
  std::string file = EncodeSnapshot(SnapshotKind::kReadModel, 42, body);
  auto decoded = DecodeSnapshot(file);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value().kind, SnapshotKind::kReadModel);
  EXPECT_EQ(decoded.value().offset, 42u);
  EXPECT_EQ(decoded.value().body, body);
  for (std::size_t i = 0; i < file.size(); ++i) {  // any flipped byte is caught
    std::string bad = file;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeSnapshot(bad).ok()) << "byte " << i;
  }
  for (std::size_t n = 0; n < file.size(); ++n) {  // any truncation is caught
    EXPECT_FALSE(DecodeSnapshot(file.substr(0, n)).ok()) << "length " << n;
  }
}

TEST(SnapshotStore, LoadsNewestValidSkipsCorruptWithWarningKeepsLastN) {
  TempDir dir;
  std::vector<std::string> warnings;
  SnapshotStore store(dir.str(), 2, [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(store.Write(SnapshotKind::kMatcher, 10, "ten").ok());
  ASSERT_TRUE(store.Write(SnapshotKind::kMatcher, 20, "twenty").ok());
  auto newest = store.Write(SnapshotKind::kMatcher, 30, "thirty");
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(store.List(SnapshotKind::kMatcher).size(), 2u);  // 10 pruned
  EXPECT_TRUE(store.List(SnapshotKind::kReadModel).empty());
  EXPECT_EQ(store.LoadNewest(SnapshotKind::kMatcher)->body, "thirty");
  EXPECT_EQ(store.LoadNewest(SnapshotKind::kMatcher, 25)->body, "twenty");

  // Corrupt the newest: a byte in the body.
  {
    std::fstream f(newest.value(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kSnapshotHeaderBytes + 2);
    f.put('X');
  }
  auto loaded = store.LoadNewest(SnapshotKind::kMatcher);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->body, "twenty");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(newest.value()), std::string::npos) << warnings[0];

  // Truncated: both bad now, nothing is trusted.
  fs::resize_file(store.List(SnapshotKind::kMatcher)[1].path, 20);
  EXPECT_FALSE(store.LoadNewest(SnapshotKind::kMatcher).has_value());
  EXPECT_EQ(warnings.size(), 3u);
}

TEST(ReadModelSnapshot, SerializeRoundTripsAndSnapshotPlusTailEqualsFullReplay) {
  events::MemoryLog commands, log;
  Generate(commands, log, 20'000, /*settle_all=*/false);
  const std::uint64_t end = log.End();
  auto full = ReplayIntoMemory(log, {});
  ASSERT_TRUE(full.ok());
  const std::string full_bytes = full.value().model.Serialize();
  auto again = projections::ReadModel::Deserialize(full_bytes);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again.value().Serialize(), full_bytes);

  for (std::uint64_t cut : {std::uint64_t{0}, std::uint64_t{1}, end / 3, end / 2, end - 1, end}) {
    MemoryReplayOptions head_options;
    head_options.until_offset = cut;
    auto head = ReplayIntoMemory(log, head_options);
    ASSERT_TRUE(head.ok());
    auto restored = projections::ReadModel::Deserialize(head.value().model.Serialize());
    ASSERT_TRUE(restored.ok());
    MemoryReplayOptions tail_options;
    tail_options.start = std::move(restored).value();
    tail_options.from_offset = cut;
    auto tail = ReplayIntoMemory(log, std::move(tail_options));
    ASSERT_TRUE(tail.ok());
    EXPECT_EQ(tail.value().model.Serialize(), full_bytes) << "cut at " << cut;
  }
  // A truncated body never deserializes.
  EXPECT_FALSE(projections::ReadModel::Deserialize(full_bytes.substr(0, full_bytes.size() / 2)).ok());
}

TEST(MemoryReplay, UntilTimeAndUntilOffsetStopWhereAsked) {
  events::MemoryLog commands, log;
  Generate(commands, log, 5'000);
  const auto payloads = Payloads(log);
  const std::size_t mid = payloads.size() / 2;
  const auto mid_event = events::DecodeEvent(payloads[mid]).value();
  MemoryReplayOptions by_time;
  by_time.until_time = mid_event.time;  // inclusive
  auto t = ReplayIntoMemory(log, by_time).value();
  ASSERT_LT(t.next_offset, payloads.size());
  EXPECT_LE(events::DecodeEvent(payloads[t.next_offset - 1]).value().time, mid_event.time);
  EXPECT_GT(events::DecodeEvent(payloads[t.next_offset]).value().time, mid_event.time);
  MemoryReplayOptions by_offset;
  by_offset.until_offset = t.next_offset;
  auto o = ReplayIntoMemory(log, by_offset).value();
  EXPECT_EQ(o.model.Serialize(), t.model.Serialize());
  EXPECT_EQ(o.events_read, t.next_offset);
}

TEST(MatcherSnapshot, RecoverFromSnapshotPlusTailEqualsFullRecovery) {
  events::MemoryLog commands, log;
  Generate(commands, log, 20'000);
  const auto command_payloads = Payloads(commands);
  const auto event_payloads = Payloads(log);

  // Full recovery: the reference state.
  commands::Matcher reference(commands, log);
  ASSERT_TRUE(reference.Recover().ok());
  const std::uint64_t hash = reference.exchange().StateHash();

  // Snapshot the state after a prefix of the commands, by a matcher run on that prefix.
  const std::size_t cut = command_payloads.size() / 2;
  events::MemoryLog prefix_commands, prefix_events;
  Fill(prefix_commands, {command_payloads.begin(), command_payloads.begin() + cut});
  commands::Matcher prefix(prefix_commands, prefix_events);
  ASSERT_TRUE(prefix.Recover().ok());
  while (prefix.Step(4096).value() > 0) {
  }
  const std::string snapshot = prefix.exchange().Snapshot();

  auto restored = commands::Exchange::Restore(snapshot);
  ASSERT_TRUE(restored.ok());
  commands::Matcher from_snapshot(commands, log);
  ASSERT_TRUE(from_snapshot.Recover(std::move(restored).value(), cut).ok());
  EXPECT_EQ(from_snapshot.exchange().StateHash(), hash);
  EXPECT_EQ(from_snapshot.next_command(), reference.next_command());
  EXPECT_EQ(log.End(), event_payloads.size());  // nothing appended twice

  // Exactly-once still holds from a snapshot: a crash lost the last command's later events.
  events::MemoryLog torn_events;
  std::vector<std::string> torn = event_payloads;
  auto last = events::DecodeEvent(torn.back()).value();
  std::size_t keep = torn.size();
  while (keep > 0 && events::DecodeEvent(torn[keep - 1]).value().seq.cause == last.seq.cause) --keep;
  ASSERT_LT(keep, torn.size());
  torn.resize(keep + 1);  // only the first event of the last command survived
  Fill(torn_events, torn);
  commands::Matcher completing(commands, torn_events);
  ASSERT_TRUE(completing.Recover(commands::Exchange::Restore(snapshot).value(), cut).ok());
  EXPECT_EQ(Payloads(torn_events), event_payloads);
  EXPECT_EQ(completing.exchange().StateHash(), hash);

  // A snapshot ahead of the events log is refused (the caller falls back to Recover()).
  events::MemoryLog short_events;
  Fill(short_events, {event_payloads.begin(), event_payloads.begin() + 10});
  commands::Matcher ahead(commands, short_events);
  EXPECT_EQ(ahead.Recover(commands::Exchange::Restore(snapshot).value(), cut).code(),
            Status::Code::kInvalid);
}

TEST(Startup, UsesNewestValidSnapshotsAndSkipsACorruptOne) {
  TempDir dir;
  events::MemoryLog commands, log;
  Generate(commands, log, 10'000);
  const auto command_payloads = Payloads(commands);
  SnapshotStore store(dir.str(), 3, [](const std::string&) {});

  // Two matcher and two read-model snapshots at different points.
  for (std::size_t cut : {command_payloads.size() / 3, command_payloads.size() * 2 / 3}) {
    events::MemoryLog c, e;
    Fill(c, {command_payloads.begin(), command_payloads.begin() + static_cast<long>(cut)});
    commands::Matcher m(c, e);
    ASSERT_TRUE(m.Recover().ok());
    while (m.Step(4096).value() > 0) {
    }
    ASSERT_TRUE(store.Write(SnapshotKind::kMatcher, cut, m.exchange().Snapshot()).ok());
    MemoryReplayOptions o;
    o.until_offset = e.End();
    auto head = ReplayIntoMemory(log, o);
    ASSERT_TRUE(store.Write(SnapshotKind::kReadModel, e.End(), head.value().model.Serialize()).ok());
  }
  commands::Matcher reference(commands, log);
  ASSERT_TRUE(reference.Recover().ok());
  auto full = ReplayIntoMemory(log, {}).value();

  auto check = [&](std::uint64_t want_matcher, std::uint64_t want_model) {
    auto m = StartMatcher(commands, log, &store);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m.value().snapshot_offset, want_matcher);
    EXPECT_EQ(m.value().matcher->exchange().StateHash(), reference.exchange().StateHash());
    auto r = StartReadModel(log, &store, 9 * 3600);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().snapshot_offset, want_model);
    EXPECT_EQ(r.value().replay.model.Serialize(), full.model.Serialize());
  };
  const auto matchers = store.List(SnapshotKind::kMatcher);
  const auto models = store.List(SnapshotKind::kReadModel);
  check(matchers[0].offset, models[0].offset);
  // Corrupt both newest: the older ones are used.
  for (const auto* path : {&matchers[0].path, &models[0].path}) {
    std::fstream f(*path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kSnapshotHeaderBytes + 5);
    f.put('\x7f');
  }
  check(matchers[1].offset, models[1].offset);
}

}  // namespace
}  // namespace isucoin::replay
