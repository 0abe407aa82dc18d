// The exactly-once rule every consumer of the events log follows (DESIGN.md "The two logs").
//
// Neither backend gives transactions: a producer retry, or a matcher that restarts and
// re-derives the output of commands it had already processed, can put the same event in the
// log twice. Each event carries its Sequence (offset of the causing command, index within that
// command's output), and the matcher is deterministic, so a re-derived event is identical to
// the original and sorts at the same place. A consumer therefore remembers the highest sequence
// it applied and drops anything not strictly above it: duplicates are dropped wherever they
// appear, and because sequences are emitted in increasing order by a single matcher, nothing
// new is ever dropped.
//
// The consumer must persist `last()` atomically with the state it derived (or rebuild both from
// the log), otherwise a restart would re-apply.
#pragma once

#include <optional>

#include "events/records.h"

namespace isucoin::events {

class AppliedSequence {
 public:
  AppliedSequence() = default;
  // Resumes a consumer whose derived state already includes `last`.
  explicit AppliedSequence(std::optional<Sequence> last) : last_(last) {}

  bool ShouldApply(const Sequence& seq) const { return !last_ || seq > *last_; }

  // Call once the event's effect is applied. Never moves backwards.
  void MarkApplied(const Sequence& seq) {
    if (ShouldApply(seq)) last_ = seq;
  }

  // Convenience for the usual loop: true (and marked) when the caller should apply it now.
  bool Admit(const Sequence& seq) {
    if (!ShouldApply(seq)) return false;
    last_ = seq;
    return true;
  }

  std::optional<Sequence> last() const { return last_; }

 private:
  std::optional<Sequence> last_;
};

}  // namespace isucoin::events
