// A small HTTP/1.1 server on one epoll thread, built for a simulator of slow remote services.
//
// Why not Pistache: the simulator must hold hundreds of answers for hundreds of milliseconds and
// send them later, and must sometimes close a connection without answering. Pistache 0.0.5 queues
// a delayed ResponseWriter::send() by raw fd, so an answer sent after the client went away can
// land on an unrelated connection that reused the fd; it also has no way to drop a connection
// unanswered, closes HTTP/1.1 connections that lack "Connection: keep-alive", and hangs on
// pipelined requests. Here handlers run on the loop thread and return their answer together with
// a delay; the loop keeps a timer heap, so waiting costs no thread and connections are tracked by
// a never-reused id.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isusim {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent, e.g. "/admin/logs?since=3"
  std::string path;    // target before '?', percent-decoded
  std::string query;   // after '?', raw
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // Empty when absent. `name` must be lower case.
  std::string_view Header(std::string_view name) const;
  // Raw value of a query parameter, or "" when absent.
  std::string QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// What the loop does with a handled request.
struct Reply {
  HttpResponse response;
  std::chrono::milliseconds delay{0};  // answer this much later, without blocking anything
  bool drop = false;                   // after the delay, close the connection unanswered
  // Runs on the loop thread once the answer is written, dropped, or lost with its connection.
  std::function<void()> on_done;
};

using Handler = std::function<Reply(const HttpRequest&)>;

class HttpServer {
 public:
  // Requests larger than this are answered 413 by the server itself and the connection closed;
  // handlers see everything below it, so they can apply their own, smaller limits.
  static constexpr size_t kHardBodyLimit = 64u << 20;

  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on host:port (0 = any free port); returns the bound port. Throws
  // std::runtime_error on failure. Call before Run().
  uint16_t Listen(const std::string& host, uint16_t port, Handler handler);

  // Serves until Stop(); handlers run on this thread.
  void Run();
  // Thread-safe and async-signal-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 3986 percent-decoding ("+" is left alone: paths, not forms).
std::string PercentDecode(std::string_view s);

}  // namespace isusim
