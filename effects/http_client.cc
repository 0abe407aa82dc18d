#include "effects/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace isucoin::effects {
namespace {

void GlobalInitOnce() {
  // curl_global_init is not thread-safe and must precede every other curl call.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      std::fprintf(stderr, "isucoin: curl_global_init failed\n");
      std::abort();
    }
  });
}

std::size_t AppendBody(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Frees a header list on every path out of PostJson.
struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  bool Add(const std::string& header) {
    curl_slist* next = curl_slist_append(list, header.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

}  // namespace

HttpClient::HttpClient() { GlobalInitOnce(); }

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::Release(void* handle) {
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

Result<HttpResponse> HttpClient::PostJson(const std::string& url, const std::string& body,
                                          const std::string& bearer,
                                          std::chrono::milliseconds timeout) {
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return Status::Unavailable("curl_easy_init failed");

  HeaderList headers;
  bool headers_ok = headers.Add("Content-Type: application/json") &&
                    headers.Add("Connection: keep-alive") &&
                    // Without this curl may wait up to a second for "100 Continue" before
                    // sending a large body (ISULOGGER bulk requests approach 1 MB).
                    headers.Add("Expect:") &&
                    (bearer.empty() || headers.Add("Authorization: Bearer " + bearer));
  if (!headers_ok) {
    Release(curl);
    return Status::Unavailable("curl_slist_append failed");
  }

  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  const long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count()));
  // Every option is set on every call, so a handle carries nothing over from its last use
  // except its open connection.
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  // Signals cannot be used for timeouts in a multi-threaded process.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);

  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  // The handle must not keep pointers into this call's locals.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);

  if (rc != CURLE_OK) {
    // A failed transfer may leave its connection half-used; curl closes it itself, and the
    // handle stays reusable.
    Release(curl);
    std::string message = "POST " + url + ": " + (error[0] ? error : curl_easy_strerror(rc));
    if (rc == CURLE_OPERATION_TIMEDOUT) return Status::Timeout(std::move(message));
    return Status::Unavailable(std::move(message));
  }
  Release(curl);
  return response;
}

}  // namespace isucoin::effects
