// Matcher: runs the Exchange over the two logs — reads commands in order, appends the events
// they produce. The only writer of the events log.
//
// Exactly-once without transactions (DESIGN.md): every event carries (command offset, index).
// On start the matcher reads the last event, rebuilds the exchange by re-applying the commands
// before its cause (deterministic, so the state is the one that produced the log), re-applies
// the cause itself and appends only the events a crash left out of the log (index above the
// last one written), then continues with the next command.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "commands/exchange.h"
#include "events/log.h"
#include "events/status.h"

namespace isucoin::commands {

class Matcher {
 public:
  Matcher(events::Log& commands, events::Log& events) : commands_(commands), events_(events) {}

  // Must be called once before Step/Run (or the snapshot overload below).
  Status Recover();
  // Same, starting from a snapshot: `state` is the exchange after every command before
  // `next_command` (replay/snapshot_file.h), whose events were durable when it was taken.
  // Only the tail is re-applied; the last cause's missing events are completed as above when
  // the cause lies in the tail. Returns Invalid, touching nothing, when the snapshot does not
  // fit the logs (beyond the commands log, or past the last event's cause + 1): the caller
  // then falls back to Recover() on a fresh Matcher.
  Status Recover(Exchange state, std::uint64_t next_command);

  // Applies the commands available now (at most `max_commands`) and appends their events in
  // one durable batch. Returns how many commands were applied. After a failed append the
  // matcher refuses to go on: its state is ahead of the log, and only Recover() in a new
  // Matcher puts them back in step.
  Result<std::size_t> Step(std::size_t max_commands);

  // Steps until `stop` is set, sleeping on the commands log when there is nothing to do.
  Status Run(const std::atomic<bool>& stop);

  // Offset of the next command to apply.
  std::uint64_t next_command() const { return next_; }
  const Exchange& exchange() const { return exchange_; }

 private:
  // Decodes one command record; an undecodable record still yields a Command (one the
  // matcher rejects), so that a damaged input never stops the exchange or shifts offsets.
  static events::Command Decode(const events::LogRecord& record);
  Status RecoverFrom(Exchange state, std::uint64_t next_command);

  events::Log& commands_;
  events::Log& events_;
  Exchange exchange_;
  std::uint64_t next_ = 0;
  bool recovered_ = false;
  Status failed_;
};

}  // namespace isucoin::commands
