#include "api/api_context.h"

#include <span>

#include "api/json_views.h"
#include "api/password.h"
#include "events/codec.h"

namespace isucoin::api {

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, ErrorJson(message));
}

ApiContext::ApiContext(Backend backend, ApiOptions options)
    : backend_(std::move(backend)),
      options_(std::move(options)),
      sessions_(options_.session_secret) {
  if (backend_.metrics == nullptr) {
    own_metrics_ = std::make_unique<MetricsRegistry>();
    metrics_ = own_metrics_.get();
  } else {
    metrics_ = backend_.metrics;
  }
  pool_ = std::make_unique<WorkerPool>(options_.worker_threads);
  auth_pool_ = std::make_unique<WorkerPool>(options_.auth_worker_threads, /*nice=*/10);
  dummy_hash_ = HashPassword("isucoin-no-such-user", options_.bcrypt_cost).value_or("");
}

void ApiContext::RunAsync(ReplyPtr reply, std::function<void(const ReplyPtr&)> work) {
  Run(*pool_, std::move(reply), std::move(work));
}

void ApiContext::RunAuthAsync(ReplyPtr reply, std::function<void(const ReplyPtr&)> work) {
  Run(*auth_pool_, std::move(reply), std::move(work));
}

void ApiContext::Run(WorkerPool& pool, ReplyPtr reply, std::function<void(const ReplyPtr&)> work) {
  bool taken = pool.Submit([reply, work = std::move(work)] {
    try {
      work(reply);
    } catch (...) {
      reply->Send(ErrorResponse(500, "internal error"));
    }
  });
  if (!taken) reply->Send(ErrorResponse(503, "shutting down"));
}

std::optional<events::Id> ApiContext::SessionUser(const HttpRequest& request) const {
  if (!request.session_cookie) return std::nullopt;
  auto id = sessions_.Verify(*request.session_cookie, backend_.now());
  if (!id) return std::nullopt;
  // Ids are never reused, so a cookie from before /initialize names no user after it.
  auto known = [&] {
    return backend_.model->Read(
        [&](const projections::ReadModel& m) { return m.FindUser(*id) != nullptr; });
  };
  if (!known() && !(CatchUp() && known())) return std::nullopt;
  return id;
}

bool ApiContext::CatchUp() const {
  // Bounded: an answer a little stale beats a request stuck behind a lagging read model.
  return backend_.catch_up && backend_.catch_up(std::chrono::seconds(2));
}

std::optional<std::uint64_t> ApiContext::AppendCommand(events::CommandBody body) {
  events::Command command;
  command.time = backend_.now();
  command.body = std::move(body);
  std::string payload = events::EncodeCommand(command);
  auto result = backend_.commands->Append(std::span<const std::string>(&payload, 1));
  if (!result.ok()) {
    metrics_->Increment("isucoin_api_command_append_errors_total");
    return std::nullopt;
  }
  return result.value();
}

std::shared_ptr<const ApiContext::InfoText> ApiContext::Info() {
  auto shared = backend_.model->info();
  std::uint64_t version = shared ? shared->version : 0;
  std::lock_guard lock(info_mu_);
  if (!info_ || info_->version != version || (shared == nullptr && info_->fragment.empty())) {
    auto text = std::make_shared<InfoText>();
    text->version = version;
    projections::InfoShared empty;
    const auto& s = shared ? *shared : empty;
    text->cursor = s.cursor;
    text->fragment = InfoSharedFragment(s, options_.utc_offset_seconds);
    info_ = std::move(text);
  }
  return info_;
}

}  // namespace isucoin::api
