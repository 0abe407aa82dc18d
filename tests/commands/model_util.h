// Helpers shared by the model-based matcher tests: readable printers for commands and events,
// a C++ printer for reproducers, the seeded random command-stream generator, and an invariant
// checker that looks only at the emitted events.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "events/records.h"

namespace isucoin::testing {

std::string Describe(const events::Command& cmd);
std::string Describe(const events::Event& e);
std::string Describe(const std::vector<events::Event>& events);
// The command as a C++ expression (`Cmd(offset, time, events::OrderPlaced{...})`), for pasting a
// shrunk reproducer into matcher_regression_test.cc.
std::string ToCpp(const events::Command& cmd);

// MATCHING.md does not fix the text of CommandRejected::reason, so the comparison ignores it.
std::vector<events::Event> NormalizeForComparison(std::vector<events::Event> events);

// Generates one random command stream. Interactive: after each command, feed the events the
// exchange produced to Observe() so later commands can name real match, order and trade ids.
class StreamGenerator {
 public:
  StreamGenerator(std::uint64_t seed, int body_commands);

  std::optional<events::Command> Next();
  void Observe(const std::vector<events::Event>& events);

 private:
  events::Command Make(events::CommandBody body);
  void GenerateGenesis();
  events::CommandBody RandomBody();
  events::CommandBody RandomOrder();
  events::CommandBody RandomCancel();
  events::CommandBody RandomReservations();
  events::CommandBody RandomCommits();
  events::CommandBody RandomSignup();
  events::CommandBody RandomSignin();
  events::CommandBody RandomImport();
  std::string RandomBankId();
  events::Id RandomUser();
  bool Chance(double p);
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi);

  std::mt19937_64 rng_;
  std::uint64_t offset_ = 0;
  events::Micros time_ = 1'700'000'000'000'000;
  std::vector<events::Command> genesis_;
  std::size_t genesis_pos_ = 0;
  int remaining_;
  std::int64_t next_reserve_id_ = 1000;
  bool deep_book_ = false;  // per stream: skewed prices that build a deep book

  // Learnt from the events.
  std::vector<events::Id> users_;
  std::vector<std::string> bank_ids_;
  std::map<events::Id, events::Id> order_owner_;
  std::map<events::Id, events::MatchProposed> pending_;
  std::vector<events::Id> finished_matches_;
  std::vector<events::Id> trades_;
  std::vector<events::Id> genesis_users_, stale_users_;
  std::vector<std::string> genesis_bank_ids_;
  std::map<events::Id, events::Id> genesis_orders_, stale_orders_;
  events::Id max_match_ = 0;
};

// Checks the trading rules on the emitted events alone (no access to either matcher).
class InvariantChecker {
 public:
  // Returns an empty string when every invariant holds, else a description of the violation.
  std::string Check(const events::Command& cmd, const std::vector<events::Event>& events);

 private:
  struct OrderInfo {
    events::Side side = events::Side::kBuy;
    events::Id user_id = 0;
    std::int64_t amount = 0;
    std::int64_t price = 0;
    bool traded = false;
    bool cancelled = false;
    events::Id locked_in = 0;
  };
  std::string CheckOne(const events::Event& e);

  std::map<events::Id, OrderInfo> orders_;
  std::map<events::Id, OrderInfo> genesis_orders_;
  std::map<events::Id, events::MatchProposed> pending_;
  std::set<events::Id> finished_matches_;
  std::set<events::Id> trade_ids_;
};

}  // namespace isucoin::testing
