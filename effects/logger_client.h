// ISULOGGER client (SPEC.md "ISULOGGER"): /send and /send_bulk with the Bearer app id, every
// answer turned into a typed outcome. No retries here: whether and when to retry depends on
// the service's rate limits, which the caller (Shipper) accounts for. Every call is bounded by
// the timeout, so it never hangs.
//
// Thread-safe: its HttpClient lends each concurrent call its own pooled connection.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "effects/delivery_plan.h"
#include "effects/http_client.h"
#include "effects/log_records.h"

namespace isucoin::effects {

enum class LoggerOutcome {
  kOk,            // 2xx: accepted
  kTooLarge,      // 413: body over 1 MB
  kRateLimited,   // 429: over 20 requests/s or 10 in flight
  kBadRequest,    // 400: the service refused the content (a bug on our side)
  kUnknownAppId,  // 401
  kUnavailable,   // 5xx, no answer within the timeout, transport error, or any other status
};
const char* LoggerOutcomeName(LoggerOutcome outcome);

struct LoggerReply {
  LoggerOutcome outcome = LoggerOutcome::kUnavailable;
  int http_status = 0;  // 0 when no HTTP answer came back
  std::string detail;   // the service's body or the transport error, for logs
  bool ok() const { return outcome == LoggerOutcome::kOk; }
};

struct LoggerClientOptions {
  LoggerEndpoint endpoint;
  // The logger answers in milliseconds when healthy; a request that takes seconds is better
  // abandoned and retried, since every log must arrive within 10 s of its action.
  std::chrono::milliseconds timeout{3000};
};

class LoggerClient {
 public:
  explicit LoggerClient(LoggerClientOptions options);

  LoggerReply Send(const LoggerRecord& record);
  LoggerReply SendBulk(std::span<const LoggerRecord> records);
  // `body` is an already-serialized JSON array of records (the shipper serializes each record
  // once, when it is read, to size its batches).
  LoggerReply SendBulkBody(const std::string& body) { return PostTo(options_.endpoint, "/send_bulk", body); }
  // The same to another endpoint (after an /initialize the shipper may hold batches for both).
  LoggerReply SendBulkBodyTo(const LoggerEndpoint& endpoint, const std::string& body) {
    return PostTo(endpoint, "/send_bulk", body);
  }

  // The outcome an HTTP status means (exposed for tests).
  static LoggerOutcome Classify(int http_status);

 private:
  LoggerReply PostTo(const LoggerEndpoint& endpoint, std::string_view path, const std::string& body);

  LoggerClientOptions options_;
  HttpClient http_;
};

}  // namespace isucoin::effects
