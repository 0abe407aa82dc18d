// isucoin serve: the whole exchange in one process on the embedded FileLog.
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <thread>

#include "app/api_settings.h"
#include "app/embedded_exchange.h"
#include "app/settings.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"

namespace isucoin::app {
namespace {

// The api's settings (app/api_settings.h) plus what only the all-in-one process has.
std::vector<SettingSpec> ServeSettings() {
  std::vector<SettingSpec> specs = {
      {"data", "data", "data directory: logs, checkpoints, snapshots, session secret"}};
  const auto& api = ApiSettingSpecs();
  specs.insert(specs.end(), api.begin(), api.end());
  specs.insert(specs.end(), {
      {"logger", "", "ISULOGGER base URL until /initialize names one"},
      {"logger-appid", "", "ISULOGGER app id until /initialize names one"},
      {"import", "", "initial dataset (JSON lines) imported when DATA has no log yet"},
      {"postgres", "", "PostgreSQL conninfo/URL: also write the SQL read model there (off when empty)"},
      {"postgres-schema", "isucoin", "PostgreSQL schema of the SQL read model"},
      {"snapshot-every", "200000", "snapshot matcher and read model every N log records (0 = never)"},
      {"snapshot-interval", "300", "... or every N seconds, whichever comes first"},
  });
  return specs;
}

}  // namespace

int ServeCommand(int argc, char** argv) {
  const std::vector<SettingSpec> specs = ServeSettings();
  int exit_code = 0;
  const auto settings = Settings::ParseCommandLine("serve", specs, argc, argv, &exit_code);
  if (!settings) return exit_code;
  const Settings& s = *settings;
  auto api = ReadApiSettings(s);
  auto snapshot_every = s.GetInt("snapshot-every", 0, 1'000'000'000);
  auto snapshot_interval = s.GetInt("snapshot-interval", 1, 7 * 24 * 3600);
  for (const Status& st : {api.status(), snapshot_every.status(), snapshot_interval.status()}) {
    if (!st.ok()) {
      std::fprintf(stderr, "isucoin serve: %s\n", st.message().c_str());
      return 2;
    }
  }
  EmbeddedOptions options;
  options.data_dir = s.Get("data");
  options.api = api.value().api;  // an empty secret: DATA/session_secret (generated once)
  options.default_endpoints = {api.value().bank_endpoint, api.value().bank_appid, s.Get("logger"),
                               s.Get("logger-appid")};
  options.postgres = s.Get("postgres");
  options.postgres_schema = s.Get("postgres-schema");
  options.snapshot_every = static_cast<std::uint64_t>(snapshot_every.value());
  options.snapshot_interval = std::chrono::seconds(snapshot_interval.value());

  // The dataset is the genesis of a new data directory; an existing one already has it.
  if (!s.Get("import").empty() && !std::filesystem::exists(options.data_dir + "/commands")) {
    if (Status imported = ImportDataset(s.Get("import"), options.data_dir); !imported.ok()) {
      std::fprintf(stderr, "isucoin serve: import: %s\n", imported.message().c_str());
      return 1;
    }
  }

  const std::atomic<bool>& stop = StopRequested();
  auto exchange = EmbeddedExchange::Start(options);
  if (!exchange.ok()) {
    std::fprintf(stderr, "isucoin serve: %s\n", exchange.status().ToString().c_str());
    return 1;
  }
  std::printf("isucoin serving on http://127.0.0.1:%u/ (data %s)\n", exchange.value()->port(),
              options.data_dir.c_str());
  std::fflush(stdout);
  while (!stop.load() && exchange.value()->health().ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Status health = exchange.value()->health();
  exchange.value()->Stop();
  if (!health.ok()) {
    std::fprintf(stderr, "isucoin serve: stopped: %s\n", health.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "isucoin serve: stopped cleanly\n");
  return 0;
}

int ImportCommand(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--data") {
    std::fprintf(argc == 1 && std::string(argv[0]) == "--help" ? stdout : stderr,
                 "usage: isucoin import FILE --data DIR\n\n"
                 "Validates the initial dataset in FILE (SPEC.md \"Initial dataset\": JSON lines,\n"
                 "users, then trades, then orders) and appends it as the genesis of DIR's\n"
                 "commands log. A bad line is reported with its number and nothing is written.\n");
    return argc == 1 && std::string(argv[0]) == "--help" ? 0 : 2;
  }
  Status s = ImportDataset(argv[0], argv[2]);
  if (!s.ok()) {
    std::fprintf(stderr, "isucoin import: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace isucoin::app
