#include "app/settings.h"

#include <cstdio>

#include <cstdlib>
#include <stdexcept>

namespace isucoin::app {

std::string Settings::EnvName(const std::string& name) {
  std::string env = "ISUCOIN_";
  for (char c : name) env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

std::optional<Settings> Settings::ParseCommandLine(const std::string& command,
                                                   const std::vector<SettingSpec>& specs,
                                                   int argc, char** argv, int* exit_code) {
  auto settings = Parse(specs, argc, argv);
  if (settings.ok() && !settings.value().help_requested()) return std::move(settings).value();
  if (!settings.ok()) {
    std::fprintf(stderr, "isucoin %s: %s\n\n", command.c_str(), settings.status().message().c_str());
  }
  std::fprintf(settings.ok() ? stdout : stderr, "%s", Usage(command, specs).c_str());
  *exit_code = settings.ok() ? 0 : 2;
  return std::nullopt;
}

Result<Settings> Settings::Parse(const std::vector<SettingSpec>& specs, int argc, char** argv) {
  Settings s;
  std::map<std::string, const SettingSpec*> by_name;
  for (const auto& spec : specs) {
    by_name[spec.name] = &spec;
    if (const char* env = std::getenv(EnvName(spec.name).c_str())) {
      s.values_[spec.name] = env;
    } else {
      s.values_[spec.name] = spec.default_value;
    }
  }
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      s.help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return Status::Invalid("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = by_name.find(name);
    if (it == by_name.end()) return Status::Invalid("unknown flag --" + name);
    if (it->second->is_switch) {
      s.values_[name] = value.empty() ? "true" : value;
    } else if (arg.find('=') != std::string::npos) {
      s.values_[name] = value;
    } else if (i + 1 < argc) {
      s.values_[name] = argv[++i];
    } else {
      return Status::Invalid("flag --" + name + " needs a value");
    }
  }
  return s;
}

std::string Settings::Usage(const std::string& command, const std::vector<SettingSpec>& specs) {
  std::string out = "usage: isucoin " + command + " [flags]\n\nflags (each also read from its environment variable):\n";
  for (const auto& spec : specs) {
    std::string flag = "  --" + spec.name + (spec.is_switch ? "" : " V");
    out += flag + std::string(flag.size() < 26 ? 26 - flag.size() : 1, ' ') + spec.help;
    if (!spec.default_value.empty()) out += " (default " + spec.default_value + ")";
    out += "  [" + EnvName(spec.name) + "]\n";
  }
  return out;
}

const std::string& Settings::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("setting not declared: " + name);
  return it->second;
}

Result<long long> Settings::GetInt(const std::string& name, long long min, long long max) const {
  const std::string& v = Get(name);
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || x < min || x > max) {
    return Status::Invalid("--" + name + " must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", got '" + v + "'");
  }
  return x;
}

bool Settings::GetBool(const std::string& name) const {
  const std::string& v = Get(name);
  return v == "true" || v == "1" || v == "yes";
}

}  // namespace isucoin::app
