#include "tools/httpfuzz/regressions.h"

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "tools/httpfuzz/wire.h"

namespace isucoin::httpfuzz {

namespace {

constexpr std::chrono::milliseconds kWait{3000};

struct Observed {
  std::vector<Response> answers;
  bool eof = false;  // the server ended the connection after the answers
};

Observed Send(const Endpoint& api, const std::string& bytes) {
  Observed o;
  std::string error;
  auto conn = Connection::Open(api.host, api.port, &error);
  if (!conn) return o;
  conn->SendAll(bytes);
  for (;;) {
    auto got = conn->Read(kWait);
    if (got.kind == ReadOutcome::Kind::kResponse) {
      o.answers.push_back(std::move(got.response));
      continue;
    }
    o.eof = got.kind == ReadOutcome::Kind::kEof;
    return o;
  }
}

}  // namespace

std::vector<std::string> RunRegressions(ExchangeUnderTest& x) {
  std::vector<std::string> failed;
  const Endpoint& api = x.api();

  // Pistache 0.0.5 wrote "Connection: Close" and kept the socket open: a client reading to
  // the end waited forever (fixed in api/server.cc).
  struct EndsCase { const char* name; std::string bytes; int status; };
  const std::vector<EndsCase> ends = {
      {"Connection: close ends the connection",
       "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
      {"HTTP/1.0 without keep-alive ends the connection", "GET /info HTTP/1.0\r\n\r\n", 200},
      {"a framing error ends the connection", "BAD\r\n\r\n", 400},
      {"Transfer-Encoding ends the connection",
       "POST /signin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
  };
  for (const auto& c : ends) {
    Observed o = Send(api, c.bytes);
    if (o.answers.size() != 1 || o.answers[0].status != c.status || !o.eof) {
      failed.push_back(std::string(c.name) + ": " + std::to_string(o.answers.size()) + " answers" +
                       (o.answers.empty() ? "" : ", first " + o.answers[0].status_line) +
                       (o.eof ? ", then EOF" : ", connection left open"));
    }
  }

  // A request pipelined behind "Connection: close" ran (its sign-in was recorded) although
  // its answer could never be sent (fixed in api/server.cc: nothing is read after it).
  auto before = x.CommandsEnd();
  Observed o = Send(api,
                    "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 29\r\n\r\n"
                    "bank_id=nobody&password=wrong");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto after = x.CommandsEnd();
  if (o.answers.size() != 1 || !before || !after || *before != *after) {
    failed.push_back("a request after Connection: close must not run: " + std::to_string(o.answers.size()) +
                     " answers, commands log " + std::to_string(before.value_or(0)) + " -> " +
                     std::to_string(after.value_or(0)));
  }

  // Pistache 0.0.5 lost an answer's EPOLLOUT edge when input came with it, so the answer to
  // a refused request line could wait forever while the client kept sending (about 1 in 400
  // connections here; fixed in api/server.cc). Many connections, written in pieces.
  {
    const std::string bytes =
        "DELETE * HTTP/1.1\r\nHost: x\r\n\r\nPOST /signup HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
        "GET /info?cursor=0 HTTP/1.1\r\nConnection: close\r\n\r\n";
    std::atomic<int> lost{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(t);
        for (int i = 0; i < 200; ++i) {
          std::string error;
          auto conn = Connection::Open(api.host, api.port, &error);
          if (!conn) {
            ++lost;
            continue;
          }
          for (std::size_t at = 0; at < bytes.size();) {
            std::size_t n = 1 + rng() % 120;
            if (!conn->SendAll(bytes.substr(at, n))) break;
            at += n;
          }
          auto got = conn->Read(std::chrono::milliseconds(2000));
          if (got.kind != ReadOutcome::Kind::kResponse || got.response.status != 400) ++lost;
        }
      });
    }
    for (auto& t : threads) t.join();
    if (lost > 0) {
      failed.push_back("the answer to a refused request line arrives while the client keeps sending: " +
                       std::to_string(lost.load()) + " of 1600 connections got none");
    }
  }

  // Pipelining keeps order (api/README.md).
  o = Send(api,
           "GET /nonexistent-file HTTP/1.1\r\n\r\nGET /info HTTP/1.1\r\n\r\n"
           "GET /info?cursor=x HTTP/1.1\r\nConnection: close\r\n\r\n");
  if (o.answers.size() != 3 || o.answers[0].status != 404 || o.answers[1].status != 200 ||
      o.answers[2].status != 400) {
    failed.push_back("three pipelined requests are answered 404, 200, 400 in order");
  }
  return failed;
}

}  // namespace isucoin::httpfuzz
