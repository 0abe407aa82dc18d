#include "tests/api/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace isucoin::api::testing {

namespace {
size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
}  // namespace

HttpClient::HttpClient() : curl_(curl_easy_init()) {
  curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, "");  // enable the cookie engine
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

HttpResult HttpClient::Request(const std::string& method, const std::string& url,
                               const std::string& body, const std::vector<std::string>& headers) {
  HttpResult r;
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  if (method == "POST") {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &r.headers);
  CURLcode rc = curl_easy_perform(curl_);
  curl_slist_free_all(list);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK) {
    r.status = -1;
    r.body = curl_easy_strerror(rc);
    return r;
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &r.num_connects);
  return r;
}

HttpResult HttpClient::Get(const std::string& url, const std::vector<std::string>& headers) {
  return Request("GET", url, "", headers);
}
HttpResult HttpClient::Post(const std::string& url, const std::string& form) {
  return Request("POST", url, form);
}
HttpResult HttpClient::Delete(const std::string& url) { return Request("DELETE", url, ""); }

std::string RawExchange(int port, const std::string& raw, int responses, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, raw.data(), raw.size());
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto count = [&] {
    int n = 0;
    for (std::size_t p = out.find("HTTP/1."); p != std::string::npos;
         p = out.find("HTTP/1.", p + 1)) {
      ++n;
    }
    return n;
  };
  while (count() < responses || out.rfind("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  // Give the last body a moment to arrive after its headers.
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 100) > 0) {
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace isucoin::api::testing
