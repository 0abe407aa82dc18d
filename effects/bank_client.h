// BankClient: ISUBANK's API (SPEC.md "ISUBANK") as typed calls.
//
// Every call is a POST with a JSON body and the app id as Bearer token, bounded by a per-call
// timeout. Only answers that may change on a second try are retried: 5xx, timeouts and broken
// connections, with exponential backoff and full jitter, bounded by a number of attempts and
// an overall deadline. A 4xx is the bank's decision about this request and is never retried.
//
// Retrying is not free of side effects, and callers must know it:
//  - a /reserve whose answer was lost may have reserved; the retry reserves again, and the
//    first reservation is never used (it expires after 5 minutes without moving money);
//  - a /commit or /cancel whose answer was lost may have been applied; the retry then gets
//    400 (already committed / cancelled), which the caller interprets (see settlement.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "effects/http_client.h"

namespace isucoin::effects {

enum class BankOutcome {
  kOk,
  kInsufficientCredit,  // 400 on /check or /reserve
  kNoSuchAccount,       // 404 on /check or /reserve
  kRejected,            // 400 on /commit or /cancel: expired, already committed or cancelled
  kUnknownReservation,  // 404 on /commit or /cancel
  kUnknownAppId,        // 401 on anything
  kUnavailable,         // 5xx, timeouts, broken connections: still so after every retry
  kBadResponse,         // an answer that does not follow the API (other status, bad JSON)
};
const char* BankOutcomeName(BankOutcome outcome);

struct BankReply {
  BankOutcome outcome = BankOutcome::kUnavailable;
  long http_status = 0;     // of the last attempt; 0 when no HTTP answer came
  std::string message;      // the bank's error message, or the transport's
  int attempts = 0;
  std::int64_t reserve_id = 0;  // /reserve only, when ok
  bool ok() const { return outcome == BankOutcome::kOk; }
  // The reply of a call that would be worth making again later (the bank did not decide).
  bool transient() const {
    return outcome == BankOutcome::kUnavailable || outcome == BankOutcome::kBadResponse;
  }
};

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{20};
  std::chrono::milliseconds max_backoff{1000};
  // No new attempt starts after this much time since the call began; the last attempt's
  // timeout is shortened so that the call ends by then.
  std::chrono::milliseconds overall_deadline{10000};
};

struct BankClientOptions {
  std::string endpoint;  // base URL, e.g. http://127.0.0.1:5515 (no trailing slash needed)
  std::string app_id;
  // Per attempt. Commit is the slowest call (≈ 300 ms), so a few seconds is generous.
  std::chrono::milliseconds call_timeout{3000};
  RetryPolicy retry;
};


class BankClient {
 public:
  // `http` must outlive the client; it may be shared by several clients.
  BankClient(HttpClient& http, BankClientOptions options);

  BankReply Check(const std::string& bank_id, std::int64_t price) const;
  // `price` > 0 deposits, < 0 withdraws; reply.reserve_id when ok.
  BankReply Reserve(const std::string& bank_id, std::int64_t price) const;
  BankReply Commit(const std::vector<std::int64_t>& reserve_ids) const;
  BankReply Cancel(const std::vector<std::int64_t>& reserve_ids) const;

  const BankClientOptions& options() const { return options_; }
  // Attempts that were retries (not first tries), over the client's life.
  std::uint64_t retries() const;

 private:
  enum class Kind { kAccount, kReservation };
  // `ok_body` receives the body of a 200 answer when not null.
  BankReply Call(const char* path, const std::string& body, Kind kind,
                 std::string* ok_body) const;

  HttpClient& http_;
  BankClientOptions options_;
  std::string base_;  // endpoint without trailing '/'
  mutable std::atomic<std::uint64_t> retries_{0};
};

}  // namespace isucoin::effects
