// The Pistache glue. Pistache provides the listener, the reactor threads and the transport
// (thread-safe writes: Transport::asyncWrite only enqueues on a lock-free queue the reactor
// drains, so a ResponseWriter may send from a worker thread). HTTP/1.x framing is ours:
// Pistache 0.0.5's parser drops every pipelined request after the first (ParserBase::reset()
// discards the rest of the buffer), answers oversize requests and handler exceptions with
// text bodies (the exception's message), and closes unless the request says keep-alive.
// See api/README.md "Pitfalls".
#include "api/server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>

#include "api/api_context.h"

namespace isucoin::api {

namespace Http = Pistache::Http;

namespace {

// A header Pistache writes verbatim (its Collection only writes typed headers).
class TextHeader final : public Http::Header::Header {
 public:
  TextHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
  uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }

 private:
  std::string name_, value_;
};

struct Outgoing {
  std::optional<Http::ResponseWriter> writer;
  HttpResponse response;
  bool keep_alive = true;
  bool skip = false;
};

// Per connection. Requests are numbered as they arrive; answers may complete on any thread
// in any order but are written in request order (HTTP/1.1 pipelining requires it).
struct Connection : std::enable_shared_from_this<Connection> {
  // Reactor thread only.
  std::string input;
  bool broken = false;  // framing lost: everything after is ignored
  bool expect_sent = false;
  std::uint64_t next_seq = 0;

  std::mutex mu;
  std::uint64_t next_send = 0;
  std::map<std::uint64_t, Outgoing> ready;
  // Answers handed to Pistache and not yet on the wire (see Handler::onInput).
  std::atomic<int> unwritten{0};
  // A write's continuation may run late, on the thread that attached it, after the client
  // left and the descriptor number went to a new connection: `gone` (set in onDisconnection,
  // before Pistache closes the descriptor) under `close_mu` keeps it off the stranger's socket.
  std::mutex close_mu;
  bool gone = false;

  bool Idle() {
    std::lock_guard lock(mu);
    return next_send == next_seq;
  }

  void Complete(std::uint64_t seq, Outgoing out) {
    std::lock_guard lock(mu);
    ready.emplace(seq, std::move(out));
    for (auto it = ready.find(next_send); it != ready.end(); it = ready.find(next_send)) {
      if (!it->second.skip) Write(it->second);
      ready.erase(it);
      ++next_send;
    }
  }

  void Write(Outgoing& out) {
    auto& w = *out.writer;
    auto& headers = w.headers();
    headers.remove<Http::Header::Connection>();
    headers.add<Http::Header::Connection>(out.keep_alive ? Http::ConnectionControl::KeepAlive
                                                          : Http::ConnectionControl::Close);
    if (!out.response.content_type.empty()) {
      headers.add(std::make_shared<TextHeader>("Content-Type", out.response.content_type));
    }
    for (auto& [name, value] : out.response.headers) {
      headers.add(std::make_shared<TextHeader>(name, value));
    }
    try {
      // Throws when the peer is gone: then there is nobody to answer.
      const auto peer = w.peer();
      const Pistache::Fd fd = peer->fd();
      unwritten.fetch_add(1);
      // A closed peer makes the promise rejected, never a throw; the try is for safety.
      w.send(static_cast<Http::Code>(out.response.status), out.response.body);
      // What must follow the answer hangs on an empty write queued right behind it (writes
      // of a connection go out in order), not on send()'s promise: Pistache resolves that
      // chained promise without its lock, so a continuation attached from a worker thread
      // while the reactor resolves it can be lost (tools/httpfuzz saw FINs go missing).
      std::weak_ptr<Connection> self = weak_from_this();
      const bool close = !out.keep_alive;
      peer->send(Pistache::RawBuffer("", 0))
          .then(
              [self, fd, close](ssize_t) {
                auto c = self.lock();
                if (!c) return;
                c->unwritten.fetch_sub(1);
                // Pistache 0.0.5 writes "Connection: Close" but keeps the socket open: a
                // client reading to the end (HTTP/1.0) would wait forever. Once the answer
                // is on the wire, send FIN (RFC 9112 9.6). Only the write side: the reactor
                // keeps draining what the client still sends (closing with unread input would
                // reset the connection and could destroy the answer in flight) and reaps the
                // peer, and the descriptor it owns, at the client's EOF or idle timeout.
                std::lock_guard lock(c->close_mu);
                if (close && !c->gone) ::shutdown(fd, SHUT_WR);
              },
              [self](std::exception_ptr) {
                if (auto c = self.lock()) c->unwritten.fetch_sub(1);
              });
    } catch (...) {
    }
  }
};

constexpr const char* kConnectionData = "isucoin.connection";

// What the peer's data holds. Pistache (uninstrumented) drops its reference to it on the
// reactor thread; the workers share only the Connection inside, so every reference count they
// touch is also released by our code, never first by an atomic TSan cannot see.
struct ConnectionSlot {
  std::shared_ptr<Connection> conn;
};

std::shared_ptr<Connection> ConnectionOf(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  auto slot = std::static_pointer_cast<ConnectionSlot>(peer->tryGetData(kConnectionData));
  return slot ? slot->conn : nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasToken(std::string_view list, std::string_view token) {
  std::string l = Lower(list);
  std::size_t pos = 0;
  while (pos <= l.size()) {
    auto comma = l.find(',', pos);
    if (comma == std::string::npos) comma = l.size();
    if (Trim(std::string_view(l).substr(pos, comma - pos)) == token) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Router {
  struct Route {
    std::string label;  // metrics label
    void (*handler)(ApiContext&, const HttpRequest&, ReplyPtr) = nullptr;
    std::string allow;  // set when the path exists but not for this method
  };

  static Route Find(const std::string& method, const std::string& path) {
    struct Entry {
      const char* path;
      bool prefix;
      const char* method;
      void (*handler)(ApiContext&, const HttpRequest&, ReplyPtr);
    };
    static const Entry kRoutes[] = {
        {"/initialize", false, "POST", &HandleInitialize},
        {"/signup", false, "POST", &HandleSignup},
        {"/signin", false, "POST", &HandleSignin},
        {"/signout", false, "POST", &HandleSignout},
        {"/orders", false, "GET", &HandleGetOrders},
        {"/orders", false, "POST", &HandlePostOrder},
        {"/order/", true, "DELETE", &HandleDeleteOrder},
        {"/info", false, "GET", &HandleInfo},
        {"/metrics", false, "GET", &HandleMetrics},
    };
    Route route;
    for (const auto& e : kRoutes) {
      bool match = e.prefix ? path.rfind(e.path, 0) == 0 : path == e.path;
      if (!match) continue;
      route.label = e.prefix ? std::string(e.path) + "{id}" : e.path;
      if (method == e.method) {
        route.handler = e.handler;
        route.allow.clear();
        return route;
      }
      route.allow += route.allow.empty() ? e.method : std::string(", ") + e.method;
    }
    if (!route.allow.empty()) return route;
    if (method == "GET") return Route{"static", &HandleStatic, ""};
    return Route{"unknown", nullptr, ""};
  }
};

class RequestReply final : public Reply {
 public:
  RequestReply(ApiContext& api, std::shared_ptr<Connection> conn, std::uint64_t seq,
               Http::ResponseWriter writer, bool keep_alive, std::string route)
      : api_(api),
        conn_(std::move(conn)),
        seq_(seq),
        writer_(std::move(writer)),
        keep_alive_(keep_alive),
        route_(std::move(route)),
        start_(std::chrono::steady_clock::now()) {}
  ~RequestReply() override {
    if (!sent_.load()) Send(ErrorResponse(500, "internal error"));
  }

  void Send(HttpResponse response) override {
    if (sent_.exchange(true)) return;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    auto& m = api_.metrics();
    m.Increment("isucoin_http_requests_total",
                {{"route", route_}, {"status", std::to_string(response.status)}});
    m.Observe("isucoin_http_request_duration_seconds", {{"route", route_}}, seconds);
    Outgoing out;
    out.writer.emplace(std::move(writer_));
    out.response = std::move(response);
    out.keep_alive = keep_alive_;
    conn_->Complete(seq_, std::move(out));
  }

 private:
  ApiContext& api_;
  std::shared_ptr<Connection> conn_;
  std::uint64_t seq_;
  Http::ResponseWriter writer_;
  bool keep_alive_;
  std::string route_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> sent_{false};
};

// Registered with the Pistache endpoint; cloned once per reactor thread.
class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  explicit Handler(std::shared_ptr<ApiContext> api) : api_(std::move(api)) {}

  void onRequest(const Http::Request&, Http::ResponseWriter) override {}  // never called

  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    peer->putData(kConnectionData,
                  std::make_shared<ConnectionSlot>(ConnectionSlot{std::make_shared<Connection>()}));
    // Pistache's transport looks up its own parser on every peer when it reaps idle
    // connections (TransportImpl::checkIdlePeers) and throws, killing the process, when there
    // is none. We frame requests ourselves, so the parser only serves as the peer's idle
    // clock, refreshed on every input below.
    peer->putData(Http::Handler::ParserData,
                  std::make_shared<Http::RequestParser>(api_->options().max_request_bytes));
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    if (auto conn = ConnectionOf(peer)) {
      std::lock_guard lock(conn->close_mu);
      conn->gone = true;  // Pistache closes the descriptor when this returns
    }
    Http::Handler::onDisconnection(peer);
  }

  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    try {
      if (auto clock = peer->tryGetData(Http::Handler::ParserData)) {
        std::static_pointer_cast<Http::RequestParser>(clock)->reset();  // "last heard from"
      }
      auto conn = ConnectionOf(peer);
      if (!conn) return;
      if (!conn->broken) {
        conn->input.append(buffer, len);
        while (!conn->broken && Next(*conn, peer)) {
        }
      }
      // Pistache 0.0.5 handles an epoll event as readable *or* writable: when a queued
      // answer's EPOLLOUT edge comes together with input, the edge is lost and the answer
      // waits for the connection's next write — forever if it was the last (tools/httpfuzz
      // found it). So while answers are pending, queue an empty write: it re-arms EPOLLOUT,
      // and the write it triggers drains everything queued for this connection. (Not
      // Transport::flush(): writing outside the EPOLLOUT handler leaves a stale event that
      // Pistache then treats as a fatal assertion.)
      if (conn->unwritten.load() > 0) peer->send(Pistache::RawBuffer("", 0));
    } catch (...) {
      // Nothing here may reach Pistache: it would answer with the exception's text.
    }
  }

 private:
  // Frames and dispatches one complete request from conn.input; false when more bytes are
  // needed (or framing is lost).
  bool Next(Connection& conn, const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    const std::size_t max = api_->options().max_request_bytes;
    std::string_view in = conn.input;
    // Tolerate the empty lines some clients send between requests (RFC 9112 2.2).
    std::size_t lead = 0;
    while (lead + 1 < in.size() && in[lead] == '\r' && in[lead + 1] == '\n') lead += 2;
    if (lead) {
      conn.input.erase(0, lead);
      in = conn.input;
    }
    std::size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
      if (in.size() > max) Fail(conn, peer, 413, "request too large");
      return false;
    }
    std::string_view head = in.substr(0, head_end);
    std::size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == sp2) {
      Fail(conn, peer, 400, "malformed request line");
      return false;
    }
    HttpRequest req;
    req.method = std::string(request_line.substr(0, sp1));
    std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = request_line.substr(sp2 + 1);
    if (req.method.empty() || target.empty() || target[0] != '/' ||
        (version != "HTTP/1.1" && version != "HTTP/1.0")) {
      Fail(conn, peer, 400, "malformed request line");
      return false;
    }
    auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));

    bool http11 = version == "HTTP/1.1";
    bool keep_alive = http11;
    std::optional<std::uint64_t> content_length;
    bool expect_continue = false;
    std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto eol = head.find("\r\n", pos);
      if (eol == std::string_view::npos) eol = head.size();
      std::string_view line = head.substr(pos, eol - pos);
      pos = eol + 2;
      auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        Fail(conn, peer, 400, "malformed header");
        return false;
      }
      std::string name = Lower(line.substr(0, colon));
      std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-length") {
        std::uint64_t n = 0;
        bool ok = !value.empty() && value.size() <= 18;
        for (char c : value) ok = ok && c >= '0' && c <= '9', n = n * 10 + (c - '0');
        // Two different lengths is how request smuggling starts: refuse.
        if (!ok || (content_length && *content_length != n)) {
          Fail(conn, peer, 400, "bad Content-Length");
          return false;
        }
        content_length = n;
      } else if (name == "transfer-encoding") {
        Fail(conn, peer, 501, "chunked request bodies are not supported");
        return false;
      } else if (name == "connection") {
        if (HasToken(value, "close")) keep_alive = false;
        if (HasToken(value, "keep-alive")) keep_alive = true;
      } else if (name == "cookie") {
        if (!req.session_cookie) req.session_cookie = FindCookie(value, kSessionCookie);
      } else if (name == "if-none-match") {
        req.if_none_match = std::string(value);
      } else if (name == "if-modified-since") {
        req.if_modified_since = std::string(value);
      } else if (name == "expect") {
        expect_continue = HasToken(value, "100-continue");
      }
    }
    std::size_t body_len = content_length.value_or(0);
    std::size_t total = head_end + 4 + body_len;
    if (total > max) {
      Fail(conn, peer, 413, "request too large");
      return false;
    }
    if (in.size() < total) {
      // curl waits for this before sending a body over 1 KiB; say it only when no earlier
      // answer is still owed, or it would overtake them.
      if (expect_continue && !conn.expect_sent && conn.Idle()) {
        conn.expect_sent = true;
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        peer->send(Pistache::RawBuffer(kContinue.data(), kContinue.size()));
      }
      return false;
    }
    conn.expect_sent = false;
    req.body = std::string(in.substr(head_end + 4, body_len));
    conn.input.erase(0, total);
    // After a request that ends the connection nothing more is read: a request pipelined
    // behind it must not run, since its answer can never be sent (RFC 9112 9.6).
    if (!keep_alive) conn.broken = true;
    Dispatch(conn, peer, std::move(req), keep_alive, http11);
    return true;
  }

  void Dispatch(Connection& conn, const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                HttpRequest req, bool keep_alive, bool http11) {
    auto route = Router::Find(req.method, req.path);
    auto reply = std::make_shared<RequestReply>(
        *api_, ConnectionOf(peer),
        conn.next_seq++, Writer(peer, http11), keep_alive, route.label);
    try {
      if (!route.allow.empty()) {
        HttpResponse r = ErrorResponse(405, "method not allowed");
        r.headers.emplace_back("Allow", route.allow);
        return reply->Send(std::move(r));
      }
      if (route.handler == nullptr) return reply->Send(ErrorResponse(404, "not found"));
      route.handler(*api_, req, reply);
    } catch (...) {
      reply->Send(ErrorResponse(500, "internal error"));
    }
  }

  Http::ResponseWriter Writer(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool http11) {
    return Http::ResponseWriter(http11 ? Http::Version::Http11 : Http::Version::Http10,
                                transport(), this, peer);
  }

  // Answers and stops reading the connection: after a framing error the next request's
  // start is unknown. The client is told to close.
  void Fail(Connection& conn, const std::shared_ptr<Pistache::Tcp::Peer>& peer, int status,
            const std::string& message) {
    conn.broken = true;
    conn.input.clear();
    Outgoing out;
    out.writer.emplace(Writer(peer, true));
    out.response = ErrorResponse(status, message);
    out.keep_alive = false;
    api_->metrics().Increment("isucoin_http_requests_total",
                              {{"route", "framing"}, {"status", std::to_string(status)}});
    conn.Complete(conn.next_seq++, std::move(out));
  }

  std::shared_ptr<ApiContext> api_;
};

// ---------------------------------------------------------------------------------------------

struct ApiServer::Impl {
  std::shared_ptr<ApiContext> api;
  std::unique_ptr<Http::Endpoint> endpoint;
  bool running = false;
};

ApiServer::ApiServer(Backend backend, ApiOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.session_secret.empty()) {
    throw std::invalid_argument("ApiOptions::session_secret must not be empty");
  }
  impl_->api = std::make_shared<ApiContext>(std::move(backend), std::move(options));
  auto& m = impl_->api->metrics();
  m.Describe("isucoin_http_requests_total", "counter", "HTTP requests by route and status.");
  m.Describe("isucoin_http_request_duration_seconds", "histogram",
             "HTTP request latency by route, from framing to the answer being queued.");
}

ApiServer::~ApiServer() { Shutdown(); }

void ApiServer::Start() {
  const auto& o = impl_->api->options();
  Pistache::Address addr(o.address, Pistache::Port(o.port));
  impl_->endpoint = std::make_unique<Http::Endpoint>(addr);
  auto opts = Http::Endpoint::options()
                  .threads(o.threads)
                  .flags(Pistache::Tcp::Options::ReuseAddr)
                  // Framing is ours; Pistache's own limit only bounds its unused parser.
                  .maxRequestSize(o.max_request_bytes + 4096);
  impl_->endpoint->init(opts);
  impl_->endpoint->setHandler(Http::make_handler<Handler>(impl_->api));
  impl_->endpoint->serveThreaded();
  impl_->running = true;
}

void ApiServer::Shutdown() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  // Workers first: each finishes its request and queues the answer while the reactor can
  // still write it. Then the reactor.
  impl_->api->StopPool();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  impl_->endpoint->shutdown();
  impl_->endpoint.reset();
}

std::uint16_t ApiServer::port() const {
  return impl_->endpoint ? static_cast<std::uint16_t>(impl_->endpoint->getPort()) : 0;
}

MetricsRegistry& ApiServer::metrics() { return impl_->api->metrics(); }

}  // namespace isucoin::api
