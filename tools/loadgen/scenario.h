// The whole run: users join evenly over --ramp seconds (user i at i × ramp / users, a fixed
// schedule), attackers likewise, a sampler records the timeline every --sample-every seconds,
// and everything stops after --duration seconds or at SIGINT/SIGTERM, finishing the requests
// in flight. Returns the process exit status (0 clean, 1 violations or too few trades).
#pragma once

#include "tools/loadgen/options.h"

namespace isucoin::loadgen {

int RunScenario(const Options& options);

}  // namespace isucoin::loadgen
