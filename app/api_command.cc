// isucoin api --log kafka://BROKERS/PREFIX --session-secret-file F: one node of the public API
// as its own process (app/api_node.h). Appends commands to the commands topic and follows the
// events topic into its own in-memory read model; run as many as wanted behind a load
// balancer, beside one active `isucoin matcher` (plus standbys), one `settle`, one `ship` and
// any number of `project` (DESIGN.md "Process layout", README "Running on Kafka").
//
// Any node serves any user: sessions are HMAC cookies, so every node needs the same secret.
// Read-your-writes holds on the node that took the request (it waits for the answering event
// in its own read model); another node shows it as soon as it has read that far.
#include <chrono>
#include <cstdio>
#include <thread>

#include "api/metrics.h"
#include "app/api_node.h"
#include "app/api_settings.h"
#include "app/exchange_logs.h"
#include "app/settings.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"

namespace isucoin::app {
namespace {

std::vector<SettingSpec> ApiCommandSettings() {
  std::vector<SettingSpec> specs = {
      {"log", "", "the logs: kafka://HOST:PORT[,...]/PREFIX (or DIR / file:DIR on one machine)"}};
  const auto& api = ApiSettingSpecs();
  specs.insert(specs.end(), api.begin(), api.end());
  return specs;
}

}  // namespace

int ApiCommand(int argc, char** argv) {
  const std::vector<SettingSpec> specs = ApiCommandSettings();
  int exit_code = 0;
  const auto settings = Settings::ParseCommandLine("api", specs, argc, argv, &exit_code);
  if (!settings) return exit_code;
  const Settings& s = *settings;
  auto api = ReadApiSettings(s);
  auto where = ParseLogLocation(s.Get("log"));
  for (const Status& st : {api.status(), where.status()}) {
    if (!st.ok()) {
      std::fprintf(stderr, "isucoin api: %s\n", st.message().c_str());
      return 2;
    }
  }
  if (api.value().api.session_secret.empty()) {
    std::fprintf(stderr,
                 "isucoin api: give --session-secret-file (or --session-secret): every node of "
                 "an exchange signs sessions with the same key\n");
    return 2;
  }
  auto logs = OpenExchangeLogs(where.value(), {.write_commands = true});
  if (!logs.ok()) {
    std::fprintf(stderr, "isucoin api: %s: %s\n", where.value().ToString().c_str(),
                 logs.status().ToString().c_str());
    return 1;
  }
  api::MetricsRegistry metrics;
  ApiNodeOptions options;
  options.name = "api";
  options.api = api.value().api;
  options.default_endpoints.bank_endpoint = api.value().bank_endpoint;
  options.default_endpoints.bank_appid = api.value().bank_appid;
  options.metrics = &metrics;
  auto node = ApiNode::Start(*logs.value().commands, *logs.value().events, std::move(options));
  if (!node.ok()) {
    std::fprintf(stderr, "isucoin api: %s\n", node.status().ToString().c_str());
    return 1;
  }
  std::printf("isucoin api serving on http://127.0.0.1:%u/ (log %s, read model at event %llu)\n",
              node.value()->port(), where.value().ToString().c_str(),
              static_cast<unsigned long long>(node.value()->projected()));
  std::fflush(stdout);
  const std::atomic<bool>& stop = StopRequested();
  while (!stop.load() && node.value()->health().ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Status health = node.value()->health();
  node.value()->Stop();
  Status closed = logs.value().Close();
  if (!health.ok() || !closed.ok()) {
    std::fprintf(stderr, "isucoin api: stopped: %s\n", (!health.ok() ? health : closed).ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "isucoin api: stopped cleanly\n");
  return 0;
}

}  // namespace isucoin::app
