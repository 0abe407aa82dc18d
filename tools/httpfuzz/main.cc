// httpfuzz: random and mutated HTTP requests against a live `isucoin serve` (tools/httpfuzz/
// README.md). Checks that the server stays up, never answers 5xx, answers well-formed HTTP with
// JSON where SPEC.md says, and that rejected requests leave the commands log untouched.
//
//   httpfuzz --seed 1 --requests 100000            spawns isusim + isucoin serve itself
//   httpfuzz --url http://127.0.0.1:5000 --data D  attacks a running exchange (D: its data dir)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/httpfuzz/command_audit.h"
#include "tools/httpfuzz/exchange_under_test.h"
#include "tools/httpfuzz/generator.h"
#include "tools/httpfuzz/oracle.h"
#include "tools/httpfuzz/regressions.h"
#include "tools/httpfuzz/wire.h"

namespace isucoin::httpfuzz {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t seed = 1;
  std::size_t requests = 3000;
  int connections = 4;
  std::string url, data;
  ExchangeUnderTest::Paths paths{HTTPFUZZ_ISUCOIN, HTTPFUZZ_ISUSIM, HTTPFUZZ_DATASET};
  bool keep_data = false;
  std::optional<std::size_t> only_exchange;  // replay one exchange of the plan
  std::chrono::milliseconds answer_timeout{10000};
};

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: httpfuzz [--seed N] [--requests N] [--connections N]\n"
               "                [--isucoin PATH --isusim PATH --dataset FILE] [--keep-data]\n"
               "                [--url http://HOST:PORT [--data DIR]] [--only-exchange I]\n"
               "  Without --url, starts isusim and `isucoin serve` on a temp data directory.\n"
               "  --only-exchange I replays exchange I of the seed's plan alone (findings name it).\n"
               "  Exit 0 when every check held, 1 on a finding, 2 on a usage or setup error.\n");
}

// Everything the run found, shared by the worker threads.
struct Findings {
  std::mutex mu;
  std::map<int, std::uint64_t> statuses;
  std::map<std::string, std::uint64_t> recorded;  // by command type, from the answers
  std::map<std::string, std::uint64_t> problems;  // by kind
  std::vector<std::string> examples;              // the first few, in full
  std::uint64_t answers = 0, fuzz_answers = 0, unattributed = 0, expected_silence = 0;
  std::uint64_t fivexx = 0, timeouts = 0, malformed = 0, matcher_rejections = 0, te_501 = 0;
  std::uint64_t connect_failures = 0;

  void Problem(const std::string& kind, const std::string& detail) {
    std::lock_guard lock(mu);
    ++problems[kind];
    if (examples.size() < 20) examples.push_back(kind + ": " + detail);
  }
};

std::string Printable(const std::string& s, std::size_t max = 600) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n\n      ";
    else if (c < 0x20 || c >= 0x7f) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", c); out += b; }
    else out += static_cast<char>(c);
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// One exchange on its own connection: send the pipelined requests (sometimes in pieces), read
// every answer until the server closes, attribute answers to requests in order.
void RunExchange(const Endpoint& api, const PlannedExchange& ex, std::size_t number,
                 std::uint64_t piece_seed, const Options& options, Findings& f) {
  std::string error;
  std::optional<Connection> conn;
  for (int attempt = 0; attempt < 3 && !conn; ++attempt) {
    conn = Connection::Open(api.host, api.port, &error);
    if (!conn) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!conn) {
    std::lock_guard lock(f.mu);
    ++f.connect_failures;
    return;
  }
  std::string all;
  for (const auto& r : ex.requests) all += r.bytes;
  // A third of the exchanges arrive in pieces, to exercise the framer across reads.
  std::mt19937_64 rng(piece_seed);
  if (rng() % 3 == 0) {
    for (std::size_t at = 0; at < all.size();) {
      std::size_t n = 1 + rng() % 200;
      if (!conn->SendAll(all.substr(at, n))) break;
      at += n;
    }
  } else {
    conn->SendAll(all);  // a refusal shows in what is (not) read below
  }

  // The fuzz requests before a framing-moving one each get exactly one answer; after it, the
  // answers are leftovers of the merge and are checked but not attributed.
  std::size_t tail_at = ex.requests.size();
  for (std::size_t i = 0; i < ex.requests.size(); ++i) {
    if (ex.requests[i].framing_tail) tail_at = i;
  }
  std::size_t index = 0;
  bool closed_announced = false;
  for (;;) {
    ReadOutcome got = conn->Read(options.answer_timeout);
    if (got.kind == ReadOutcome::Kind::kEof) break;
    const PlannedRequest* request = index < ex.requests.size() && index <= tail_at ? &ex.requests[index] : nullptr;
    std::string context = "exchange " + std::to_string(number) + " (--only-exchange " +
                          std::to_string(number) + "), answer " + std::to_string(index) + ": " +
                          (request ? request->label + "\n    request: " + Printable(request->bytes) : "(leftover)");
    if (got.kind == ReadOutcome::Kind::kTimeout) {
      std::lock_guard lock(f.mu);
      ++f.timeouts;
      std::string labels;
      for (const auto& r : ex.requests) labels += " [" + r.label + "]";
      // An answer never sent, or every answer sent but the connection never ended.
      const std::string kind = closed_announced ? "no EOF after Connection: close" : "timeout (no answer)";
      if (f.examples.size() < 20) f.examples.push_back(kind + ": " + context + "\n    exchange:" + labels);
      ++f.problems[kind];
      break;
    }
    if (got.kind != ReadOutcome::Kind::kResponse) {
      {
        std::lock_guard lock(f.mu);
        ++f.malformed;
      }
      f.Problem("malformed answer", got.problem + "\n    after " + context);
      break;
    }
    const Response& response = got.response;
    if (closed_announced) f.Problem("answer after Connection: close", context);
    closed_announced = closed_announced || response.CloseAnnounced();
    std::vector<std::string> problems;
    Verdict verdict;
    if (request != nullptr && !request->merges) {
      verdict = Judge(*request, response);
      problems = verdict.problems;
    } else {
      problems = GeneralProblems(response, request != nullptr && request->transfer_encoding);
    }
    {
      std::lock_guard lock(f.mu);
      ++f.answers;
      ++f.statuses[response.status];
      if (request != nullptr && !request->sentinel) ++f.fuzz_answers;
      if (request == nullptr) ++f.unattributed;
      if (response.status >= 500 && !(response.status == 501 && request && request->transfer_encoding)) ++f.fivexx;
      if (response.status == 501 && request && request->transfer_encoding) ++f.te_501;
      if (!verdict.recorded.empty()) ++f.recorded[verdict.recorded];
      if (verdict.matcher_rejection) ++f.matcher_rejections;
    }
    for (const auto& p : problems) {
      f.Problem(p.substr(0, p.find(':')), p + "\n    " + context + "\n    answer: " + response.status_line +
                                                " " + Printable(response.body, 300));
    }
    ++index;
  }
  if (index < ex.requests.size()) {
    // Requests after a framing error or a close were never read by the server: by design.
    std::lock_guard lock(f.mu);
    f.expected_silence += ex.requests.size() - index;
  }
}

// Signs up and in the users the templates act as; returns the identities, or throws.
Identities Setup(ExchangeUnderTest& x) {
  Identities ids;
  ids.password = "fuzz-pw";
  const auto& api = x.api();
  auto post = [&](const std::string& path, const std::string& body, const std::string& cookie = "") {
    std::string why;
    auto r = Exchange(api.host, api.port,
                      SimpleRequest("POST", path, body, "application/x-www-form-urlencoded",
                                    cookie.empty() ? "" : "Cookie: isucoin_session=" + cookie + "\r\n"),
                      std::chrono::seconds(30), &why);
    if (!r) throw std::runtime_error("no answer to setup POST " + path + ": " + why);
    return *r;
  };
  struct User { std::string bank_id; std::int64_t credit; };
  // Two rich traders (their orders trade), one without money (buys refused: buy.error), and a
  // dataset user whose bank account does not exist at the simulator.
  const std::vector<User> users = {{"fuzz-rich-1", 1'000'000'000'000'000}, {"fuzz-rich-2", 1'000'000'000'000'000},
                                   {"fuzz-poor", 0}};
  for (const auto& u : users) {
    if (x.bank() && !x.SetCredit(u.bank_id, u.credit)) throw std::runtime_error("isusim refused an account");
    auto s = post("/signup", "name=" + u.bank_id + "&bank_id=" + u.bank_id + "&password=" + ids.password);
    if (s.status != 200 && s.status != 409) throw std::runtime_error("setup signup answered " + s.status_line + " " + s.body);
  }
  std::vector<std::pair<std::string, std::string>> signins;
  for (const auto& u : users) signins.emplace_back(u.bank_id, ids.password);
  signins.emplace_back("isucon-001", "password");
  for (const auto& [bank_id, password] : signins) {
    auto r = post("/signin", "bank_id=" + bank_id + "&password=" + password);
    const std::string* cookie = r.Header("set-cookie");
    if (r.status != 200 || cookie == nullptr) throw std::runtime_error("setup signin " + bank_id + " answered " + r.status_line);
    std::string value = cookie->substr(std::strlen("isucoin_session="));
    ids.cookies.push_back(value.substr(0, value.find(';')));
    ids.signin_bank_ids.push_back(bank_id);
  }
  for (int i = 0; i < 30; ++i) {
    std::string bank_id = "fuzz-new-" + std::to_string(i);
    if (x.bank() && x.SetCredit(bank_id, 1'000'000'000)) ids.signup_bank_ids.push_back(bank_id);
  }
  ids.unknown_bank_ids = {"nobody", "isucon-999", "fuzz-ghost", "%E6%A4%85", "a%2Bb"};
  return ids;
}

int Run(const Options& options) {
  std::optional<ExchangeUnderTest> x;
  try {
    if (options.url.empty()) {
      x.emplace(ExchangeUnderTest::Spawn(options.paths));
    } else {
      auto api = ParseUrl(options.url);
      if (!api) {
        std::fprintf(stderr, "httpfuzz: --url must look like http://127.0.0.1:5000\n");
        return 2;
      }
      x.emplace(ExchangeUnderTest::Attach(*api, options.data));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpfuzz: %s\n", e.what());
    return 2;
  }
  if (options.keep_data) x->KeepData();
  std::fprintf(stderr, "httpfuzz: seed %llu, %zu requests, %d connections, api http://%s:%u, data %s\n",
               static_cast<unsigned long long>(options.seed), options.requests, options.connections,
               x->api().host.c_str(), x->api().port, x->data_dir().empty() ? "(none)" : x->data_dir().c_str());

  Identities ids;
  try {
    ids = Setup(*x);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpfuzz: setup failed: %s\n", e.what());
    return 2;
  }
  Findings findings;
  const auto regressions = RunRegressions(*x);
  for (const auto& r : regressions) findings.Problem("regression", r);
  const auto plan = Plan(options.seed, options.requests, ids);
  auto start_offset = x->CommandsEnd();
  if (!start_offset) {
    std::fprintf(stderr, "httpfuzz: no isucoin_log_end_offset{log=\"commands\"} in /metrics\n");
    return 2;
  }

  std::atomic<std::size_t> next{0};
  const auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < options.connections; ++t) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < plan.size(); i = next++) {
        if (options.only_exchange && *options.only_exchange != i) continue;
        RunExchange(x->api(), plan[i], i, options.seed * 1'000'003 + i, options, findings);
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  // The server is still there and still answers.
  bool alive = x->ServeAlive();
  auto info = Exchange(x->api().host, x->api().port, SimpleRequest("GET", "/info?cursor=0"),
                       std::chrono::seconds(10));
  bool answers_info = info && info->status == 200 && !nlohmann::json::parse(info->body, nullptr, false).is_discarded();
  if (!alive) findings.Problem("server died", x->ServeExit() + "; see " + x->serve_log());
  if (!answers_info) findings.Problem("no /info at the end", info ? info->status_line : "no answer");

  // The commands log grew by exactly what the answers say was appended.
  std::uint64_t rejected_changes = 0, lost = 0;
  auto end_offset = x->CommandsEnd();
  CommandCounts counts;
  if (x->data_dir().empty() || !end_offset) {
    std::fprintf(stderr, "httpfuzz: commands log not audited (no --data, or no metrics at the end)\n");
  } else {
    counts = CountCommands(x->data_dir() + "/commands", *start_offset, *end_offset);
    if (!counts.error.empty()) findings.Problem("audit", counts.error);
    if (counts.undecodable) findings.Problem("audit", std::to_string(counts.undecodable) + " undecodable commands");
    for (const auto& type : kHttpCommandTypes) {
      std::uint64_t logged = counts.by_type[type], answered = findings.recorded[type];
      if (logged > answered) rejected_changes += logged - answered;
      if (answered > logged) lost += answered - logged;
    }
    if (rejected_changes) findings.Problem("state change from a rejected request",
                                           std::to_string(rejected_changes) + " commands beyond the accepted requests");
    if (lost) findings.Problem("accepted but not recorded", std::to_string(lost) + " commands missing");
  }

  // Report.
  std::uint64_t sentinels = plan.size();
  std::printf("httpfuzz summary (seed %llu)\n", static_cast<unsigned long long>(options.seed));
  std::printf("  requests: %zu fuzz + %llu sentinels in %zu exchanges, %.1f s, %.0f requests/s\n", options.requests,
              static_cast<unsigned long long>(sentinels), plan.size(), seconds, (options.requests + sentinels) / seconds);
  std::printf("  answers: %llu (%llu to fuzz requests, %llu leftovers of merged framing); requests never read by\n"
              "           design (after a framing error or a close): %llu\n",
              static_cast<unsigned long long>(findings.answers), static_cast<unsigned long long>(findings.fuzz_answers),
              static_cast<unsigned long long>(findings.unattributed), static_cast<unsigned long long>(findings.expected_silence));
  std::printf("  statuses:");
  for (const auto& [status, n] : findings.statuses) std::printf(" %d:%llu", status, static_cast<unsigned long long>(n));
  std::printf("\n  501 to Transfer-Encoding (documented): %llu; matcher rejections (400 CommandRejected): %llu\n",
              static_cast<unsigned long long>(findings.te_501), static_cast<unsigned long long>(findings.matcher_rejections));
  std::printf("  commands log [%llu, %llu): %llu records\n", static_cast<unsigned long long>(start_offset.value_or(0)),
              static_cast<unsigned long long>(end_offset.value_or(0)), static_cast<unsigned long long>(counts.records));
  for (const auto& type : kHttpCommandTypes) {
    std::printf("    %-18s logged %6llu  answered as appended %6llu\n", type.c_str(),
                static_cast<unsigned long long>(counts.by_type[type]),
                static_cast<unsigned long long>(findings.recorded[type]));
  }
  for (const auto& [type, n] : counts.by_type) {
    if (std::find(kHttpCommandTypes.begin(), kHttpCommandTypes.end(), type) == kHttpCommandTypes.end()) {
      std::printf("    %-18s logged %6llu  (settlement worker)\n", type.c_str(), static_cast<unsigned long long>(n));
    }
  }
  std::printf("  regressions (fixed exchanges run first): %s\n",
              regressions.empty() ? "all held" : (std::to_string(regressions.size()) + " FAILED").c_str());
  std::printf("  server alive at the end: %s; answers /info: %s\n", alive ? "yes" : "NO", answers_info ? "yes" : "NO");
  if (findings.problems.empty()) {
    std::printf("  findings: none\n");
  } else {
    std::printf("  findings:\n");
    for (const auto& [kind, n] : findings.problems) std::printf("    %-40s %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
    std::printf("  first examples:\n");
    for (const auto& e : findings.examples) std::printf("  - %s\n", e.c_str());
  }
  std::printf("RESULT httpfuzz_requests %zu\n", options.requests);
  std::printf("RESULT httpfuzz_requests_per_second %.0f\n", (options.requests + sentinels) / seconds);
  std::printf("RESULT httpfuzz_5xx %llu\n", static_cast<unsigned long long>(findings.fivexx));
  std::printf("RESULT httpfuzz_state_changes_from_rejected %llu\n", static_cast<unsigned long long>(rejected_changes));
  std::printf("RESULT httpfuzz_findings %zu\n", findings.problems.size());
  if (!findings.problems.empty()) {
    x->KeepData();
    std::printf("data kept in %s (serve log: %s)\n", x->data_dir().c_str(), x->serve_log().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace isucoin::httpfuzz

int main(int argc, char** argv) {
  isucoin::httpfuzz::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "httpfuzz: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--seed") o.seed = std::stoull(value());
      else if (a == "--requests") o.requests = std::stoull(value());
      else if (a == "--connections") o.connections = std::max(1, std::stoi(value()));
      else if (a == "--url") o.url = value();
      else if (a == "--data") o.data = value();
      else if (a == "--isucoin") o.paths.isucoin = value();
      else if (a == "--isusim") o.paths.isusim = value();
      else if (a == "--dataset") o.paths.dataset = value();
      else if (a == "--keep-data") o.keep_data = true;
      else if (a == "--only-exchange") o.only_exchange = std::stoull(value());
      else if (a == "--help" || a == "-h") { isucoin::httpfuzz::Usage(stdout); return 0; }
      else { isucoin::httpfuzz::Usage(stderr); return 2; }
    } catch (const std::exception&) {
      std::fprintf(stderr, "httpfuzz: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  return isucoin::httpfuzz::Run(o);
}
