#include "effects/logger_client.h"

#include <utility>

namespace isucoin::effects {
namespace {

std::string JoinUrl(const std::string& base, std::string_view path) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url.append(path);
  return url;
}

// Enough of the service's answer to diagnose a refusal without flooding the logs.
std::string Truncated(std::string s) {
  constexpr std::size_t kMax = 300;
  if (s.size() > kMax) {
    s.resize(kMax);
    s += "…";
  }
  return s;
}

}  // namespace

const char* LoggerOutcomeName(LoggerOutcome outcome) {
  switch (outcome) {
    case LoggerOutcome::kOk: return "ok";
    case LoggerOutcome::kTooLarge: return "too_large";
    case LoggerOutcome::kRateLimited: return "rate_limited";
    case LoggerOutcome::kBadRequest: return "bad_request";
    case LoggerOutcome::kUnknownAppId: return "unknown_app_id";
    case LoggerOutcome::kUnavailable: return "unavailable";
  }
  return "unavailable";
}

LoggerClient::LoggerClient(LoggerClientOptions options) : options_(std::move(options)) {}

LoggerOutcome LoggerClient::Classify(int http_status) {
  if (http_status >= 200 && http_status < 300) return LoggerOutcome::kOk;
  switch (http_status) {
    case 400: return LoggerOutcome::kBadRequest;
    case 401: return LoggerOutcome::kUnknownAppId;
    case 413: return LoggerOutcome::kTooLarge;
    case 429: return LoggerOutcome::kRateLimited;
    default: break;
  }
  // 5xx, and statuses SPEC.md does not list (a proxy's 404 or 502, …): nothing says the
  // records are at fault, so they are worth retrying.
  return LoggerOutcome::kUnavailable;
}

LoggerReply LoggerClient::Send(const LoggerRecord& record) {
  return PostTo(options_.endpoint, "/send", Serialize(record));
}

LoggerReply LoggerClient::SendBulk(std::span<const LoggerRecord> records) {
  std::string body = "[";
  for (const LoggerRecord& r : records) {
    if (body.size() > 1) body.push_back(',');
    body += Serialize(r);
  }
  body.push_back(']');
  return SendBulkBody(body);
}

LoggerReply LoggerClient::PostTo(const LoggerEndpoint& endpoint, std::string_view path,
                                 const std::string& body) {
  LoggerReply reply;
  if (endpoint.empty()) {
    reply.detail = "no logger endpoint configured";
    return reply;
  }
  auto response = http_.PostJson(JoinUrl(endpoint.url, path), body, endpoint.app_id,
                                 options_.timeout);
  if (!response.ok()) {
    reply.detail = response.status().ToString();
    return reply;
  }
  reply.http_status = response.value().status;
  reply.outcome = Classify(reply.http_status);
  if (!reply.ok()) reply.detail = Truncated(response.value().body);
  return reply;
}

}  // namespace isucoin::effects
