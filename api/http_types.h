// The request and response as the routes see them: plain values, copied out of Pistache so
// that a route can finish on a worker thread after the reactor has moved on.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace isucoin::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // as sent, before '?', not decoded
  std::string query;   // after '?', not decoded
  std::string body;
  std::optional<std::string> session_cookie;  // value of isucoin_session
  std::string if_none_match, if_modified_since;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra: ETag, Set-Cookie, …
};

HttpResponse JsonResponse(int status, std::string body);
HttpResponse ErrorResponse(int status, const std::string& message);

// Answers one request exactly once, from any thread. If dropped unanswered (a bug), it
// answers 500 itself, so a client never hangs on a lost request.
class Reply {
 public:
  virtual ~Reply() = default;
  virtual void Send(HttpResponse response) = 0;
};
using ReplyPtr = std::shared_ptr<Reply>;

}  // namespace isucoin::api
