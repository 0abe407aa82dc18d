// The shipper's durable checkpoint: the ResumePoint up to which every logger record has been
// acknowledged by ISULOGGER (see delivery_plan.h). One small JSON file, replaced atomically:
// written to a temporary file, fsync'd, renamed over the old one, directory fsync'd — so after
// a crash the file is either the old checkpoint or the new one, never a mix.
#pragma once

#include <optional>
#include <string>

#include "effects/delivery_plan.h"
#include "events/status.h"

namespace isucoin::effects {

inline constexpr const char* kShipperCheckpointFile = "checkpoint.json";

// nullopt when `dir` holds no checkpoint yet (ship from the start of the log).
Result<std::optional<ResumePoint>> ReadShipperCheckpoint(const std::string& dir);
// Creates `dir` if needed.
Status WriteShipperCheckpoint(const std::string& dir, const ResumePoint& point);

std::string EncodeResumePoint(const ResumePoint& point);
Result<ResumePoint> DecodeResumePoint(const std::string& text);

}  // namespace isucoin::effects
