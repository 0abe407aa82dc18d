#include "tools/historygen/historygen.h"

#include <string>
#include <vector>

#include "events/codec.h"
#include "tools/historygen/trading_mix.h"

namespace isucoin::tools {

using namespace isucoin::events;

struct HistoryGenerator::State {
  HistoryOptions options;
  TradingMix mix;
  bool setup_done = false;
  std::vector<Command> made;        // commands made and not yet encoded
  std::vector<std::string> batch;   // encoded, to append

  State(HistoryOptions o, std::uint64_t first_offset)
      : options(o),
        mix(TradingMixOptions{o.users, o.resting_orders, o.seed, o.start_time, o.step,
                              first_offset}) {}

  void Encode() {
    for (const Command& c : made) batch.push_back(EncodeCommand(c));
    made.clear();
  }
};

HistoryGenerator::HistoryGenerator(Log& commands, Log& events, HistoryOptions options)
    : commands_(commands), events_(events),
      matcher_(std::make_unique<commands::Matcher>(commands, events)),
      state_(std::make_unique<State>(options, commands.End())) {}

HistoryGenerator::~HistoryGenerator() = default;

Status HistoryGenerator::Flush() {
  State& s = *state_;
  if (s.batch.empty()) return Status::Ok();
  auto appended = commands_.Append(s.batch);
  if (!appended.ok()) return appended.status();
  s.batch.clear();
  for (;;) {
    auto n = matcher_->Step(4096);
    if (!n.ok()) return n.status();
    if (n.value() == 0) return Status::Ok();
  }
}

Status HistoryGenerator::Generate(std::uint64_t min_events, bool settle_all) {
  State& s = *state_;
  if (!s.setup_done) {
    if (commands_.End() != 0) {
      return Status::Invalid("history generator: the commands log must start empty");
    }
    if (Status st = matcher_->Recover(); !st.ok()) return st;
    s.mix.Setup(s.made);
    s.Encode();
    s.setup_done = true;
  }
  while (events_.End() < min_events) {
    while (s.batch.size() + s.made.size() < s.options.batch) s.mix.Step(s.made);
    s.Encode();
    if (Status st = Flush(); !st.ok()) return st;
  }
  if (settle_all) {
    s.mix.SettleAll(s.made);
    s.Encode();
  }
  return Flush();
}

}  // namespace isucoin::tools
