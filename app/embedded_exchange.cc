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
#include "api/server.h"
#include "commands/dataset.h"
#include "commands/matcher.h"
#include "effects/bank_client.h"
#include "effects/http_client.h"
#include "effects/settlement.h"
#include "effects/shipper.h"
#include "projections/postgres_sink.h"
#include "events/codec.h"
#include "events/fast_decode.h"
#include "events/file_log.h"
#include "projections/live_read_model.h"
#include "replay/startup.h"

namespace isucoin::app {

using namespace std::chrono_literals;

namespace {

events::Micros Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Bank /check for the api, with the endpoints of the latest /initialize (or the defaults).
class BankCreditCheck final : public api::CreditCheck {
 public:
  BankCreditCheck(effects::HttpClient& http, projections::LiveReadModel& model,
                  events::ServiceEndpoints defaults)
      : http_(http), model_(model), defaults_(std::move(defaults)) {}

  Outcome Check(const std::string& bank_id, std::int64_t price) override {
    events::ServiceEndpoints e = model_.Read([](const auto& m) { return m.endpoints(); });
    effects::BankClientOptions options;
    options.endpoint = e.bank_endpoint.empty() ? defaults_.bank_endpoint : e.bank_endpoint;
    options.app_id = e.bank_appid.empty() ? defaults_.bank_appid : e.bank_appid;
    // A client waits for this answer: fail fast rather than retry for long.
    options.call_timeout = 2s;
    options.retry.overall_deadline = 5s;
    effects::BankReply reply = effects::BankClient(http_, options).Check(bank_id, price);
    switch (reply.outcome) {
      case effects::BankOutcome::kOk: return Outcome::kOk;
      case effects::BankOutcome::kInsufficientCredit: return Outcome::kInsufficient;
      case effects::BankOutcome::kNoSuchAccount: return Outcome::kNoSuchAccount;
      default:
        std::fprintf(stderr, "isucoin serve: bank /check failed: %s (%s)\n",
                     effects::BankOutcomeName(reply.outcome), reply.message.c_str());
        return Outcome::kUnavailable;
    }
  }

 private:
  effects::HttpClient& http_;
  projections::LiveReadModel& model_;
  const events::ServiceEndpoints defaults_;
};

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

// When to snapshot: every `every` records or `interval`, whichever first, if anything moved.
class PeriodicSnapshot {
 public:
  PeriodicSnapshot(std::uint64_t every, std::chrono::seconds interval, std::uint64_t at)
      : every_(every), interval_(interval), last_(at), last_time_(std::chrono::steady_clock::now()) {}
  bool Due(std::uint64_t at) {
    if (at == last_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (at - last_ < every_ && now - last_time_ < interval_) return false;
    last_ = at;
    last_time_ = now;
    return true;
  }

 private:
  std::uint64_t every_;
  std::chrono::seconds interval_;
  std::uint64_t last_;
  std::chrono::steady_clock::time_point last_time_;
};

}  // namespace

struct EmbeddedExchange::Parts {
  EmbeddedOptions options;
  std::unique_ptr<events::FileLog> commands_log;
  std::unique_ptr<events::FileLog> events_log;
  std::unique_ptr<commands::Matcher> matcher;
  projections::LiveReadModel model;
  effects::HttpClient http;
  std::unique_ptr<BankCreditCheck> credit;
  std::unique_ptr<effects::Settlement> settlement;
  std::unique_ptr<effects::Shipper> shipper;
  std::unique_ptr<projections::PostgresSink> postgres;
  api::MetricsRegistry metrics;
  std::unique_ptr<api::ApiServer> server;

  std::unique_ptr<replay::SnapshotStore> snapshots;
  std::unique_ptr<replay::SnapshotWriter> snapshot_writer;

  std::atomic<bool> stop{false};
  std::thread matcher_thread;
  std::thread projection_thread;
  events::Offset projected = 0;  // next event offset for the read model
  mutable std::mutex health_mu;
  Status health;
  bool stopped = false;

  explicit Parts(EmbeddedOptions o)
      : options(std::move(o)),
        model(projections::LiveReadModel::Options{
            .utc_offset_seconds = options.api.utc_offset_seconds}) {}

  void Fail(const Status& s) {
    std::lock_guard lock(health_mu);
    if (health.ok()) health = s;
    std::fprintf(stderr, "isucoin serve: %s\n", s.ToString().c_str());
  }

  // Applies the events available now; returns how many were read.
  Result<std::size_t> ProjectOnce() {
    auto batch = events_log->Read(projected, 4096);
    if (!batch.ok()) return batch.status();
    std::vector<events::Event> decoded;
    decoded.reserve(batch.value().size());
    for (const auto& record : batch.value()) {
      auto e = events::DecodeEventFast(record.payload);
      if (!e.ok()) {
        // The matcher wrote it; a record that passed its CRC but does not decode is a bug
        // worth stopping for, not a fact to skip in silence.
        return Status::Corruption("events log offset " + std::to_string(record.offset) + ": " +
                                  e.status().message());
      }
      decoded.push_back(std::move(e).value());
    }
    model.Apply(decoded);
    projected += batch.value().size();
    return batch.value().size();
  }

  void RegisterMetrics() {
    using Labels = api::Labels;
    metrics.RegisterCallback("isucoin_log_end_offset", "gauge", "records in each log",
                             [this] {
                               return std::vector<std::pair<Labels, double>>{
                                   {{{"log", "commands"}}, double(commands_log->End())},
                                   {{{"log", "events"}}, double(events_log->End())}};
                             });
    metrics.RegisterCallback(
        "isucoin_consumer_lag", "gauge", "records a consumer has yet to read", [this] {
          std::vector<std::pair<Labels, double>> out = {
              {{{"consumer", "matcher"}}, double(commands_log->End() - matcher->next_command())},
              {{{"consumer", "read_model"}}, double(events_log->End() - projected)}};
          if (settlement)
            out.push_back({{{"consumer", "settlement"}},
                           double(events_log->End() - settlement->next_offset())});
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

std::uint16_t EmbeddedExchange::port() const { return parts_->server->port(); }

Status EmbeddedExchange::health() const {
  std::lock_guard lock(parts_->health_mu);
  if (!parts_->health.ok()) return parts_->health;
  if (parts_->settlement && !parts_->settlement->health().ok()) return parts_->settlement->health();
  return Status::Ok();
}

Result<std::unique_ptr<EmbeddedExchange>> EmbeddedExchange::Start(EmbeddedOptions options) {
  auto p = std::make_unique<Parts>(std::move(options));
  const std::string& dir = p->options.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());

  auto commands_log = events::FileLog::Open(dir + "/commands");
  if (!commands_log.ok()) return commands_log.status();
  p->commands_log = std::move(commands_log).value();
  auto events_log = events::FileLog::Open(dir + "/events");
  if (!events_log.ok()) return events_log.status();
  p->events_log = std::move(events_log).value();

  // The matcher catches up with every command before anything else starts: from the newest
  // valid snapshot, replaying only the tail (replay/startup.h).
  p->snapshots = std::make_unique<replay::SnapshotStore>(dir + "/snapshots", p->options.snapshots_kept);
  {
    auto started = replay::StartMatcher(*p->commands_log, *p->events_log, p->snapshots.get());
    if (!started.ok()) return started.status();
    p->matcher = std::move(started.value().matcher);
    if (auto at = started.value().snapshot_offset) {
      std::fprintf(stderr, "isucoin serve: matcher resumed from its snapshot at command %llu\n",
                   static_cast<unsigned long long>(*at));
    }
  }
  for (;;) {
    auto n = p->matcher->Step(4096);
    if (!n.ok()) return n.status();
    if (n.value() == 0) break;
  }
  // The read model catches up with every event before the api answers anyone.
  {
    auto started = replay::StartReadModel(*p->events_log, p->snapshots.get(),
                                          p->options.api.utc_offset_seconds);
    if (!started.ok()) return started.status();
    if (auto at = started.value().snapshot_offset) {
      std::fprintf(stderr, "isucoin serve: read model resumed from its snapshot at event %llu\n",
                   static_cast<unsigned long long>(*at));
    }
    p->projected = started.value().replay.next_offset;
    p->model.Replace(std::move(started.value().replay.model));
  }
  if (p->options.snapshot_every > 0) {
    p->snapshot_writer = std::make_unique<replay::SnapshotWriter>(*p->snapshots);
  }
  for (;;) {
    auto n = p->ProjectOnce();
    if (!n.ok()) return n.status();
    if (n.value() == 0) break;
  }
  p->model.RefreshInfo();

  Parts* parts = p.get();
  p->matcher_thread = std::thread([parts] {
    if (!parts->snapshot_writer) {
      if (Status s = parts->matcher->Run(parts->stop); !s.ok()) parts->Fail(s);
      return;
    }
    // Matcher::Run, plus a snapshot now and then (serialized here, written by the writer).
    PeriodicSnapshot due(parts->options.snapshot_every, parts->options.snapshot_interval,
                         parts->matcher->next_command());
    while (!parts->stop.load(std::memory_order_relaxed)) {
      auto n = parts->matcher->Step(4096);
      if (!n.ok()) return parts->Fail(n.status());
      const std::uint64_t at = parts->matcher->next_command();
      if (due.Due(at)) {
        parts->snapshot_writer->Submit(replay::SnapshotKind::kMatcher, at,
                                       parts->matcher->exchange().Snapshot());
      }
      if (n.value() == 0) parts->commands_log->WaitFor(at, 100ms);
    }
  });
  p->projection_thread = std::thread([parts] {
    PeriodicSnapshot due(parts->options.snapshot_every, parts->options.snapshot_interval,
                         parts->projected);
    while (!parts->stop.load()) {
      auto n = parts->ProjectOnce();
      if (!n.ok()) return parts->Fail(n.status());
      if (parts->snapshot_writer && due.Due(parts->projected)) {
        // A shared lock: readers go on; this thread is the only writer anyway.
        parts->snapshot_writer->Submit(
            replay::SnapshotKind::kReadModel, parts->projected,
            parts->model.Read([](const projections::ReadModel& m) { return m.Serialize(); }));
      }
      if (n.value() == 0) {
        parts->events_log->WaitFor(parts->projected, 100ms);
        parts->model.RefreshInfo();  // a quiet market is never staler than the interval
      }
    }
  });

  const events::ServiceEndpoints& endpoints = p->options.default_endpoints;
  if (p->options.run_settlement) {
    effects::SettlementOptions so;
    so.bank_endpoint = endpoints.bank_endpoint;
    so.bank_appid = endpoints.bank_appid;
    so.checkpoint_dir = dir + "/settlement";
    p->settlement = std::make_unique<effects::Settlement>(*p->events_log, *p->commands_log, so);
    if (Status s = p->settlement->Start(); !s.ok()) return s;
  }
  if (p->options.run_shipper) {
    effects::ShipperOptions so;
    so.endpoint = effects::LoggerEndpoint{endpoints.log_endpoint, endpoints.log_appid};
    so.utc_offset_seconds = p->options.api.utc_offset_seconds;
    so.checkpoint_dir = dir + "/shipper";
    p->shipper = std::make_unique<effects::Shipper>(*p->events_log, so);
    if (Status s = p->shipper->Start(); !s.ok()) return s;
  }
  if (!p->options.postgres.empty()) {
    projections::PostgresSinkOptions po;
    po.conninfo = p->options.postgres;
    po.schema = p->options.postgres_schema;
    po.utc_offset_seconds = p->options.api.utc_offset_seconds;
    p->postgres = std::make_unique<projections::PostgresSink>(*p->events_log, po);
    if (Status s = p->postgres->Start(); !s.ok()) return s;
  }

  if (p->options.api.session_secret.empty()) {
    auto secret = SessionSecret(dir);
    if (!secret.ok()) return secret.status();
    p->options.api.session_secret = std::move(secret).value();
  }
  p->credit = std::make_unique<BankCreditCheck>(p->http, p->model, endpoints);
  p->RegisterMetrics();
  api::Backend backend{p->commands_log.get(), &p->model, p->credit.get(), Now, &p->metrics};
  p->server = std::make_unique<api::ApiServer>(backend, p->options.api);
  try {
    p->server->Start();
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("http server: ") + e.what());
  }
  return std::unique_ptr<EmbeddedExchange>(new EmbeddedExchange(std::move(p)));
}

void EmbeddedExchange::Stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  if (p.server) p.server->Shutdown();
  if (p.settlement) p.settlement->Stop();
  if (p.shipper) p.shipper->Stop();
  if (p.postgres) p.postgres->Stop();
  p.stop = true;
  if (p.matcher_thread.joinable()) p.matcher_thread.join();
  if (p.projection_thread.joinable()) p.projection_thread.join();
  p.snapshot_writer.reset();  // writes what is pending
  if (p.events_log) (void)p.events_log->Close();
  if (p.commands_log) (void)p.commands_log->Close();
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
  const events::Micros now = Now();
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
