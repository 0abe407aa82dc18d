#include "commands/matcher.h"

#include <string>
#include <vector>

#include "events/codec.h"

namespace isucoin::commands {

using events::Command;
using events::Event;

namespace {
constexpr std::size_t kReadBatch = 4096;
}  // namespace

Command Matcher::Decode(const events::LogRecord& record) {
  auto decoded = events::DecodeCommand(record.payload, record.offset);
  if (decoded.ok()) return std::move(decoded).value();
  // Deterministic like everything else: the same bytes always give the same rejection.
  return Command{record.offset, 0, events::MalformedCommand{decoded.status().message()}};
}

Status Matcher::Recover() { return RecoverFrom(Exchange(), 0); }

Status Matcher::Recover(Exchange state, std::uint64_t next_command) {
  return RecoverFrom(std::move(state), next_command);
}

Status Matcher::RecoverFrom(Exchange state, std::uint64_t next_command) {
  const events::Offset end = events_.End();
  if (next_command > 0) {
    if (next_command > commands_.End()) {
      return Status::Invalid("snapshot covers " + std::to_string(next_command) +
                             " commands but the commands log holds " +
                             std::to_string(commands_.End()));
    }
    if (end == 0) return Status::Invalid("snapshot given but the events log is empty");
    auto last_records = events_.Read(end - 1, 1);
    if (!last_records.ok()) return last_records.status();
    if (last_records.value().empty()) return Status::Corruption("events log: last record unreadable");
    auto last = events::DecodeEvent(last_records.value().front().payload);
    if (last.ok() && last.value().seq.cause + 1 < next_command) {
      return Status::Invalid("snapshot at command " + std::to_string(next_command) +
                             " is ahead of the events log (last cause " +
                             std::to_string(last.value().seq.cause) + ")");
    }
    // (an undecodable last record is reported below, as without a snapshot)
  }
  exchange_ = std::move(state);
  next_ = next_command;
  if (end > 0) {
    auto last_records = events_.Read(end - 1, 1);
    if (!last_records.ok()) return last_records.status();
    if (last_records.value().empty()) return Status::Corruption("events log: last record unreadable");
    auto last = events::DecodeEvent(last_records.value().front().payload);
    if (!last.ok()) {
      return Status::Corruption("events log: last record at offset " + std::to_string(end - 1) +
                                " does not decode (" + last.status().message() +
                                "); refusing to guess where the matcher stopped");
    }
    const events::Sequence stop = last.value().seq;
    if (stop.cause >= commands_.End()) {
      return Status::Corruption("events log names command " + std::to_string(stop.cause) +
                                " but the commands log ends at " +
                                std::to_string(commands_.End()));
    }
    if (stop.cause < next_) {
      // The snapshot already holds the last cause, and its events were durable when it was
      // taken: nothing to complete.
      recovered_ = true;
      return Status::Ok();
    }
    // Re-derive the state: commands before the last cause, silently.
    std::vector<Event> scratch;
    while (next_ < stop.cause) {
      auto batch = commands_.Read(next_, std::min<std::uint64_t>(kReadBatch, stop.cause - next_));
      if (!batch.ok()) return batch.status();
      if (batch.value().empty()) return Status::Corruption("commands log: gap while recovering");
      for (const auto& record : batch.value()) {
        scratch.clear();
        exchange_.apply(Decode(record), scratch);
        ++next_;
      }
    }
    // The last cause: append what the log is missing of its output.
    auto cause = commands_.Read(stop.cause, 1);
    if (!cause.ok()) return cause.status();
    if (cause.value().empty()) return Status::Corruption("commands log: cause missing");
    scratch.clear();
    exchange_.apply(Decode(cause.value().front()), scratch);
    next_ = stop.cause + 1;
    std::vector<std::string> missing;
    for (const Event& e : scratch) {
      if (e.seq.index > stop.index) missing.push_back(events::EncodeEvent(e));
    }
    if (!missing.empty()) {
      auto appended = events_.Append(missing);
      if (!appended.ok()) return appended.status();
    }
  }
  recovered_ = true;
  return Status::Ok();
}

Result<std::size_t> Matcher::Step(std::size_t max_commands) {
  if (!recovered_) return Status::Invalid("matcher: Recover() first");
  if (!failed_.ok()) return failed_;
  auto batch = commands_.Read(next_, max_commands);
  if (!batch.ok()) return batch.status();
  if (batch.value().empty()) return std::size_t{0};
  std::vector<Event> produced;
  for (const auto& record : batch.value()) exchange_.apply(Decode(record), produced);
  std::vector<std::string> payloads;
  payloads.reserve(produced.size());
  for (const Event& e : produced) payloads.push_back(events::EncodeEvent(e));
  if (!payloads.empty()) {
    auto appended = events_.Append(payloads);
    if (!appended.ok()) {
      failed_ = appended.status();
      return failed_;
    }
  }
  next_ += batch.value().size();
  return batch.value().size();
}

Status Matcher::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    auto applied = Step(kReadBatch);
    if (!applied.ok()) return applied.status();
    if (applied.value() == 0) commands_.WaitFor(next_, std::chrono::milliseconds(100));
  }
  return Status::Ok();
}

}  // namespace isucoin::commands
