// What every route handler gets: the seam (Backend), the options, and the shared helpers.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/backend.h"
#include "api/http_types.h"
#include "api/metrics.h"
#include "api/session.h"
#include "api/worker_pool.h"
#include "events/records.h"

namespace isucoin::api {

class ApiContext {
 public:
  ApiContext(Backend backend, ApiOptions options);

  const Backend& backend() const { return backend_; }
  const ApiOptions& options() const { return options_; }
  const SessionCodec& sessions() const { return sessions_; }
  MetricsRegistry& metrics() { return *metrics_; }
  WorkerPool& pool() { return *pool_; }
  void StopPool() {
    auth_pool_->Stop();
    pool_->Stop();
  }

  // Runs `work` on the worker pool; an exception becomes 500 {"error":"internal error"}.
  void RunAsync(ReplyPtr reply, std::function<void(const ReplyPtr&)> work);
  // The same on the sign-up/sign-in pool (ApiOptions::auth_worker_threads).
  void RunAuthAsync(ReplyPtr reply, std::function<void(const ReplyPtr&)> work);

  // The signed-in user: an authentic, unexpired cookie naming a user the read model knows.
  std::optional<events::Id> SessionUser(const HttpRequest& request) const;

  // Before answering that a user does not exist: true when the read model has caught up with
  // the events log (Backend::catch_up), so a second look is worth taking.
  bool CatchUp() const;

  // Appends one command stamped with backend.now(); its offset, or nullopt if the log failed.
  std::optional<std::uint64_t> AppendCommand(events::CommandBody body);

  // Bcrypt hash compared against when the bank_id is unknown, so that the time of a sign-in
  // does not tell whether a bank_id is registered.
  const std::string& dummy_hash() const { return dummy_hash_; }

  // The shared part of /info, serialised once per InfoShared version.
  struct InfoText {
    std::uint64_t version = 0;
    events::Id cursor = 0;
    std::string fragment;
  };
  std::shared_ptr<const InfoText> Info();

 private:
  Backend backend_;
  ApiOptions options_;
  SessionCodec sessions_;
  std::unique_ptr<MetricsRegistry> own_metrics_;
  MetricsRegistry* metrics_;
  static void Run(WorkerPool& pool, ReplyPtr reply, std::function<void(const ReplyPtr&)> work);

  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<WorkerPool> auth_pool_;
  std::string dummy_hash_;
  std::mutex info_mu_;
  std::shared_ptr<const InfoText> info_;
};

// Route handlers (routes_*.cc). Each answers through `reply`, now or later.
void HandleInitialize(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleSignup(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleSignin(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleSignout(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandlePostOrder(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleDeleteOrder(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleGetOrders(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleInfo(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleMetrics(ApiContext& api, const HttpRequest& req, ReplyPtr reply);
void HandleStatic(ApiContext& api, const HttpRequest& req, ReplyPtr reply);

}  // namespace isucoin::api
