#include "tools/isusim/simulator.h"

#include <cctype>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace isusim {
namespace {

using nlohmann::json;

// Paths and ids echoed back may hold invalid UTF-8, which plain dump() throws on.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Reply Answer(Outcome o, std::chrono::milliseconds delay = {}) {
  Reply r;
  r.response.status = o.status;
  r.response.body = Dump(o.body);
  r.delay = delay;
  return r;
}

// Parses a JSON object body; on failure sets *error to the 400 to answer.
std::optional<json> ParseObject(const std::string& body, Outcome* error) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = Error(400, "body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    *error = Error(400, "body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

bool GetString(const json& j, const char* key, std::string* out, Outcome* error) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    *error = Error(400, std::string(key) + " must be a string");
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool AsInt(const json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  return false;
}

bool GetInt(const json& j, const char* key, int64_t* out, Outcome* error) {
  auto it = j.find(key);
  if (it == j.end() || !AsInt(*it, out)) {
    *error = Error(400, std::string(key) + " must be a 64-bit integer");
    return false;
  }
  return true;
}

bool GetIds(const json& j, std::vector<int64_t>* out, Outcome* error) {
  auto it = j.find("reserve_ids");
  if (it == j.end() || !it->is_array()) {
    *error = Error(400, "reserve_ids must be an array of integers");
    return false;
  }
  for (const json& v : *it) {
    int64_t id;
    if (!AsInt(v, &id)) {
      *error = Error(400, "reserve_ids must be an array of integers");
      return false;
    }
    out->push_back(id);
  }
  return true;
}

bool ParseRate(const json& j, const char* key, double* out, Outcome* error) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1) {
    *error = Error(400, std::string(key) + " must be a number in [0, 1]");
    return false;
  }
  *out = it->get<double>();
  return true;
}

json FaultsJson(const Faults& f) {
  return {{"fail_rate", f.fail_rate}, {"slow_rate", f.slow_rate}, {"slow_ms", f.slow_ms}, {"drop_rate", f.drop_rate}};
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Simulator::Simulator(SimulatorConfig config)
    : config_(std::move(config)), faults_(config_.faults), rng_(config_.seed), bank_(config_.reservation_ttl_ms) {}

std::string Simulator::AuthProblem(const HttpRequest& req, std::string* appid) const {
  std::string_view h = req.Header("authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (h.size() <= kScheme.size()) return "missing Authorization: Bearer <app id>";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return "missing Authorization: Bearer <app id>";
  }
  *appid = std::string(h.substr(kScheme.size()));
  if (!config_.appids.count(*appid)) return "unknown app id";
  return {};
}

bool Simulator::InjectFaults(Reply& reply) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double fault = u(rng_);
  double slow = u(rng_);  // drawn every time, so one rate does not shift the other's sequence
  if (slow < faults_.slow_rate) reply.delay += std::chrono::milliseconds(faults_.slow_ms);
  if (fault < faults_.fail_rate) return true;
  if (fault < faults_.fail_rate + faults_.drop_rate) reply.drop = true;
  return false;
}

void Simulator::Count(const std::string& service, const std::string& path, Reply& reply) {
  ++stats_[service][path][reply.drop ? "dropped" : std::to_string(reply.response.status)];
}

Reply Simulator::HandleBank(const HttpRequest& req) {
  if (req.path.rfind("/admin/", 0) == 0) {
    Reply r = HandleAdmin(req);
    Count("admin", req.path.rfind("/admin/accounts/", 0) == 0 ? "/admin/accounts/*" : req.path, r);
    return r;
  }
  const std::string& path = req.path;
  std::chrono::milliseconds latency;
  if (path == "/check") {
    latency = config_.latency.check;
  } else if (path == "/reserve") {
    latency = config_.latency.reserve;
  } else if (path == "/commit") {
    latency = config_.latency.commit;
  } else if (path == "/cancel") {
    latency = config_.latency.cancel;
  } else {
    Reply r = Answer(Error(404, "no such endpoint: " + path));
    Count("bank", "(unknown)", r);
    return r;
  }
  Reply reply = [&]() -> Reply {
    if (req.method != "POST") return Answer(Error(405, "use POST"));
    Reply r;
    r.delay = latency;
    if (InjectFaults(r)) {
      Reply failed = Answer(Error(500, "injected failure"), r.delay);
      return failed;
    }
    auto answer = [&r](Outcome o) {
      r.response.status = o.status;
      r.response.body = Dump(o.body);
      return std::move(r);
    };
    std::string appid;
    if (std::string p = AuthProblem(req, &appid); !p.empty()) return answer(Error(401, p));
    Outcome error;
    auto body = ParseObject(req.body, &error);
    if (!body) return answer(error);
    const int64_t now = NowMs();
    if (path == "/check" || path == "/reserve") {
      std::string bank_id;
      int64_t price;
      if (!GetString(*body, "bank_id", &bank_id, &error) || !GetInt(*body, "price", &price, &error)) {
        return answer(error);
      }
      return answer(path == "/check" ? bank_.Check(bank_id, price) : bank_.Reserve(bank_id, price, now));
    }
    std::vector<int64_t> ids;
    if (!GetIds(*body, &ids, &error)) return answer(error);
    return answer(path == "/commit" ? bank_.Commit(ids, now) : bank_.Cancel(ids, now));
  }();
  Count("bank", path, reply);
  return reply;
}

Reply Simulator::HandleLogger(const HttpRequest& req) {
  const std::string& path = req.path;
  if (path != "/send" && path != "/send_bulk") {
    Reply r = Answer(Error(404, "no such endpoint: " + path));
    Count("logger", "(unknown)", r);
    return r;
  }
  Reply reply = [&]() -> Reply {
    if (req.method != "POST") return Answer(Error(405, "use POST"));
    Reply r;
    r.delay = config_.latency.logger;
    if (InjectFaults(r)) return Answer(Error(500, "injected failure"), r.delay);
    auto answer = [&r](Outcome o) {
      r.response.status = o.status;
      r.response.body = Dump(o.body);
      return std::move(r);
    };
    std::string appid;
    if (std::string p = AuthProblem(req, &appid); !p.empty()) return answer(Error(401, p));
    const int64_t now = NowMs();
    if (auto refused = logger_.Admit(appid, req.body.size(), now)) return answer(*refused);
    // In flight until the (possibly delayed) answer leaves, which is what the limit of 10 means.
    r.on_done = [this, appid] { logger_.Done(appid); };
    return answer(logger_.Accept(appid, req.body, path == "/send_bulk", now));
  }();
  Count("logger", path, reply);
  return reply;
}

Reply Simulator::HandleAdmin(const HttpRequest& req) {
  const std::string& path = req.path;
  const int64_t now = NowMs();
  Outcome error;
  auto method_is = [&](const char* m) { return req.method == m; };

  if (path == "/admin/accounts") {
    if (!method_is("POST")) return Answer(Error(405, "use POST"));
    auto body = ParseObject(req.body, &error);
    std::string bank_id;
    int64_t credit;
    if (!body || !GetString(*body, "bank_id", &bank_id, &error) || !GetInt(*body, "credit", &credit, &error)) {
      return Answer(error);
    }
    bank_.SetCredit(bank_id, credit);
    return Answer(Ok({{"bank_id", bank_id}, {"credit", credit}}));
  }
  if (path.rfind("/admin/accounts/", 0) == 0) {
    if (!method_is("GET")) return Answer(Error(405, "use GET"));
    std::string bank_id = path.substr(std::string("/admin/accounts/").size());
    auto a = bank_.Account(bank_id, now);
    if (!a) return Answer(Error(404, "no such account"));
    return Answer(Ok({{"bank_id", bank_id},
                      {"credit", a->credit},
                      {"pending_withdrawals", a->pending_withdrawals},
                      {"pending_deposits", a->pending_deposits}}));
  }
  if (path == "/admin/reservations") {
    if (!method_is("GET")) return Answer(Error(405, "use GET"));
    return Answer(Ok(bank_.Reservations(now)));
  }
  if (path == "/admin/logs") {
    if (!method_is("GET")) return Answer(Error(405, "use GET"));
    size_t since = 0;
    std::string s = req.QueryParam("since");
    if (!s.empty()) {
      try {
        since = std::stoull(s);
      } catch (const std::exception&) {
        return Answer(Error(400, "since must be a non-negative integer"));
      }
    }
    return Answer(Ok(logger_.Records(since)));
  }
  if (path == "/admin/stats") {
    if (!method_is("GET")) return Answer(Error(405, "use GET"));
    return Answer(Ok(json(stats_)));
  }
  if (path == "/admin/faults") {
    if (method_is("GET")) return Answer(Ok(FaultsJson(faults_)));
    if (!method_is("POST")) return Answer(Error(405, "use GET or POST"));
    auto body = ParseObject(req.body, &error);
    if (!body) return Answer(error);
    Faults f = faults_;
    if (!ParseRate(*body, "fail_rate", &f.fail_rate, &error) || !ParseRate(*body, "slow_rate", &f.slow_rate, &error) ||
        !ParseRate(*body, "drop_rate", &f.drop_rate, &error)) {
      return Answer(error);
    }
    if (body->contains("slow_ms")) {
      if (!GetInt(*body, "slow_ms", &f.slow_ms, &error)) return Answer(error);
      if (f.slow_ms < 0) return Answer(Error(400, "slow_ms must not be negative"));
    }
    if (f.fail_rate + f.drop_rate > 1) return Answer(Error(400, "fail_rate + drop_rate must not exceed 1"));
    faults_ = f;
    return Answer(Ok(FaultsJson(faults_)));
  }
  if (path == "/admin/reset") {
    if (!method_is("POST")) return Answer(Error(405, "use POST"));
    bank_.Reset();
    logger_.Reset();
    stats_.clear();
    faults_ = config_.faults;
    return Answer(Ok());
  }
  return Answer(Error(404, "no such admin endpoint: " + path));
}

}  // namespace isusim
