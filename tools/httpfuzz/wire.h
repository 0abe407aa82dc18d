// Raw HTTP/1.1 over a TCP socket: the fuzzer must send bytes no HTTP library would (broken
// framing, lying lengths, pipelined mixes) and read answers without trusting them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace isucoin::httpfuzz {

struct Response {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  const std::string* Header(const std::string& lower_name) const;
  bool CloseAnnounced() const;  // Connection: close
};

// What reading the next answer gave.
struct ReadOutcome {
  enum class Kind { kResponse, kEof, kTimeout, kMalformed, kError } kind = Kind::kError;
  Response response;    // kResponse
  std::string problem;  // kMalformed / kError
};

class Connection {
 public:
  // Connects to host:port (IPv4 literal); nullopt with `error` set when it cannot.
  static std::optional<Connection> Open(const std::string& host, std::uint16_t port,
                                        std::string* error);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  ~Connection();

  // Sends everything; false when the peer refused it (reset or closed early).
  bool SendAll(const std::string& bytes);
  // The next final answer (100 Continue and other 1xx are skipped), within `timeout`.
  ReadOutcome Read(std::chrono::milliseconds timeout);

 private:
  explicit Connection(int fd) : fd_(fd) {}
  // Reads more bytes into buffer_; 0 on EOF, -1 on error, -2 on timeout.
  int Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// One request on its own connection ("Connection: close"), for the setup and the probes; the
// answer or nullopt. Not for fuzzing: it frames everything correctly.
std::optional<Response> Exchange(const std::string& host, std::uint16_t port,
                                 const std::string& request_bytes,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                 std::string* why = nullptr);

// "POST /path HTTP/1.1" with Host, Content-Type, Content-Length, Connection: close and `extra`
// header lines ("Name: value\r\n" each).
std::string SimpleRequest(const std::string& method, const std::string& target,
                          const std::string& body = "", const std::string& content_type = "",
                          const std::string& extra = "");

}  // namespace isucoin::httpfuzz
