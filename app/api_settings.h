// The settings of every process that serves the public API (`serve`, `api`), listed once so
// both read them the same way: flags, ISUCOIN_* environment variables, --help.
#pragma once

#include <vector>

#include "api/backend.h"
#include "app/settings.h"
#include "events/records.h"
#include "events/status.h"

namespace isucoin::app {

struct ApiSettings {
  api::ApiOptions api;  // api.session_secret empty when neither secret setting was given
  std::string bank_endpoint, bank_appid;  // until /initialize names a bank
};

const std::vector<SettingSpec>& ApiSettingSpecs();

// Invalid, naming the setting, for a value out of range or a secret file that cannot be read
// or is shorter than 32 bytes.
Result<ApiSettings> ReadApiSettings(const Settings& settings);

}  // namespace isucoin::app
