// ApiServer: the ISUCOIN HTTP API on Pistache (api/README.md). Construct with the seam
// (backend.h), Start(), and Shutdown() before the Backend's parts go away.
#pragma once

#include <cstdint>
#include <memory>

#include "api/backend.h"
#include "api/metrics.h"

namespace isucoin::api {

class ApiServer {
 public:
  ApiServer(Backend backend, ApiOptions options);
  ~ApiServer();  // Shutdown()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and serves in background threads; throws std::runtime_error if it cannot bind.
  void Start();
  // Stops accepting, lets the worker pool finish what it holds, then stops the reactor.
  void Shutdown();

  std::uint16_t port() const;  // the bound port (useful with ApiOptions::port = 0)
  MetricsRegistry& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isucoin::api
