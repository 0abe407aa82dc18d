#include "app/api_node.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "api/metrics.h"
#include "api/server.h"
#include "app/periodic_snapshot.h"
#include "effects/bank_client.h"
#include "effects/http_client.h"
#include "events/fast_decode.h"
#include "events/time_format.h"
#include "projections/live_read_model.h"

namespace isucoin::app {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t kProjectBatch = 4096;

// Bank /check for the api, with the endpoints of the latest /initialize (or the defaults).
class BankCreditCheck final : public api::CreditCheck {
 public:
  BankCreditCheck(std::string name, projections::LiveReadModel& model,
                  events::ServiceEndpoints defaults)
      : name_(std::move(name)), model_(model), defaults_(std::move(defaults)) {}

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
        std::fprintf(stderr, "isucoin %s: bank /check failed: %s (%s)\n", name_.c_str(),
                     effects::BankOutcomeName(reply.outcome), reply.message.c_str());
        return Outcome::kUnavailable;
    }
  }

 private:
  const std::string name_;
  effects::HttpClient http_;
  projections::LiveReadModel& model_;
  const events::ServiceEndpoints defaults_;
};

}  // namespace

struct ApiNode::Parts {
  Parts(events::Log& c, events::Log& e, ApiNodeOptions o)
      : commands(c),
        events(e),
        options(std::move(o)),
        model(projections::LiveReadModel::Options{
            .utc_offset_seconds = options.api.utc_offset_seconds}) {}

  events::Log& commands;
  events::Log& events;
  ApiNodeOptions options;
  projections::LiveReadModel model;
  std::unique_ptr<BankCreditCheck> credit;
  std::unique_ptr<api::ApiServer> server;

  std::atomic<bool> stop{false};
  std::thread projection_thread;
  std::atomic<events::Offset> projected{0};  // next event offset for the read model
  mutable std::mutex health_mu;
  Status health;
  bool stopped = false;

  // Applies the events available now; returns how many were read.
  Result<std::size_t> ProjectOnce() {
    const events::Offset from = projected.load(std::memory_order_relaxed);
    auto batch = events.Read(from, kProjectBatch);
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
    projected.store(from + batch.value().size(), std::memory_order_relaxed);
    return batch.value().size();
  }

  void Follow() {
    PeriodicSnapshot due(options.snapshot_every, options.snapshot_interval, projected.load());
    while (!stop.load()) {
      auto n = ProjectOnce();
      if (!n.ok()) {
        std::fprintf(stderr, "isucoin %s: read model: %s\n", options.name.c_str(),
                     n.status().ToString().c_str());
        std::lock_guard lock(health_mu);
        health = n.status();
        return;
      }
      const events::Offset at = projected.load(std::memory_order_relaxed);
      if (options.writer != nullptr && options.snapshot_every > 0 && due.Due(at)) {
        // A shared lock: readers go on; this thread is the only writer anyway.
        options.writer->Submit(
            replay::SnapshotKind::kReadModel, at,
            model.Read([](const projections::ReadModel& m) { return m.Serialize(); }));
      }
      if (n.value() == 0) {
        events.WaitFor(at, 100ms);
        model.RefreshInfo();  // a quiet market is never staler than the interval
      }
    }
  }

  void RegisterMetrics() {
    using Labels = api::Labels;
    options.metrics->RegisterCallback("isucoin_log_end_offset", "gauge", "records in each log",
                                      [this] {
                                        return std::vector<std::pair<Labels, double>>{
                                            {{{"log", "commands"}}, double(commands.End())},
                                            {{{"log", "events"}}, double(events.End())}};
                                      });
    options.metrics->RegisterCallback(
        "isucoin_consumer_lag", "gauge", "records a consumer has yet to read", [this] {
          return std::vector<std::pair<Labels, double>>{
              {{{"consumer", "read_model"}}, double(events.End() - projected.load())}};
        });
  }
};

ApiNode::ApiNode(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ApiNode::~ApiNode() { Stop(); }

Result<std::unique_ptr<ApiNode>> ApiNode::Start(events::Log& commands, events::Log& events,
                                                ApiNodeOptions options) {
  if (options.api.session_secret.empty()) {
    return Status::Invalid("the api needs a session secret (the same on every node)");
  }
  auto p = std::make_unique<Parts>(commands, events, std::move(options));
  {
    auto started = replay::StartReadModel(events, p->options.snapshots,
                                          p->options.api.utc_offset_seconds);
    if (!started.ok()) return started.status();
    if (auto at = started.value().snapshot_offset) {
      std::fprintf(stderr, "isucoin %s: read model resumed from its snapshot at event %llu\n",
                   p->options.name.c_str(), static_cast<unsigned long long>(*at));
    }
    p->projected = started.value().replay.next_offset;
    p->model.Replace(std::move(started.value().replay.model));
  }
  for (;;) {
    auto n = p->ProjectOnce();
    if (!n.ok()) return n.status();
    if (n.value() == 0) break;
  }
  p->model.RefreshInfo();
  p->projection_thread = std::thread([parts = p.get()] { parts->Follow(); });

  p->credit = std::make_unique<BankCreditCheck>(p->options.name, p->model,
                                                p->options.default_endpoints);
  if (p->options.metrics != nullptr) p->RegisterMetrics();
  api::Backend backend{&p->commands, &p->model, p->credit.get(), events::WallClockMicros,
                       p->options.metrics};
  backend.catch_up = [parts = p.get()](std::chrono::milliseconds timeout) {
    const events::Offset end = parts->events.End();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (parts->projected.load() < end) {
      if (std::chrono::steady_clock::now() >= deadline || parts->stop.load()) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  };
  p->server = std::make_unique<api::ApiServer>(backend, p->options.api);
  try {
    p->server->Start();
  } catch (const std::exception& e) {
    p->stop = true;
    p->projection_thread.join();
    return Status::Unavailable(std::string("http server: ") + e.what());
  }
  return std::unique_ptr<ApiNode>(new ApiNode(std::move(p)));
}

void ApiNode::Stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  if (p.server) p.server->Shutdown();
  p.stop = true;
  if (p.projection_thread.joinable()) p.projection_thread.join();
}

std::uint16_t ApiNode::port() const { return parts_->server->port(); }

Status ApiNode::health() const {
  std::lock_guard lock(parts_->health_mu);
  return parts_->health;
}

events::Offset ApiNode::projected() const { return parts_->projected.load(); }

}  // namespace isucoin::app
