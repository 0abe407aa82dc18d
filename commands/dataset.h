// The initial dataset (SPEC.md "Initial dataset"): JSON lines — users, then trades, then
// orders — translated into the genesis commands of the log (UserImported, TradeImported,
// OrderImported, then GenesisSealed).
//
// Validation is line by line and complete before anything is produced: a bad line is reported
// with its number and the whole import is refused, so a log never holds half a dataset.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "events/records.h"
#include "events/status.h"

namespace isucoin::commands {

struct DatasetCounts {
  std::size_t users = 0, trades = 0, orders = 0, open_orders = 0;
};

struct Dataset {
  std::vector<events::CommandBody> commands;  // ends with GenesisSealed
  DatasetCounts counts;
};

// Reads the whole stream. Errors read "line N: <what>".
Result<Dataset> ParseDataset(std::istream& in);

}  // namespace isucoin::commands
