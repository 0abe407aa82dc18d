// A libcurl client for api tests: one easy handle (so one kept-alive connection), a cookie
// engine, and the counters the pitfall tests look at.
#pragma once

#include <curl/curl.h>

#include <string>
#include <vector>

namespace isucoin::api::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::string headers;
  long num_connects = 0;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Get(const std::string& url, const std::vector<std::string>& headers = {});
  HttpResult Post(const std::string& url, const std::string& form);
  HttpResult Delete(const std::string& url);
  HttpResult Request(const std::string& method, const std::string& url, const std::string& body,
                     const std::vector<std::string>& headers = {});

 private:
  CURL* curl_;
};

// Writes `raw` on a fresh TCP connection, reads until `responses` answers arrived (or the
// timeout): for pipelining and framing tests curl cannot express.
std::string RawExchange(int port, const std::string& raw, int responses, int timeout_ms = 5000);

}  // namespace isucoin::api::testing
