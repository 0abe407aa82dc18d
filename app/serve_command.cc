// isucoin serve: the whole exchange in one process on the embedded FileLog.
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <thread>

#include "app/embedded_exchange.h"
#include "app/settings.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"
#include "events/time_format.h"

namespace isucoin::app {
namespace {

const std::vector<SettingSpec> kServeSettings = {
    {"data", "data", "data directory: logs, checkpoints, session secret"},
    {"address", "0.0.0.0", "address to listen on"},
    {"port", "5000", "HTTP port (0 = any free port, printed at start)"},
    {"threads", "2", "HTTP reactor threads"},
    {"workers", "64", "worker threads for bcrypt, bank calls and waits"},
    {"bcrypt-cost", "10", "bcrypt cost of new passwords (4-15; each step doubles the time)"},
    {"share-ratio", "3", "users whose id % 10 is below this see the share button (0-10)"},
    {"utc-offset", "+09:00", "the exchange's time zone offset (Asia/Tokyo)"},
    {"web-root", "web/dist", "directory of the single-page app served at / (built by web/build.sh)"},
    {"session-secret", "", "cookie HMAC key (default: generated once into DATA/session_secret)"},
    {"bank", "", "ISUBANK base URL until /initialize names one"},
    {"bank-appid", "", "ISUBANK app id until /initialize names one"},
    {"logger", "", "ISULOGGER base URL until /initialize names one"},
    {"logger-appid", "", "ISULOGGER app id until /initialize names one"},
    {"import", "", "initial dataset (JSON lines) imported when DATA has no log yet"},
    {"postgres", "", "PostgreSQL conninfo/URL: also write the SQL read model there (off when empty)"},
    {"postgres-schema", "isucoin", "PostgreSQL schema of the SQL read model"},
    {"snapshot-every", "200000", "snapshot matcher and read model every N log records (0 = never)"},
    {"snapshot-interval", "300", "... or every N seconds, whichever comes first"},
};

}  // namespace

int ServeCommand(int argc, char** argv) {
  auto settings = Settings::Parse(kServeSettings, argc, argv);
  if (!settings.ok() || settings.value().help_requested()) {
    if (!settings.ok()) std::fprintf(stderr, "isucoin serve: %s\n\n", settings.status().message().c_str());
    std::fprintf(settings.ok() ? stdout : stderr, "%s",
                 Settings::Usage("serve", kServeSettings).c_str());
    return settings.ok() ? 0 : 2;
  }
  const Settings& s = settings.value();
  auto port = s.GetInt("port", 0, 65535);
  auto threads = s.GetInt("threads", 1, 64);
  auto workers = s.GetInt("workers", 1, 4096);
  auto cost = s.GetInt("bcrypt-cost", 4, 15);
  auto share = s.GetInt("share-ratio", 0, 10);
  auto offset = events::ParseUtcOffset(s.Get("utc-offset"));
  auto snapshot_every = s.GetInt("snapshot-every", 0, 1'000'000'000);
  auto snapshot_interval = s.GetInt("snapshot-interval", 1, 7 * 24 * 3600);
  for (const Status& st : {port.status(), threads.status(), workers.status(), cost.status(),
                           share.status(), offset.status(), snapshot_every.status(),
                           snapshot_interval.status()}) {
    if (!st.ok()) {
      std::fprintf(stderr, "isucoin serve: %s\n", st.message().c_str());
      return 2;
    }
  }
  EmbeddedOptions options;
  options.data_dir = s.Get("data");
  options.api.address = s.Get("address");
  options.api.port = static_cast<std::uint16_t>(port.value());
  options.api.threads = static_cast<int>(threads.value());
  options.api.worker_threads = static_cast<int>(workers.value());
  options.api.bcrypt_cost = static_cast<int>(cost.value());
  options.api.share_ratio = static_cast<int>(share.value());
  options.api.utc_offset_seconds = offset.value();
  options.api.web_root = s.Get("web-root");
  options.api.session_secret = s.Get("session-secret");
  options.default_endpoints = {s.Get("bank"), s.Get("bank-appid"), s.Get("logger"),
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
