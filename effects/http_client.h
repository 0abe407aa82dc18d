// HttpClient: the thin libcurl layer under the bank and logger clients (DESIGN.md "Effects").
//
// Both external services are slow per call but fast in parallel, so callers run many requests
// at once from many threads. Every request therefore borrows an easy handle from a pool owned
// by the client and gives it back afterwards: a handle keeps its connection open (keep-alive),
// so a steady load reuses a warm connection per concurrent caller instead of paying a TCP
// handshake per request. The pool grows to the peak number of concurrent requests and is
// freed with the client.
//
// Transport failures are values, not exceptions: a timeout is Status::Timeout, every other
// failure to get an HTTP answer (connection refused, reset, empty reply) is
// Status::Unavailable, both with curl's own message. Any HTTP answer, whatever its status, is
// a successful Result: interpreting 4xx/5xx is the caller's business.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "events/status.h"

namespace isucoin::effects {

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` as application/json with `Authorization: Bearer <bearer>` (no header when
  // `bearer` is empty). `timeout` bounds the whole exchange, connection included.
  // Safe to call from any number of threads at once.
  Result<HttpResponse> PostJson(const std::string& url, const std::string& body,
                                const std::string& bearer, std::chrono::milliseconds timeout);

 private:
  void* Acquire();  // a CURL*, kept opaque so that users of this header need no curl.h
  void Release(void* handle);

  std::mutex mu_;
  std::vector<void*> idle_;
};

}  // namespace isucoin::effects
