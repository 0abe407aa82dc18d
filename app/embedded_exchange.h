// EmbeddedExchange: the whole exchange in one process on the embedded FileLog (DESIGN.md
// "Process layout", `isucoin serve`): api, matcher, read models, settlement and log shipping,
// each a thread or a worker over the two logs in one data directory:
//
//   DATA/commands  DATA/events     the logs (FileLog; this process is the writer of both)
//   DATA/settlement DATA/shipper   the workers' checkpoints
//   DATA/session_secret            the cookie HMAC key, generated once (0600)
//
// End-to-end tests start it on a temporary directory and port 0.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "api/backend.h"
#include "events/status.h"

namespace isucoin::app {

struct EmbeddedOptions {
  std::string data_dir;
  api::ApiOptions api;  // api.session_secret: empty = read or create DATA/session_secret
  // Where the bank and the logger are until the first /initialize names them.
  events::ServiceEndpoints default_endpoints;
  bool run_settlement = true;
  bool run_shipper = true;
  // Snapshots in DATA/snapshots (replay/snapshot_file.h): start-up resumes from the newest
  // valid ones; while serving, the matcher and the read model are snapshotted every
  // `snapshot_every` records or `snapshot_interval`, whichever comes first (when anything
  // changed). snapshot_every = 0 turns periodic snapshots off.
  std::uint64_t snapshot_every = 200'000;
  std::chrono::seconds snapshot_interval{300};
  std::size_t snapshots_kept = 3;
  // PostgreSQL read model (projections/postgres_sink.h): off when empty.
  std::string postgres;
  std::string postgres_schema = "isucoin";
};

class EmbeddedExchange {
 public:
  static Result<std::unique_ptr<EmbeddedExchange>> Start(EmbeddedOptions options);
  ~EmbeddedExchange();  // Stop()s

  // Stops taking requests, then the workers (each checkpoints), then closes the logs:
  // everything acknowledged is durable and every worker resumes where it stopped.
  void Stop();
  std::uint16_t port() const;
  // The first fatal problem of a background thread (the process should exit), if any.
  Status health() const;

 private:
  struct Parts;
  explicit EmbeddedExchange(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Appends the initial dataset in FILE as the genesis of the commands log in DATA/commands.
// Refused when the log already holds anything: the genesis is written once.
Status ImportDataset(const std::string& file, const std::string& data_dir);

}  // namespace isucoin::app
