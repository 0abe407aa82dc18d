#include "tools/httpfuzz/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace isucoin::httpfuzz {

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

const std::string* Response::Header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

bool Response::CloseAnnounced() const {
  const std::string* c = Header("connection");
  return c != nullptr && Lower(*c).find("close") != std::string::npos;
}

std::optional<Connection> Connection::Open(const std::string& host, std::uint16_t port,
                                           std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return std::nullopt;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    *error = "not an IPv4 address: " + host;
    return std::nullopt;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return Connection(fd);
}

Connection::Connection(Connection&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::SendAll(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

int Connection::Fill(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -2;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return -2;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == ECONNRESET ? 0 : -1;  // a reset after the last answer is an end
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return static_cast<int>(n);
  }
}

ReadOutcome Connection::Read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ReadOutcome out;
  auto fail = [&](ReadOutcome::Kind kind, std::string problem) {
    out.kind = kind;
    out.problem = std::move(problem);
    return out;
  };
  for (;;) {
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (buffer_.size() > 65536) return fail(ReadOutcome::Kind::kMalformed, "head over 64 KiB");
      int n = Fill(deadline);
      if (n == -2) return fail(ReadOutcome::Kind::kTimeout, "no answer in time");
      if (n < 0) return fail(ReadOutcome::Kind::kError, std::strerror(errno));
      if (n == 0) {
        if (buffer_.empty()) return fail(ReadOutcome::Kind::kEof, "");
        return fail(ReadOutcome::Kind::kMalformed, "connection closed inside an answer's head");
      }
    }
    Response r;
    std::string head = buffer_.substr(0, head_end);
    std::size_t line_end = head.find("\r\n");
    r.status_line = head.substr(0, line_end);
    // "HTTP/1.1 200 OK": version, one space, three digits, then a space or the end.
    const std::string& s = r.status_line;
    if (s.size() < 12 || (s.compare(0, 9, "HTTP/1.1 ") != 0 && s.compare(0, 9, "HTTP/1.0 ") != 0) ||
        !AllDigits(s.substr(9, 3)) || (s.size() > 12 && s[12] != ' ')) {
      return fail(ReadOutcome::Kind::kMalformed, "bad status line: " + s.substr(0, 80));
    }
    r.status = std::stoi(s.substr(9, 3));
    std::optional<std::size_t> length;
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t eol = head.find("\r\n", pos);
      if (eol == std::string::npos) eol = head.size();
      std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string::npos || colon == 0 || line.find('\n') != std::string::npos ||
          line.find('\r') != std::string::npos) {
        return fail(ReadOutcome::Kind::kMalformed, "bad header line: " + line.substr(0, 80));
      }
      std::string name = Lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "content-length") {
        if (!AllDigits(value) || value.size() > 12 || (length && *length != std::stoul(value))) {
          return fail(ReadOutcome::Kind::kMalformed, "bad Content-Length: " + value);
        }
        length = std::stoul(value);
      }
      if (name == "transfer-encoding") {
        return fail(ReadOutcome::Kind::kMalformed, "chunked answers are not expected");
      }
      r.headers.emplace_back(std::move(name), std::move(value));
    }
    bool interim = r.status >= 100 && r.status < 200;
    bool bodiless = interim || r.status == 204 || r.status == 304;
    if (!length && !bodiless) {
      return fail(ReadOutcome::Kind::kMalformed, "answer " + s + " without Content-Length");
    }
    std::size_t body_len = length.value_or(0);
    while (buffer_.size() < head_end + 4 + body_len) {
      int n = Fill(deadline);
      if (n == -2) return fail(ReadOutcome::Kind::kTimeout, "body did not arrive in time");
      if (n <= 0) return fail(ReadOutcome::Kind::kMalformed, "connection closed inside a body");
    }
    r.body = buffer_.substr(head_end + 4, body_len);
    buffer_.erase(0, head_end + 4 + body_len);
    if (interim) continue;
    out.kind = ReadOutcome::Kind::kResponse;
    out.response = std::move(r);
    return out;
  }
}

std::optional<Response> Exchange(const std::string& host, std::uint16_t port,
                                 const std::string& request_bytes,
                                 std::chrono::milliseconds timeout, std::string* why) {
  std::string error;
  auto conn = Connection::Open(host, port, &error);
  if (!conn || !conn->SendAll(request_bytes)) {
    if (why) *why = conn ? "send failed" : error;
    return std::nullopt;
  }
  auto got = conn->Read(timeout);
  if (got.kind != ReadOutcome::Kind::kResponse) {
    if (why) *why = got.kind == ReadOutcome::Kind::kEof ? "closed without an answer" : got.problem;
    return std::nullopt;
  }
  return std::move(got.response);
}

std::string SimpleRequest(const std::string& method, const std::string& target,
                          const std::string& body, const std::string& content_type,
                          const std::string& extra) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
  if (!body.empty() || method == "POST") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += extra;
  r += "Connection: close\r\n\r\n";
  return r + body;
}

}  // namespace isucoin::httpfuzz
