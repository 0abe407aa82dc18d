// A small blocking HTTP client on one libcurl easy handle: one kept-alive connection per
// client, so each simulated user (and each of its pollers) holds its own connection like a
// browser tab does. Never throws; transport failures come back classified, because a load
// generator must tell "the server is down" (expected during a restart) from "the server
// answered wrong" (a SPEC violation).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>

namespace isucoin::loadgen {

enum class Transport {
  kOk,           // an HTTP answer arrived (any status)
  kUnavailable,  // connection refused/reset, empty reply: the server is down or restarting
  kTimeout,      // no answer within the request timeout
  kOther,        // anything else curl reports
};

struct HttpResponse {
  Transport transport = Transport::kOther;
  long status = 0;
  std::string body;
  std::string session_cookie;  // value of Set-Cookie isucoin_session=…, when one was set
  bool cookie_cleared = false; // Set-Cookie isucoin_session with Max-Age=0
  std::chrono::microseconds latency{0};
  // The request went out on a new connection although a kept-alive one existed. libcurl
  // silently re-sends a request whose reused connection died before any answer byte (it
  // happens when the server is killed mid-request): the server may have received it twice.
  bool maybe_sent_twice = false;
  std::string error;           // curl's message when transport != kOk
};

class HttpClient {
 public:
  // `base` like "http://127.0.0.1:5000" (no trailing slash).
  explicit HttpClient(std::string base, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `cookie` is the isucoin_session value to send (empty: none). `body` is a form for POST,
  // JSON when `json_body` is set (the simulator's admin API).
  HttpResponse Get(const std::string& path, const std::string& cookie = "");
  HttpResponse Post(const std::string& path, const std::string& body, const std::string& cookie = "",
                    bool json_body = false);
  HttpResponse Delete(const std::string& path, const std::string& cookie = "");

  const std::string& base() const { return base_; }

 private:
  HttpResponse Perform(const char* method, const std::string& path, const std::string* body,
                       const std::string& cookie, bool json_body);

  std::string base_;
  std::chrono::milliseconds timeout_;
  CURL* curl_;
  bool connected_ = false;  // the last request left a kept-alive connection
};

// application/x-www-form-urlencoded escaping of one value.
std::string FormEscape(const std::string& value);

}  // namespace isucoin::loadgen
