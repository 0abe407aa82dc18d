#include "app/embedded_exchange.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "api/metrics.h"
#include "app/api_node.h"
#include "app/exchange_logs.h"
#include "app/matcher_worker.h"
#include "commands/dataset.h"
#include "effects/settlement.h"
#include "effects/shipper.h"
#include "events/codec.h"
#include "events/file_log.h"
#include "events/time_format.h"
#include "projections/postgres_sink.h"
#include "replay/startup.h"

namespace isucoin::app {

using namespace std::chrono_literals;

namespace {

Result<std::string> SessionSecret(const std::string& data_dir) {
  const std::string path = data_dir + "/session_secret";
  if (std::ifstream in(path, std::ios::binary); in) {
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (secret.size() >= 32) return secret;
    return Status::Invalid(path + " holds fewer than 32 bytes; delete it to generate a new one");
  }
  std::random_device rd;  // the kernel's entropy: a key, not a simulation
  std::string secret(32, '\0');
  for (char& c : secret) c = static_cast<char>(rd());
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::write(fd, secret.data(), secret.size()) != static_cast<ssize_t>(secret.size()) ||
      ::fsync(fd) != 0 || ::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError("cannot write " + path);
  }
  return secret;
}

}  // namespace

struct EmbeddedExchange::Parts {
  explicit Parts(EmbeddedOptions o) : options(std::move(o)) {}

  EmbeddedOptions options;
  ExchangeLogs logs;
  std::unique_ptr<replay::SnapshotStore> snapshots;
  std::unique_ptr<replay::SnapshotWriter> snapshot_writer;
  std::unique_ptr<MatcherWorker> matcher;
  std::unique_ptr<effects::Settlement> settlement;
  std::unique_ptr<effects::Shipper> shipper;
  std::unique_ptr<projections::PostgresSink> postgres;
  api::MetricsRegistry metrics;
  std::unique_ptr<ApiNode> api;
  bool stopped = false;

  // What the api node does not know of: the matcher and the workers beside it.
  void RegisterMetrics() {
    using Labels = api::Labels;
    metrics.RegisterCallback(
        "isucoin_consumer_lag", "gauge", "records a consumer has yet to read", [this] {
          std::vector<std::pair<Labels, double>> out = {
              {{{"consumer", "matcher"}},
               double(logs.commands->End() - matcher->next_command())}};
          if (settlement)
            out.push_back({{{"consumer", "settlement"}},
                           double(logs.events->End() - settlement->next_offset())});
          return out;
        });
    if (settlement) {
      metrics.RegisterCallback("isucoin_bank_calls_total", "counter", "bank calls by kind",
                               [this] {
                                 const auto& m = settlement->metrics();
                                 return std::vector<std::pair<Labels, double>>{
                                     {{{"call", "reserve_ok"}}, double(m.reservations_ok.load())},
                                     {{{"call", "reserve_refused"}},
                                      double(m.reservations_refused.load())},
                                     {{{"call", "reserve_failed"}},
                                      double(m.reserve_attempts_failed.load())},
                                     {{{"call", "commit"}}, double(m.commit_requests.load())}};
                               });
      metrics.RegisterCallback(
          "isucoin_commit_start_delay_seconds", "gauge",
          "delay from TradeExecuted read to its /commit leaving, p50 and p99", [this] {
            const auto& h = settlement->metrics().commit_start_delay;
            return std::vector<std::pair<Labels, double>>{
                {{{"quantile", "0.5"}}, h.PercentileMicros(50) / 1e6},
                {{{"quantile", "0.99"}}, h.PercentileMicros(99) / 1e6}};
          });
    }
    if (shipper) {
      metrics.RegisterCallback("isucoin_logger_records_total", "counter",
                               "analytics records by outcome", [this] {
                                 const auto& m = shipper->metrics();
                                 return std::vector<std::pair<Labels, double>>{
                                     {{{"outcome", "delivered"}}, double(m.records_delivered.load())},
                                     {{{"outcome", "rejected"}}, double(m.records_rejected.load())},
                                     {{{"outcome", "late"}}, double(m.records_late.load())}};
                               });
      metrics.RegisterCallback("isucoin_logger_errors_total", "counter",
                               "analytics requests that failed, by kind", [this] {
                                 const auto& m = shipper->metrics();
                                 return std::vector<std::pair<Labels, double>>{
                                     {{{"kind", "rate_limited"}}, double(m.rate_limited.load())},
                                     {{{"kind", "unavailable"}}, double(m.unavailable.load())},
                                     {{{"kind", "bad_request"}}, double(m.bad_requests.load())}};
                               });
    }
  }
};

EmbeddedExchange::EmbeddedExchange(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

EmbeddedExchange::~EmbeddedExchange() { Stop(); }

std::uint16_t EmbeddedExchange::port() const { return parts_->api->port(); }

Status EmbeddedExchange::health() const {
  const Parts& p = *parts_;
  for (const Status& s : {p.matcher->health(), p.api->health(),
                          p.settlement ? p.settlement->health() : Status::Ok()}) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::unique_ptr<EmbeddedExchange>> EmbeddedExchange::Start(EmbeddedOptions options) {
  auto p = std::make_unique<Parts>(std::move(options));
  const std::string& dir = p->options.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());

  // This process is the writer of both logs.
  auto logs = OpenExchangeLogs(LogLocation{.dir = dir},
                               {.write_commands = true, .write_events = true});
  if (!logs.ok()) return logs.status();
  p->logs = std::move(logs).value();

  p->snapshots = std::make_unique<replay::SnapshotStore>(dir + "/snapshots", p->options.snapshots_kept);
  if (p->options.snapshot_every > 0) {
    p->snapshot_writer = std::make_unique<replay::SnapshotWriter>(*p->snapshots);
  }
  // The matcher catches up with every command before the read model starts, and the read
  // model with every event before the api answers anyone.
  auto matcher = MatcherWorker::Start(*p->logs.commands, *p->logs.events,
                                      {.name = "serve",
                                       .snapshots = p->snapshots.get(),
                                       .writer = p->snapshot_writer.get(),
                                       .snapshot_every = p->options.snapshot_every,
                                       .snapshot_interval = p->options.snapshot_interval});
  if (!matcher.ok()) return matcher.status();
  p->matcher = std::move(matcher).value();

  const events::ServiceEndpoints& endpoints = p->options.default_endpoints;
  if (p->options.run_settlement) {
    effects::SettlementOptions so;
    so.bank_endpoint = endpoints.bank_endpoint;
    so.bank_appid = endpoints.bank_appid;
    so.checkpoint_dir = dir + "/settlement";
    p->settlement = std::make_unique<effects::Settlement>(*p->logs.events, *p->logs.commands, so);
    if (Status s = p->settlement->Start(); !s.ok()) return s;
  }
  if (p->options.run_shipper) {
    effects::ShipperOptions so;
    so.endpoint = effects::LoggerEndpoint{endpoints.log_endpoint, endpoints.log_appid};
    so.utc_offset_seconds = p->options.api.utc_offset_seconds;
    so.checkpoint_dir = dir + "/shipper";
    p->shipper = std::make_unique<effects::Shipper>(*p->logs.events, so);
    if (Status s = p->shipper->Start(); !s.ok()) return s;
  }
  if (!p->options.postgres.empty()) {
    projections::PostgresSinkOptions po;
    po.conninfo = p->options.postgres;
    po.schema = p->options.postgres_schema;
    po.utc_offset_seconds = p->options.api.utc_offset_seconds;
    p->postgres = std::make_unique<projections::PostgresSink>(*p->logs.events, po);
    if (Status s = p->postgres->Start(); !s.ok()) return s;
  }

  ApiNodeOptions ao;
  ao.name = "serve";
  ao.api = p->options.api;
  if (ao.api.session_secret.empty()) {
    auto secret = SessionSecret(dir);
    if (!secret.ok()) return secret.status();
    ao.api.session_secret = std::move(secret).value();
  }
  ao.default_endpoints = endpoints;
  ao.snapshots = p->snapshots.get();
  ao.writer = p->snapshot_writer.get();
  ao.snapshot_every = p->options.snapshot_every;
  ao.snapshot_interval = p->options.snapshot_interval;
  ao.metrics = &p->metrics;
  p->RegisterMetrics();
  auto api = ApiNode::Start(*p->logs.commands, *p->logs.events, std::move(ao));
  if (!api.ok()) return api.status();
  p->api = std::move(api).value();
  return std::unique_ptr<EmbeddedExchange>(new EmbeddedExchange(std::move(p)));
}

void EmbeddedExchange::Stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  if (p.api) p.api->Stop();
  if (p.settlement) p.settlement->Stop();
  if (p.shipper) p.shipper->Stop();
  if (p.postgres) p.postgres->Stop();
  if (p.matcher) p.matcher->Stop();
  p.snapshot_writer.reset();  // writes what is pending
  (void)p.logs.Close();
}

Status ImportDataset(const std::string& file, const std::string& data_dir) {
  std::ifstream in(file);
  if (!in) return Status::NotFound("cannot open " + file);
  auto dataset = commands::ParseDataset(in);
  if (!dataset.ok()) return Status::Invalid(file + ": " + dataset.status().message());
  auto log = events::FileLog::Open(data_dir + "/commands");
  if (!log.ok()) return log.status();
  if (log.value()->End() != 0) {
    return Status::Invalid(data_dir + "/commands already holds " +
                           std::to_string(log.value()->End()) +
                           " records: the genesis is imported once, into a new data directory");
  }
  // One batch: acknowledged whole or not at all. (A crash while writing it can leave a
  // prefix on disk; the log is then non-empty without GenesisSealed, and this function
  // refuses it above, so the operator starts over in a fresh directory.)
  const events::Micros now = events::WallClockMicros();
  std::vector<std::string> batch;
  for (const auto& command : dataset.value().commands) {
    batch.push_back(events::EncodeCommand(events::Command{0, now, command}));
  }
  auto appended = log.value()->Append(batch);
  if (!appended.ok()) return appended.status();
  const auto& c = dataset.value().counts;
  std::fprintf(stderr, "imported %zu users, %zu trades, %zu orders (%zu open) into %s\n", c.users,
               c.trades, c.orders, c.open_orders, data_dir.c_str());
  return log.value()->Close();
}

}  // namespace isucoin::app
