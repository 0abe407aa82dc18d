// The seam between the HTTP layer and the rest of the exchange (api/README.md "The seam").
// app/ builds one Backend and one ApiOptions and hands them to ApiServer; the routes touch the
// exchange through nothing else.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "events/log.h"
#include "events/records.h"
#include "projections/live_read_model.h"

namespace isucoin::api {

class MetricsRegistry;

// Bank /check with the endpoints of the latest /initialize (implemented in app/ over the
// effects bank client). Called on the api worker pool, never on a reactor thread, so it may
// block for the bank's round trip.
class CreditCheck {
 public:
  enum class Outcome { kOk, kInsufficient, kNoSuchAccount, kUnavailable };
  virtual ~CreditCheck() = default;
  virtual Outcome Check(const std::string& bank_id, std::int64_t price) = 0;
};

struct Backend {
  events::Log* commands = nullptr;               // one command appended per write request
  projections::LiveReadModel* model = nullptr;   // reads + WaitForAnswer (read-your-writes)
  CreditCheck* credit = nullptr;
  std::function<events::Micros()> now;           // stamps commands and session expiry
  MetricsRegistry* metrics = nullptr;            // optional: where /metrics reads from
  // Optional: waits until `model` has applied every event the events log held when called;
  // false on timeout. Where several api nodes share the logs, a user another node has just
  // signed up is unknown here for a few milliseconds: the routes call this before answering
  // "no such user", so that sign-up on one node and sign-in on the next always works.
  std::function<bool(std::chrono::milliseconds timeout)> catch_up;
};

struct ApiOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 5000;                     // 0 = any free port (see ApiServer::port())
  int threads = 2;                               // Pistache reactor threads
  int worker_threads = 64;                       // bank calls, log appends, waits
  // Sign-up and sign-in (bcrypt, ~50-100 ms of CPU each at cost 10) have their own pool, at a
  // lower CPU priority: on one pool a burst of them queued every order behind it (loadgen, 800
  // users at cost 10: POST /orders p50 2.4-7.7 s, every user gone).
  int auth_worker_threads = 16;
  int bcrypt_cost = 10;
  int share_ratio = 3;                           // enable_share when user_id % 10 < share_ratio
  int utc_offset_seconds = 9 * 3600;
  std::string session_secret;                    // HMAC key; must not be empty
  std::chrono::seconds session_lifetime{7 * 24 * 3600};
  std::string web_root;                          // empty = no static files (404)
  std::chrono::milliseconds answer_timeout{10'000};
  std::chrono::milliseconds initialize_timeout{29'000};
  std::size_t max_request_bytes = 64 * 1024;     // request line + headers + body; 413 beyond
};

}  // namespace isucoin::api
