#include "effects/bank_client.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <thread>

namespace isucoin::effects {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The bank answers {"error": "..."}; keep its words, or the raw body if it said something else.
std::string ErrorMessage(const HttpResponse& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    auto it = json.find("error");
    if (it != json.end() && it->is_string()) return it->get<std::string>();
  }
  std::string body = response.body.substr(0, 200);
  return body.empty() ? "HTTP " + std::to_string(response.status) : body;
}

milliseconds JitteredBackoff(const RetryPolicy& policy, int retry) {
  // Full jitter: uniform in [0, min(max, initial * 2^retry)], so that many callers hit by the
  // same outage do not come back in lockstep.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  long long cap = policy.initial_backoff.count();
  for (int i = 0; i < retry && cap < policy.max_backoff.count(); ++i) cap *= 2;
  cap = std::min<long long>(cap, policy.max_backoff.count());
  if (cap <= 0) return milliseconds(0);
  return milliseconds(std::uniform_int_distribution<long long>(0, cap)(rng));
}

}  // namespace

const char* BankOutcomeName(BankOutcome outcome) {
  switch (outcome) {
    case BankOutcome::kOk: return "ok";
    case BankOutcome::kInsufficientCredit: return "insufficient_credit";
    case BankOutcome::kNoSuchAccount: return "no_such_account";
    case BankOutcome::kRejected: return "rejected";
    case BankOutcome::kUnknownReservation: return "unknown_reservation";
    case BankOutcome::kUnknownAppId: return "unknown_app_id";
    case BankOutcome::kUnavailable: return "unavailable";
    case BankOutcome::kBadResponse: return "bad_response";
  }
  return "?";
}

BankClient::BankClient(HttpClient& http, BankClientOptions options)
    : http_(http), options_(std::move(options)), base_(options_.endpoint) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::uint64_t BankClient::retries() const { return retries_.load(std::memory_order_relaxed); }

BankReply BankClient::Call(const char* path, const std::string& body, Kind kind,
                           std::string* ok_body) const {
  const std::string url = base_ + path;
  const auto start = Clock::now();
  const auto deadline = start + options_.retry.overall_deadline;
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  BankReply reply;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) retries_.fetch_add(1, std::memory_order_relaxed);
    reply.attempts = attempt;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    auto timeout = std::max(milliseconds(1), std::min(options_.call_timeout, left));
    Result<HttpResponse> r = http_.PostJson(url, body, options_.app_id, timeout);
    if (!r.ok()) {
      reply.outcome = BankOutcome::kUnavailable;
      reply.http_status = 0;
      reply.message = r.status().ToString();
    } else {
      const HttpResponse& response = r.value();
      reply.http_status = response.status;
      if (response.status == 200) {
        reply.outcome = BankOutcome::kOk;
        reply.message.clear();
        if (ok_body != nullptr) *ok_body = response.body;
        return reply;
      }
      reply.message = ErrorMessage(response);
      if (response.status >= 500) {
        reply.outcome = BankOutcome::kUnavailable;
      } else {
        switch (response.status) {
          case 400:
            reply.outcome = kind == Kind::kAccount ? BankOutcome::kInsufficientCredit
                                                   : BankOutcome::kRejected;
            break;
          case 401: reply.outcome = BankOutcome::kUnknownAppId; break;
          case 404:
            reply.outcome = kind == Kind::kAccount ? BankOutcome::kNoSuchAccount
                                                   : BankOutcome::kUnknownReservation;
            break;
          default:
            reply.outcome = BankOutcome::kBadResponse;
            reply.message = "unexpected HTTP " + std::to_string(response.status) + ": " +
                            reply.message;
        }
        return reply;  // the bank decided: a 4xx is never retried
      }
    }
    if (attempt >= max_attempts) return reply;
    auto pause = JitteredBackoff(options_.retry, attempt - 1);
    if (Clock::now() + pause >= deadline) return reply;
    std::this_thread::sleep_for(pause);
  }
}

BankReply BankClient::Check(const std::string& bank_id, std::int64_t price) const {
  nlohmann::json body = {{"bank_id", bank_id}, {"price", price}};
  return Call("/check", body.dump(), Kind::kAccount, nullptr);
}

BankReply BankClient::Reserve(const std::string& bank_id, std::int64_t price) const {
  nlohmann::json body = {{"bank_id", bank_id}, {"price", price}};
  std::string ok_body;
  BankReply reply = Call("/reserve", body.dump(), Kind::kAccount, &ok_body);
  if (!reply.ok()) return reply;
  auto json = nlohmann::json::parse(ok_body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("reserve_id") && json["reserve_id"].is_number_integer()) {
    reply.reserve_id = json["reserve_id"].get<std::int64_t>();
    if (reply.reserve_id > 0) return reply;
  }
  // Not retried here: the bank may have reserved. The caller sees a transient() reply and
  // decides whether to try again (an unusable reservation expires on its own).
  reply.outcome = BankOutcome::kBadResponse;
  reply.message = "reserve: 200 without a valid reserve_id: " + ok_body.substr(0, 200);
  return reply;
}

BankReply BankClient::Commit(const std::vector<std::int64_t>& reserve_ids) const {
  nlohmann::json body = {{"reserve_ids", reserve_ids}};
  return Call("/commit", body.dump(), Kind::kReservation, nullptr);
}

BankReply BankClient::Cancel(const std::vector<std::int64_t>& reserve_ids) const {
  nlohmann::json body = {{"reserve_ids", reserve_ids}};
  return Call("/cancel", body.dump(), Kind::kReservation, nullptr);
}

}  // namespace isucoin::effects
