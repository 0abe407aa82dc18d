#include "tools/loadgen/http_client.h"

#include <cctype>
#include <cstring>

namespace isucoin::loadgen {

namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Picks the session cookie out of the Set-Cookie headers; everything else is ignored.
size_t ReadHeader(char* data, size_t size, size_t n, void* out) {
  auto* response = static_cast<HttpResponse*>(out);
  std::string line(data, size * n);
  static constexpr char kPrefix[] = "set-cookie:";
  if (line.size() < sizeof(kPrefix) - 1) return size * n;
  for (size_t i = 0; i < sizeof(kPrefix) - 1; ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kPrefix[i]) return size * n;
  }
  std::string value = line.substr(sizeof(kPrefix) - 1);
  auto start = value.find("isucoin_session=");
  if (start == std::string::npos) return size * n;
  start += std::strlen("isucoin_session=");
  auto end = value.find_first_of(";\r\n", start);
  response->session_cookie = value.substr(start, end == std::string::npos ? end : end - start);
  if (value.find("Max-Age=0") != std::string::npos) response->cookie_cleared = true;
  return size * n;
}

Transport Classify(CURLcode code) {
  switch (code) {
    case CURLE_OK: return Transport::kOk;
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return Transport::kUnavailable;
    case CURLE_OPERATION_TIMEDOUT: return Transport::kTimeout;
    default: return Transport::kOther;
  }
}

}  // namespace

HttpClient::HttpClient(std::string base, std::chrono::milliseconds timeout)
    : base_(std::move(base)), timeout_(timeout), curl_(curl_easy_init()) {}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

HttpResponse HttpClient::Get(const std::string& path, const std::string& cookie) {
  return Perform("GET", path, nullptr, cookie, false);
}

HttpResponse HttpClient::Post(const std::string& path, const std::string& body,
                              const std::string& cookie, bool json_body) {
  return Perform("POST", path, &body, cookie, json_body);
}

HttpResponse HttpClient::Delete(const std::string& path, const std::string& cookie) {
  return Perform("DELETE", path, nullptr, cookie, false);
}

HttpResponse HttpClient::Perform(const char* method, const std::string& path,
                                 const std::string* body, const std::string& cookie,
                                 bool json_body) {
  HttpResponse response;
  curl_easy_reset(curl_);  // keeps the connection cache: the connection stays alive
  const std::string url = base_ + path;
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response);
  curl_slist* headers = nullptr;
  if (json_body) headers = curl_slist_append(headers, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip: forms are small.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  std::string cookie_header;
  if (!cookie.empty()) {
    cookie_header = "isucoin_session=" + cookie;
    curl_easy_setopt(curl_, CURLOPT_COOKIE, cookie_header.c_str());
  }
  if (std::strcmp(method, "POST") == 0) {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  } else if (std::strcmp(method, "DELETE") == 0) {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  const auto start = std::chrono::steady_clock::now();
  CURLcode code = curl_easy_perform(curl_);
  response.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  curl_slist_free_all(headers);
  response.transport = Classify(code);
  long connects = 0;
  curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &connects);
  response.maybe_sent_twice = connected_ && connects > 0;
  connected_ = response.transport == Transport::kOk;
  if (response.transport == Transport::kOk) {
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.error = curl_easy_strerror(code);
  }
  return response;
}

std::string FormEscape(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace isucoin::loadgen
