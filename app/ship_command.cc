// isucoin ship --data DIR [--log URL] --logger URL --logger-appid ID: the log shipper as its
// own process (effects/shipper.h). Follows the events log (DIR/events, or the one --log names)
// read-only (the matcher writes it; any number of
// readers may follow it from other processes) and delivers every ISULOGGER record of it;
// checkpoint in DIR/shipper/. Safe to kill at any moment: the next run resumes at the
// checkpoint (at-least-once: records acknowledged after the last checkpoint are sent again).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "app/exchange_logs.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"
#include "effects/shipper.h"
#include "events/time_format.h"

namespace isucoin::app {
namespace {


void PrintShipUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin ship --data DIR [--log URL] --logger URL --logger-appid ID\n"
               "                    [--utc-offset +09:00]\n\n"
               "Ships the ISULOGGER records of the events log (read-only; in DIR unless --log\n"
               "names DIR, file:DIR or kafka://HOST:PORT[,...]/PREFIX) with /send_bulk: under\n"
               "1 MB per body, <= 10 requests in flight, <= 18 requests/s, retrying 429 and 5xx.\n"
               "The logger named here is used until an /initialize in the log names another.\n"
               "Checkpoint: DIR/shipper/. Runs until SIGINT/SIGTERM. After a crash some\n"
               "records may be delivered twice; none is lost.\n");
}

void PrintMetrics(const effects::ShipperMetrics& m) {
  std::fprintf(stderr,
               "ship: events %llu, records %llu delivered %llu rejected %llu late %llu; "
               "requests %llu (429: %llu, unavailable: %llu, 400: %llu, 401: %llu); "
               "delivery p50 %.0f ms p99 %.0f ms\n",
               static_cast<unsigned long long>(m.events_read.load()),
               static_cast<unsigned long long>(m.records_read.load()),
               static_cast<unsigned long long>(m.records_delivered.load()),
               static_cast<unsigned long long>(m.records_rejected.load()),
               static_cast<unsigned long long>(m.records_late.load()),
               static_cast<unsigned long long>(m.requests_sent.load()),
               static_cast<unsigned long long>(m.rate_limited.load()),
               static_cast<unsigned long long>(m.unavailable.load()),
               static_cast<unsigned long long>(m.bad_requests.load()),
               static_cast<unsigned long long>(m.unknown_app_id.load()),
               m.delivery_latency.PercentileMicros(50) / 1000.0,
               m.delivery_latency.PercentileMicros(99) / 1000.0);
}

}  // namespace

int ShipCommand(int argc, char** argv) {
  std::string dir, log_url;
  effects::ShipperOptions options;
  for (int i = 0; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--data") == 0 && has_value) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--log") == 0 && has_value) {
      log_url = argv[++i];
    } else if (std::strcmp(argv[i], "--logger") == 0 && has_value) {
      options.endpoint.url = argv[++i];
    } else if (std::strcmp(argv[i], "--logger-appid") == 0 && has_value) {
      options.endpoint.app_id = argv[++i];
    } else if (std::strcmp(argv[i], "--utc-offset") == 0 && has_value) {
      auto offset = events::ParseUtcOffset(argv[++i]);
      if (!offset.ok()) {
        std::fprintf(stderr, "ship: --utc-offset: %s\n", offset.status().ToString().c_str());
        return 2;
      }
      options.utc_offset_seconds = offset.value();
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      PrintShipUsage(stdout);
      return 0;
    } else {
      PrintShipUsage(stderr);
      return 2;
    }
  }
  if (dir.empty() || options.endpoint.url.empty() || options.endpoint.app_id.empty()) {
    PrintShipUsage(stderr);
    return 2;
  }
  options.checkpoint_dir = dir + "/shipper";

  auto logs = OpenExchangeLogsFor(dir, log_url, {.events_only = true});
  if (!logs.ok()) {
    std::fprintf(stderr, "ship: %s\n", logs.status().ToString().c_str());
    return logs.status().code() == Status::Code::kInvalid ? 2 : 1;
  }
  const std::atomic<bool>& stop = StopRequested();

  effects::Shipper shipper(*logs.value().events, options);
  if (Status s = shipper.Start(); !s.ok()) {
    std::fprintf(stderr, "ship: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "ship: following the events of %s from offset %llu, logger %s\n",
               logs.value().location.c_str(),
               static_cast<unsigned long long>(shipper.Delivered().at.offset),
               options.endpoint.url.c_str());
  auto last_report = std::chrono::steady_clock::now();
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() - last_report > std::chrono::seconds(60)) {
      PrintMetrics(shipper.metrics());
      last_report = std::chrono::steady_clock::now();
    }
  }
  shipper.Stop();
  PrintMetrics(shipper.metrics());
  return 0;
}

}  // namespace isucoin::app
