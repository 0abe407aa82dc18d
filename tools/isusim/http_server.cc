#include "tools/isusim/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace isusim {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr uint64_t kWakeTag = 0;
constexpr uint64_t kFirstListenerTag = 1;
constexpr uint64_t kFirstConnId = 1u << 20;  // above every listener tag

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string ErrorBody(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump();
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::string HttpRequest::QueryParam(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

std::string PercentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

struct HttpServer::Impl {
  enum class State { kReading, kWaiting, kWriting, kClosed };

  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    const Handler* handler = nullptr;
    State state = State::kReading;
    std::string in;
    size_t in_pos = 0;  // bytes of `in` already consumed
    std::string out;
    size_t out_pos = 0;
    uint32_t interest = 0;
    // The request being read, once its headers are complete.
    bool have_headers = false;
    HttpRequest req;
    size_t body_len = 0;
    bool keep_alive = true;
    bool http10 = false;
    bool close_after_write = false;
  };

  struct Timer {
    Clock::time_point due;
    uint64_t seq;
    uint64_t conn_id;
    Reply reply;
  };
  static bool TimerLater(const Timer& a, const Timer& b) {
    return a.due != b.due ? a.due > b.due : a.seq > b.seq;
  }

  int epfd = -1;
  int wakefd = -1;
  std::vector<int> listen_fds;
  std::vector<std::unique_ptr<Handler>> handlers;  // stable addresses, one per listener
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  std::vector<uint64_t> closed;  // erased at the end of a loop turn, so callers never dangle
  std::vector<Timer> timers;     // a min-heap on (due, seq)
  uint64_t next_conn_id = kFirstConnId;
  uint64_t next_seq = 0;

  Impl() {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd < 0 || wakefd < 0) throw std::runtime_error(std::string("epoll/eventfd: ") + strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
  }

  ~Impl() {
    for (auto& [id, c] : conns) {
      if (c->fd >= 0) close(c->fd);
    }
    // Answers never sent still owe their completion callbacks (in-flight counters).
    for (auto& t : timers) {
      if (t.reply.on_done) t.reply.on_done();
    }
    for (int fd : listen_fds) close(fd);
    if (wakefd >= 0) close(wakefd);
    if (epfd >= 0) close(epfd);
  }

  void SetInterest(Conn& c, uint32_t events) {
    if (c.state == State::kClosed || c.interest == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
    c.interest = events;
  }

  void Close(Conn& c) {
    if (c.state == State::kClosed) return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    c.state = State::kClosed;
    closed.push_back(c.id);
  }

  Conn* Find(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end() || it->second->state == State::kClosed) return nullptr;
    return it->second.get();
  }

  void Accept(int lfd, const Handler* handler) {
    for (;;) {
      int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of fds: the backlog keeps them for the next turn
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->id = next_conn_id++;
      c->fd = fd;
      c->handler = handler;
      c->interest = EPOLLIN | EPOLLRDHUP;
      epoll_event ev{};
      ev.events = c->interest;
      ev.data.u64 = c->id;
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        continue;
      }
      conns.emplace(c->id, std::move(c));
    }
  }

  // Answers a request the server itself rejects, then closes: the stream cannot be trusted.
  void FailConnection(Conn& c, int status, std::string_view message) {
    Reply r;
    r.response.status = status;
    r.response.body = ErrorBody(message);
    c.keep_alive = false;
    c.state = State::kWaiting;
    Respond(c, std::move(r));
  }

  // Parses the header block at c.in_pos. Returns false (after failing the connection) on error.
  bool ParseHeaders(Conn& c, size_t end) {
    std::string_view block(c.in.data() + c.in_pos, end - c.in_pos);
    size_t line_end = block.find("\r\n");
    std::string_view line = block.substr(0, line_end);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
      FailConnection(c, 400, "malformed request line");
      return false;
    }
    HttpRequest req;
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::string_view version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
      FailConnection(c, 400, "unsupported HTTP version");
      return false;
    }
    c.http10 = version == "HTTP/1.0";
    size_t q = req.target.find('?');
    req.path = PercentDecode(std::string_view(req.target).substr(0, q));
    if (q != std::string::npos) req.query = req.target.substr(q + 1);

    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : block.substr(line_end + 2);
    bool have_length = false;
    size_t length = 0;
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view h = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
      if (h.empty()) continue;
      size_t colon = h.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        FailConnection(c, 400, "malformed header line");
        return false;
      }
      req.headers.emplace_back(Lower(Trim(h.substr(0, colon))), std::string(Trim(h.substr(colon + 1))));
    }
    for (const auto& [k, v] : req.headers) {
      if (k == "content-length") {
        if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          FailConnection(c, 400, "invalid Content-Length");
          return false;
        }
        size_t n = std::stoull(v);
        if (have_length && n != length) {
          FailConnection(c, 400, "conflicting Content-Length headers");
          return false;
        }
        have_length = true;
        length = n;
      } else if (k == "transfer-encoding" && Lower(v) != "identity") {
        // Clients of these services send a Content-Length; chunked bodies are not worth the code.
        FailConnection(c, 501, "Transfer-Encoding is not supported; send Content-Length");
        return false;
      }
    }
    if (length > kHardBodyLimit) {
      FailConnection(c, 413, "request body too large");
      return false;
    }
    std::string conn_hdr = Lower(req.Header("connection"));
    c.keep_alive = c.http10 ? conn_hdr.find("keep-alive") != std::string::npos
                            : conn_hdr.find("close") == std::string::npos;
    c.in_pos = end + 4;
    c.body_len = length;
    c.req = std::move(req);
    c.have_headers = true;
    // curl waits up to a second for this before sending a large body.
    if (Lower(c.req.Header("expect")) == "100-continue" && c.in.size() - c.in_pos < c.body_len) {
      c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
      Flush(c);
    }
    return true;
  }

  // Reads every complete request available while the connection is idle, one at a time:
  // a pipelined request waits until the answer before it is out, which keeps answers in order.
  void Process(Conn& c) {
    while (c.state == State::kReading) {
      if (!c.have_headers) {
        size_t end = c.in.find("\r\n\r\n", c.in_pos);
        if (end == std::string::npos) {
          if (c.in.size() - c.in_pos > kMaxHeaderBytes) FailConnection(c, 431, "request headers too large");
          break;
        }
        if (end - c.in_pos > kMaxHeaderBytes) {
          FailConnection(c, 431, "request headers too large");
          break;
        }
        if (!ParseHeaders(c, end)) break;
        if (c.state == State::kClosed) break;
      }
      if (c.in.size() - c.in_pos < c.body_len) break;
      c.req.body.assign(c.in, c.in_pos, c.body_len);
      c.in_pos += c.body_len;
      c.have_headers = false;
      if (c.in_pos == c.in.size()) {
        c.in.clear();
        c.in_pos = 0;
      } else if (c.in_pos > (1u << 16)) {
        c.in.erase(0, c.in_pos);
        c.in_pos = 0;
      }
      Dispatch(c);
    }
  }

  void Dispatch(Conn& c) {
    Reply reply;
    try {
      reply = (*c.handler)(c.req);
    } catch (const std::exception& e) {
      reply = Reply{};
      reply.response.status = 500;
      reply.response.body = ErrorBody(std::string("simulator bug: ") + e.what());
    }
    c.req = HttpRequest{};
    c.state = State::kWaiting;
    SetInterest(c, 0);  // hangups still arrive as EPOLLHUP/EPOLLERR
    if (reply.delay.count() <= 0) {
      Respond(c, std::move(reply));
      return;
    }
    timers.push_back(Timer{Clock::now() + reply.delay, next_seq++, c.id, std::move(reply)});
    std::push_heap(timers.begin(), timers.end(), TimerLater);
  }

  void Respond(Conn& c, Reply reply) {
    if (reply.drop) {
      Close(c);
    } else {
      const HttpResponse& r = reply.response;
      std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + Reason(r.status) + "\r\n";
      head += "Content-Type: " + r.content_type + "\r\n";
      head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
      if (!c.keep_alive) {
        head += "Connection: close\r\n";
      } else if (c.http10) {
        head += "Connection: keep-alive\r\n";
      }
      head += "\r\n";
      c.out += head;
      c.out += r.body;
      c.close_after_write = !c.keep_alive;
      c.state = State::kWriting;
      Flush(c);
    }
    if (reply.on_done) reply.on_done();
  }

  // Writes what it can; once a whole answer is out, the connection reads again (or closes).
  void Flush(Conn& c) {
    while (c.out_pos < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_pos += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        SetInterest(c, EPOLLOUT);
        return;
      }
      Close(c);
      return;
    }
    c.out.clear();
    c.out_pos = 0;
    if (c.state == State::kWriting) {
      if (c.close_after_write) {
        Close(c);
        return;
      }
      c.state = State::kReading;
    }
    if (c.state == State::kReading) SetInterest(c, EPOLLIN | EPOLLRDHUP);
    if (c.state == State::kWaiting) SetInterest(c, 0);
  }

  void OnReadable(Conn& c) {
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // EOF or error. Requests already buffered are still served only if complete; a client
      // that half-closes after sending is rare enough to simply close on.
      Close(c);
      return;
    }
    Process(c);
  }

  void OnEvent(uint64_t tag, uint32_t events) {
    Conn* c = Find(tag);
    if (!c) return;
    if (events & EPOLLERR) {
      Close(*c);
      return;
    }
    if ((events & EPOLLOUT) && !c->out.empty()) {
      Flush(*c);
      if (c->state == State::kReading) Process(*c);
      return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP)) {
      if (c->state == State::kReading) OnReadable(*c);
      return;
    }
    if (events & EPOLLHUP) Close(*c);
  }

  void FireTimers() {
    auto now = Clock::now();
    while (!timers.empty() && timers.front().due <= now) {
      std::pop_heap(timers.begin(), timers.end(), TimerLater);
      Timer t = std::move(timers.back());
      timers.pop_back();
      Conn* c = Find(t.conn_id);
      if (!c) {
        if (t.reply.on_done) t.reply.on_done();
        continue;
      }
      Respond(*c, std::move(t.reply));
      if (c->state == State::kReading) Process(*c);
    }
  }

  int TimeoutMs() const {
    if (timers.empty()) return -1;
    auto wait = timers.front().due - Clock::now();
    if (wait <= Clock::duration::zero()) return 0;
    // Round up so a timer is never woken for early and spun on.
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
  }

  void Run() {
    std::vector<epoll_event> events(256);
    for (;;) {
      int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), TimeoutMs());
      if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + strerror(errno));
      for (int i = 0; i < n; ++i) {
        uint64_t tag = events[i].data.u64;
        if (tag == kWakeTag) return;
        if (tag < kFirstConnId) {
          size_t idx = tag - kFirstListenerTag;
          Accept(listen_fds[idx], handlers[idx].get());
        } else {
          OnEvent(tag, events[i].events);
        }
      }
      FireTimers();
      for (uint64_t id : closed) conns.erase(id);
      closed.clear();
    }
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() = default;

uint16_t HttpServer::Listen(const std::string& host, uint16_t port, Handler handler) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4096) != 0) {
    std::string err = strerror(errno);
    close(fd);
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + err);
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  uint64_t tag = kFirstListenerTag + impl_->listen_fds.size();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev);
  impl_->listen_fds.push_back(fd);
  impl_->handlers.push_back(std::make_unique<Handler>(std::move(handler)));
  return ntohs(addr.sin_port);
}

void HttpServer::Run() { impl_->Run(); }

void HttpServer::Stop() {
  uint64_t one = 1;
  ssize_t ignored = write(impl_->wakefd, &one, sizeof one);
  (void)ignored;
}

}  // namespace isusim
