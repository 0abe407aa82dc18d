#include "tools/httpfuzz/oracle.h"

#include <nlohmann/json.hpp>

namespace isucoin::httpfuzz {

namespace {

using nlohmann::json;

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// 400 messages the api writes itself, before appending anything (api/routes_*.cc, server.cc).
bool ApiOwnRefusal(const std::string& message) {
  static const std::vector<std::string> kPrefixes = {
      "malformed", "bad Content-Length", "name, bank_id and password are required",
      "bank_id and password are required", "password is longer than 72 bytes",
      "type must be buy or sell", "amount must be an integer", "price must be an integer",
      "cursor must be a non-negative integer", "銀行口座が見つからないため"};
  for (const auto& p : kPrefixes) {
    if (StartsWith(message, p)) return true;
  }
  return message.size() > 12 && message.substr(message.size() - 12) == " is required";
}

bool IsApiPath(const std::string& path) {
  return path == "/initialize" || path == "/signup" || path == "/signin" || path == "/signout" ||
         path == "/orders" || path == "/info" || path == "/metrics" ||
         StartsWith(path, "/order/");
}

}  // namespace

Route RouteOf(const std::string& bytes) {
  Route r;
  std::size_t start = 0;
  while (start + 1 < bytes.size() && bytes[start] == '\r' && bytes[start + 1] == '\n') start += 2;
  std::string_view in = std::string_view(bytes).substr(start);
  std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return r;
  std::string_view line = in.substr(0, std::min(in.find("\r\n"), head_end));
  auto sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return r;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (sp1 == 0 || target.empty() || target[0] != '/' ||
      (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    return r;
  }
  r.valid = true;
  r.method = std::string(line.substr(0, sp1));
  r.path = std::string(target.substr(0, target.find('?')));
  return r;
}

std::vector<std::string> GeneralProblems(const Response& response, bool transfer_encoding) {
  std::vector<std::string> problems;
  if (response.status >= 500 && !(response.status == 501 && transfer_encoding)) {
    problems.push_back("5xx: " + response.status_line);
  }
  if (response.status == 304 && !response.body.empty()) problems.push_back("304 with a body");
  return problems;
}

Verdict Judge(const PlannedRequest& request, const Response& response) {
  Verdict v;
  v.problems = GeneralProblems(response, request.transfer_encoding);
  auto problem = [&](const std::string& p) { v.problems.push_back(p); };
  const Route route = RouteOf(request.bytes);
  const int status = response.status;
  const bool is_static = route.valid && route.method == "GET" && !IsApiPath(route.path);
  const bool is_metrics = route.valid && route.method == "GET" && route.path == "/metrics";

  if (!route.valid && !request.framing_tail && status < 400) {
    problem("a request line the framer must refuse was answered " + std::to_string(status));
  }
  if (status == 304 || ((is_static || is_metrics) && status < 300)) return v;

  // JSON everywhere else (SPEC.md conventions).
  const std::string* type = response.Header("content-type");
  if (type == nullptr || !StartsWith(*type, "application/json")) {
    problem("Content-Type is not application/json: " + (type ? *type : std::string("(none)")));
  }
  json body = json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    problem("body is not JSON: " + response.body.substr(0, 120));
    return v;
  }
  std::string message;
  if (status >= 300) {
    if (!body.is_object() || !body.contains("error") || !body["error"].is_string()) {
      problem("non-2xx without {\"error\": string}: " + response.body.substr(0, 120));
    } else {
      message = body["error"].get<std::string>();
    }
  }
  if (!route.valid) return v;
  const std::string& m = route.method;
  const std::string& p = route.path;

  // 2xx shapes.
  if (status >= 200 && status < 300) {
    auto id_ok = [&](const json& j) { return j.is_number_integer() && j.get<std::int64_t>() > 0; };
    if (m == "GET" && p == "/info") {
      if (!body.is_object() || !body.contains("cursor") || !body["cursor"].is_number_integer() ||
          !body["chart_by_sec"].is_array() || !body["chart_by_min"].is_array() ||
          !body["chart_by_hour"].is_array() || !body["enable_share"].is_boolean()) {
        problem("GET /info answer lacks its keys");
      }
    } else if (m == "GET" && p == "/orders") {
      if (!body.is_array()) problem("GET /orders answer is not an array");
    } else if (m == "POST" && p == "/orders") {
      if (!body.is_object() || body.size() != 1 || !id_ok(body["id"])) problem("POST /orders 200 without {id}");
    } else if (m == "DELETE" && StartsWith(p, "/order/")) {
      if (!body.is_object() || body.size() != 1 || body["id"].dump() != p.substr(7)) {
        problem("DELETE 200 does not echo the id: " + response.body);
      }
    } else if (m == "POST" && p == "/signin") {
      const std::string* cookie = response.Header("set-cookie");
      if (!body.is_object() || !id_ok(body["id"]) || !body["name"].is_string() || cookie == nullptr ||
          !StartsWith(*cookie, "isucoin_session=")) {
        problem("signin 200 without {id, name} and the session cookie");
      }
    } else if (m == "POST" && (p == "/signup" || p == "/signout")) {
      if (body != json::object()) problem(p + " 200 is not {}");
    } else if (m == "POST" && p == "/initialize") {
      problem("an invalid /initialize was accepted");
    }
  }

  // What was recorded (see the header).
  auto matcher_said = [&]() {
    bool own = ApiOwnRefusal(message);
    if (status == 400 && !own) v.matcher_rejection = true;
    return status == 400 && !own;
  };
  if (m == "POST" && p == "/signin") {
    if (status == 200 || (status == 404 && message == "bank_id or password is not correct") ||
        (status == 403 && StartsWith(message, "too many failed sign-ins")) || matcher_said()) {
      v.recorded = "SigninRecorded";
    }
  } else if (m == "POST" && p == "/signup") {
    if (status == 200 || (status == 409 && message == "bank_id is already registered") || matcher_said()) {
      v.recorded = "SignupRequested";
    }
  } else if (m == "POST" && p == "/orders") {
    if (status == 400 && message == "銀行の残高が足りません") {
      v.recorded = "BuyCreditRefused";
    } else if (status == 200 || matcher_said()) {
      v.recorded = "OrderPlaced";
    }
  } else if (m == "DELETE" && StartsWith(p, "/order/")) {
    if (status == 200 || (status == 404 && message == "order not found, not yours, or already closed") ||
        matcher_said()) {
      v.recorded = "CancelRequested";
    }
  } else if (m == "POST" && p == "/initialize" && status == 200) {
    v.recorded = "ResetRequested";
  }
  return v;
}

}  // namespace isucoin::httpfuzz
