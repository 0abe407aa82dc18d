// ApiNode: one node of the public API — an in-memory read model that follows the events log,
// the HTTP server over it, and the bank /check the api calls itself. Commands go to the
// commands log; answers come back through this node's own read model, so read-your-writes
// holds on the node that took the request. Sessions are HMAC cookies: with the same secret,
// any node serves any user.
//
// `serve` runs one beside the matcher and the workers on FileLog; `isucoin api` runs one per
// process on Kafka, as many as wanted (DESIGN.md "Process layout").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/backend.h"
#include "events/log.h"
#include "events/records.h"
#include "events/status.h"
#include "replay/startup.h"

namespace isucoin::api {
class MetricsRegistry;
}

namespace isucoin::app {

struct ApiNodeOptions {
  std::string name = "api";  // prefix of its stderr lines
  api::ApiOptions api;       // api.session_secret must be set
  // Where the bank is until the first /initialize names one.
  events::ServiceEndpoints default_endpoints;
  // Read-model snapshots: start-up resumes from the newest usable one; the projection thread
  // submits one every `snapshot_every` events or `snapshot_interval`. Null = none.
  const replay::SnapshotStore* snapshots = nullptr;
  replay::SnapshotWriter* writer = nullptr;
  std::uint64_t snapshot_every = 200'000;
  std::chrono::seconds snapshot_interval{300};
  // Where /metrics reads from; the node adds its own series. Must outlive the node.
  api::MetricsRegistry* metrics = nullptr;
};

class ApiNode {
 public:
  // Folds the events log into the read model (from a snapshot when there is one) before the
  // server takes its first request, then starts following the log and serving.
  static Result<std::unique_ptr<ApiNode>> Start(events::Log& commands, events::Log& events,
                                                ApiNodeOptions options);
  ~ApiNode();  // Stop()s

  // Stops taking requests (those in flight are answered), then stops following the log.
  void Stop();
  std::uint16_t port() const;
  // The failure that stopped the projection thread (a log that broke, a record that does not
  // decode), if any: the node then serves stale data and its process should exit.
  Status health() const;
  // Offset of the next event the read model will apply (any thread).
  events::Offset projected() const;

 private:
  struct Parts;
  explicit ApiNode(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace isucoin::app
