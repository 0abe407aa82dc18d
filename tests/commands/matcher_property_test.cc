// Model-based property test: random command streams through the production matcher
// (isucoin::commands::Exchange) and the brute-force ReferenceExchange, which are two independent
// readings of commands/MATCHING.md. After every command both must emit identical events, and
// the events must obey the trading rules (InvariantChecker), and the reference's book must be at
// the sweep's fixpoint.
//
// Reproducible: every stream is generated from a fixed seed. A failure prints the seed, the
// stream index, a shrunk reproducer (as C++ for matcher_regression_test.cc) and both sides.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "commands/exchange.h"
#include "tests/commands/model_util.h"
#include "tests/commands/reference_exchange.h"
#include "tests/support/test_scale.h"

namespace isucoin::testing {
namespace {

namespace ev = isucoin::events;
using commands::Exchange;

// When > 0, the production exchange is replaced by Exchange::Restore(Snapshot()) before every
// command whose offset is ≡ -1 (mod this): the restored copy must behave exactly like the
// original from then on. Keyed by offset so the shrinker replays the same round trips.
std::uint64_t g_restore_every = 0;

struct Outcome {
  std::vector<ev::Event> prod, ref;
  std::string problem;  // empty: the command passed
};

// Applies `cmd` to both matchers and checks everything; returns a description of any failure.
Outcome Step(Exchange& prod, ReferenceExchange& ref, InvariantChecker& inv,
             const ev::Command& cmd) {
  Outcome o;
  if (g_restore_every > 0 && cmd.offset % g_restore_every == g_restore_every - 1) {
    const std::string snap = prod.Snapshot();
    const std::uint64_t hash = prod.StateHash();
    auto restored = Exchange::Restore(snap);
    if (!restored.ok()) {
      o.problem = "Restore(Snapshot()) failed: " + restored.status().ToString();
      return o;
    }
    prod = std::move(restored).value();
    if (prod.StateHash() != hash || prod.Snapshot() != snap) {
      o.problem = "Restore(Snapshot()) does not give back the same state";
      return o;
    }
  }
  try {
    o.prod = prod.apply(cmd);
  } catch (const std::exception& e) {
    o.problem = std::string("production threw: ") + e.what();
    return o;
  }
  try {
    o.ref = ref.apply(cmd);
  } catch (const std::exception& e) {
    o.problem = std::string("reference threw: ") + e.what();
    return o;
  }
  if (NormalizeForComparison(o.prod) != NormalizeForComparison(o.ref)) {
    o.problem = "events differ";
    return o;
  }
  std::string err = inv.Check(cmd, o.prod);
  if (!err.empty()) {
    o.problem = "invariant violated: " + err;
    return o;
  }
  if (ref.genesis_complete() && !ref.AtFixpoint()) {
    o.problem = "sweep did not reach its fixpoint (a candidate's walk would still succeed)";
    return o;
  }
  // The read-only views must agree with the reference's book.
  std::optional<std::int64_t> bid, ask;
  std::size_t open = 0;
  for (const auto& [id, order] : ref.orders()) {
    if (order.status != ReferenceExchange::Status::kOpen) continue;
    ++open;
    if (order.side == ev::Side::kBuy) bid = std::max(bid.value_or(order.price), order.price);
    if (order.side == ev::Side::kSell) ask = std::min(ask.value_or(order.price), order.price);
  }
  if (prod.best_bid() != bid || prod.best_ask() != ask) {
    o.problem = "best_bid/best_ask differ from the open (unlocked) orders";
    return o;
  }
  if (prod.open_order_count() != open) {
    o.problem = "open_order_count() = " + std::to_string(prod.open_order_count()) +
                ", reference has " + std::to_string(open) + " open (unlocked) orders";
    return o;
  }
  return o;
}

// Index of the first failing command of `stream` replayed on fresh matchers, if any.
std::optional<std::size_t> FirstFailure(const std::vector<ev::Command>& stream,
                                        std::string* problem = nullptr) {
  Exchange prod;
  ReferenceExchange ref;
  InvariantChecker inv;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    Outcome o = Step(prod, ref, inv, stream[i]);
    if (!o.problem.empty()) {
      if (problem) *problem = o.problem;
      return i;
    }
  }
  return std::nullopt;
}

// Greedy delta-debugging: drop chunks of commands while the stream still fails (any failure).
// Offsets and times are kept, so `request` fields in the output still name the right commands.
std::vector<ev::Command> Shrink(std::vector<ev::Command> stream) {
  auto first = FirstFailure(stream);
  if (!first) return stream;
  stream.resize(*first + 1);
  for (std::size_t chunk = std::max<std::size_t>(1, stream.size() / 2);; chunk /= 2) {
    bool progress = true;
    while (progress) {
      progress = false;
      for (std::size_t start = 0; start + 1 < stream.size();) {
        std::vector<ev::Command> candidate;
        for (std::size_t i = 0; i < stream.size(); ++i) {
          // Never drop the failing (last) command.
          if (i >= start && i < start + chunk && i + 1 < stream.size()) continue;
          candidate.push_back(stream[i]);
        }
        auto f = candidate.size() < stream.size() ? FirstFailure(candidate) : std::nullopt;
        if (f) {
          candidate.resize(*f + 1);
          stream = std::move(candidate);
          progress = true;
        } else {
          start += chunk;
        }
      }
    }
    if (chunk == 1) break;
  }
  return stream;
}

std::string Report(const std::vector<ev::Command>& stream) {
  std::ostringstream s;
  Exchange prod;
  ReferenceExchange ref;
  InvariantChecker inv;
  s << "Shrunk reproducer (" << stream.size() << " commands):\n";
  for (const auto& c : stream) s << "    " << ToCpp(c) << ",\n";
  s << "Replay:\n";
  for (const auto& c : stream) {
    Outcome o = Step(prod, ref, inv, c);
    s << "  " << Describe(c) << "\n";
    if (!o.problem.empty() || &c == &stream.back()) {
      s << "  PROBLEM: " << (o.problem.empty() ? "none on replay" : o.problem) << "\n";
      s << "  production:\n" << Describe(o.prod) << "  reference:\n" << Describe(o.ref);
      break;
    }
    s << Describe(o.prod);
  }
  return s.str();
}

struct RunStats {
  std::uint64_t commands = 0;
  std::uint64_t matches = 0;
  std::uint64_t trades = 0;
  std::uint64_t aborts = 0;
  std::uint64_t deferred = 0;
  std::uint64_t blocked = 0;
  std::uint64_t resets = 0;
  std::uint64_t rejected = 0;
  std::uint64_t multi_leg = 0;
  std::uint64_t book_sum = 0;   // open (unlocked) orders after each command, summed
  std::uint64_t book_max = 0;
};

// Runs streams [first, first + count) of one seed family; stops at the first failing stream.
void RunStreams(std::uint64_t base_seed, std::uint64_t first, std::uint64_t count,
                int body_commands) {
  RunStats st;
  for (std::uint64_t s = first; s < first + count; ++s) {
    const std::uint64_t seed = base_seed * 1'000'003ULL + s;
    StreamGenerator gen(seed, body_commands);
    Exchange prod;
    ReferenceExchange ref;
    InvariantChecker inv;
    std::vector<ev::Command> history;
    while (auto cmd = gen.Next()) {
      history.push_back(*cmd);
      Outcome o = Step(prod, ref, inv, *cmd);
      if (!o.problem.empty()) {
        ADD_FAILURE() << "seed " << seed << " (base " << base_seed << ", stream " << s
                      << "), command #" << history.size() - 1 << ": " << o.problem << "\n  "
                      << Describe(*cmd) << "\n  production:\n"
                      << Describe(o.prod) << "  reference:\n"
                      << Describe(o.ref) << Report(Shrink(history));
        return;
      }
      ++st.commands;
      for (const auto& e : o.prod) {
        if (const auto* m = std::get_if<ev::MatchProposed>(&e.body)) {
          ++st.matches;
          if (m->legs.size() > 2) ++st.multi_leg;
        }
        st.trades += std::holds_alternative<ev::TradeExecuted>(e.body);
        st.aborts += std::holds_alternative<ev::MatchAborted>(e.body);
        st.deferred += std::holds_alternative<ev::CancelDeferred>(e.body);
        st.blocked += std::holds_alternative<ev::SigninBlocked>(e.body);
        st.resets += std::holds_alternative<ev::ExchangeReset>(e.body);
        st.rejected += std::holds_alternative<ev::CommandRejected>(e.body);
      }
      std::uint64_t open = 0;
      for (const auto& [id, order] : ref.orders()) {
        open += order.status == ReferenceExchange::Status::kOpen;
      }
      st.book_sum += open;
      st.book_max = std::max(st.book_max, open);
      gen.Observe(o.prod);
    }
  }
  // Coverage: the generator must actually exercise the interesting paths.
  std::cout << "  " << count << " streams, " << st.commands << " commands: " << st.matches
            << " matches (" << st.multi_leg << " multi-leg), " << st.trades << " trades, "
            << st.aborts << " aborts, " << st.deferred << " deferred cancels, " << st.blocked
            << " blocked sign-ins, " << st.resets << " resets, " << st.rejected
            << " rejected commands; open orders: mean "
            << (st.commands ? st.book_sum / st.commands : 0) << ", max " << st.book_max << "\n";
  EXPECT_GT(st.multi_leg, 0u);
  EXPECT_GT(st.trades, 0u);
  EXPECT_GT(st.aborts, 0u);
  EXPECT_GT(st.deferred, 0u);
  EXPECT_GT(st.blocked, 0u);
  EXPECT_GT(st.resets, 0u);
}

// 100,000 streams in total, split so ctest shows progress. Times ISUCOIN_TEST_SCALE
// (tests/support/test_scale.h): unset in normal runs, so all 100,000; lower under sanitizers.
const std::uint64_t kStreamsPerShard = test_support::Scaled(25'000);
constexpr int kBodyCommands = 60;

TEST(MatcherPropertyTest, Shard0) { RunStreams(1, 0, kStreamsPerShard, kBodyCommands); }
TEST(MatcherPropertyTest, Shard1) { RunStreams(2, 0, kStreamsPerShard, kBodyCommands); }
// Shards 2 and 3 also swap the production exchange for a snapshot round trip now and then.
TEST(MatcherPropertyTest, Shard2WithRestores) {
  g_restore_every = 11;
  RunStreams(3, 0, kStreamsPerShard, kBodyCommands);
  g_restore_every = 0;
}
TEST(MatcherPropertyTest, Shard3WithRestores) {
  g_restore_every = 19;
  RunStreams(4, 0, kStreamsPerShard, kBodyCommands);
  g_restore_every = 0;
}

// Long streams grow deep books (tens of orders) and many resets/reservations in one history.
TEST(MatcherPropertyTest, LongStreams) { RunStreams(5, 0, test_support::Scaled(2000), 400); }

}  // namespace
}  // namespace isucoin::testing
