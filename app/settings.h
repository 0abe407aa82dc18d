// Settings: every knob of a subcommand as a flag (--name value) and an environment variable
// (ISUCOIN_NAME), flag first, then environment, then the default. One table per subcommand
// gives --help for free.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/status.h"

namespace isucoin::app {

struct SettingSpec {
  std::string name;           // flag without dashes, e.g. "bcrypt-cost"
  std::string default_value;  // "" = none
  std::string help;
  bool is_switch = false;     // a flag without a value ("true" when present)
};

class Settings {
 public:
  // Parses argv (after the subcommand) against `specs`. Unknown flags and stray arguments are
  // errors; --help sets help_requested().
  static Result<Settings> Parse(const std::vector<SettingSpec>& specs, int argc, char** argv);
  static std::string Usage(const std::string& command, const std::vector<SettingSpec>& specs);
  // Parse for `isucoin COMMAND`: on --help prints the usage to stdout and sets `exit_code` 0,
  // on a bad flag prints the error and the usage to stderr and sets it to 2; nullopt then.
  static std::optional<Settings> ParseCommandLine(const std::string& command,
                                                  const std::vector<SettingSpec>& specs,
                                                  int argc, char** argv, int* exit_code);

  const std::string& Get(const std::string& name) const;
  Result<long long> GetInt(const std::string& name, long long min, long long max) const;
  bool GetBool(const std::string& name) const;
  bool help_requested() const { return help_; }
  // "ISUCOIN_BCRYPT_COST" for "bcrypt-cost".
  static std::string EnvName(const std::string& name);

 private:
  std::map<std::string, std::string> values_;
  bool help_ = false;
};

}  // namespace isucoin::app
