// isusim: a local ISUBANK + ISULOGGER for development, tests and benchmarks. See README.md.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/isusim/http_server.h"
#include "tools/isusim/simulator.h"

namespace {

constexpr const char* kUsage = R"(usage: isusim [flags]
Serves a simulated ISUBANK and ISULOGGER (SPEC.md) on two ports until SIGTERM or SIGINT.

  --host ADDR              IPv4 address to listen on (default 127.0.0.1)
  --bank-port N            bank port, 0 = any free port (default 0)
  --logger-port N          logger port, 0 = any free port (default 0)
  --address-file PATH      once listening, atomically write
                           {"bank":"http://127.0.0.1:P","logger":"http://127.0.0.1:Q"}
  --appid ID               accepted Bearer app id, repeatable (default isucoin-dev)
  --accounts FILE          JSON lines {"bank_id":"...","credit":N} seeding the bank
  --latency zero|default   latency profile (default: check 50, reserve 70, cancel 80,
                           commit 300, logger 10 ms)
  --check-ms N --reserve-ms N --commit-ms N --cancel-ms N --logger-ms N
                           per-call latency, overriding the profile
  --reservation-ttl-ms N   reservations expire this long after /reserve (default 300000)
  --fail-rate F            share of bank/logger calls answered 500, not applied
  --slow-rate F --slow-ms N
                           share of calls answered N ms later than usual
  --drop-rate F            share of calls applied, then closed without an answer
  --seed N                 seed of the failure-injection RNG (default: random, printed)
  --help                   this text

Test-only admin API (no auth) on the bank port: see tools/isusim/README.md.
)";

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "isusim: " << message << "\n";
  std::exit(2);
}

int64_t ParseInt(const std::string& flag, const std::string& v, int64_t lo, int64_t hi) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n < lo || n > hi) throw std::out_of_range(v);
    return n;
  } catch (const std::exception&) {
    Die(flag + " wants an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + v + "'");
  }
}

double ParseRate(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used != v.size() || !(d >= 0 && d <= 1)) throw std::out_of_range(v);
    return d;
  } catch (const std::exception&) {
    Die(flag + " wants a number in [0, 1], got '" + v + "'");
  }
}

void LoadAccounts(const std::string& path, isusim::Bank& bank) {
  std::ifstream in(path);
  if (!in) Die("cannot read accounts file " + path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    std::string where = path + ":" + std::to_string(n) + ": ";
    if (j.is_discarded() || !j.is_object()) Die(where + "not a JSON object");
    auto id = j.find("bank_id");
    auto credit = j.find("credit");
    if (id == j.end() || !id->is_string()) Die(where + "bank_id must be a string");
    if (credit == j.end() || !credit->is_number_integer() ||
        (credit->is_number_unsigned() && credit->get<uint64_t>() > INT64_MAX)) {
      Die(where + "credit must be a 64-bit integer");
    }
    bank.SetCredit(id->get<std::string>(), credit->get<int64_t>());
  }
}

// Written beside the target and renamed over it, so a poller never reads half an address.
void WriteAddressFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content << "\n";
    out.flush();
    if (!out) Die("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) Die("cannot rename " + tmp + " to " + path);
}

// Hundreds of parallel connections must not hit the default soft limit of 1024 descriptors.
void RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  isusim::SimulatorConfig config;
  std::string host = "127.0.0.1", address_file, accounts_file, profile = "default";
  int64_t bank_port = 0, logger_port = 0;
  std::vector<std::string> appids;
  // Per-call overrides apply after the profile whatever the flag order.
  std::optional<int64_t> check_ms, reserve_ms, commit_ms, cancel_ms, logger_ms;
  bool seeded = false;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= args.size()) Die("unknown flag or missing value: " + a + " (see --help)");
    const std::string& v = args[++i];
    constexpr int64_t kMaxMs = 3600 * 1000;
    if (a == "--host") host = v;
    else if (a == "--bank-port") bank_port = ParseInt(a, v, 0, 65535);
    else if (a == "--logger-port") logger_port = ParseInt(a, v, 0, 65535);
    else if (a == "--address-file") address_file = v;
    else if (a == "--appid") appids.push_back(v);
    else if (a == "--accounts") accounts_file = v;
    else if (a == "--latency") profile = v;
    else if (a == "--check-ms") check_ms = ParseInt(a, v, 0, kMaxMs);
    else if (a == "--reserve-ms") reserve_ms = ParseInt(a, v, 0, kMaxMs);
    else if (a == "--commit-ms") commit_ms = ParseInt(a, v, 0, kMaxMs);
    else if (a == "--cancel-ms") cancel_ms = ParseInt(a, v, 0, kMaxMs);
    else if (a == "--logger-ms") logger_ms = ParseInt(a, v, 0, kMaxMs);
    else if (a == "--reservation-ttl-ms") config.reservation_ttl_ms = ParseInt(a, v, 1, INT64_MAX / 4);
    else if (a == "--fail-rate") config.faults.fail_rate = ParseRate(a, v);
    else if (a == "--slow-rate") config.faults.slow_rate = ParseRate(a, v);
    else if (a == "--slow-ms") config.faults.slow_ms = ParseInt(a, v, 0, kMaxMs);
    else if (a == "--drop-rate") config.faults.drop_rate = ParseRate(a, v);
    else if (a == "--seed") config.seed = static_cast<uint64_t>(ParseInt(a, v, 0, INT64_MAX)), seeded = true;
    else Die("unknown flag " + a + " (see --help)");
  }
  if (config.faults.fail_rate + config.faults.drop_rate > 1) Die("--fail-rate + --drop-rate must not exceed 1");
  if (profile == "zero") {
    config.latency = {std::chrono::milliseconds(0), std::chrono::milliseconds(0), std::chrono::milliseconds(0),
                      std::chrono::milliseconds(0), std::chrono::milliseconds(0)};
  } else if (profile != "default") {
    Die("--latency wants zero or default, got '" + profile + "'");
  }
  auto ms = [](int64_t n) { return std::chrono::milliseconds(n); };
  if (check_ms) config.latency.check = ms(*check_ms);
  if (reserve_ms) config.latency.reserve = ms(*reserve_ms);
  if (commit_ms) config.latency.commit = ms(*commit_ms);
  if (cancel_ms) config.latency.cancel = ms(*cancel_ms);
  if (logger_ms) config.latency.logger = ms(*logger_ms);
  if (!appids.empty()) config.appids = {appids.begin(), appids.end()};
  if (!seeded) config.seed = std::random_device{}();

  // Blocked before any thread starts, so only sigwait() below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseFdLimit();

  try {
    isusim::Simulator sim(config);
    if (!accounts_file.empty()) LoadAccounts(accounts_file, sim.bank());
    isusim::HttpServer server;
    uint16_t bp = server.Listen(host, static_cast<uint16_t>(bank_port),
                                [&sim](const isusim::HttpRequest& r) { return sim.HandleBank(r); });
    uint16_t lp = server.Listen(host, static_cast<uint16_t>(logger_port),
                                [&sim](const isusim::HttpRequest& r) { return sim.HandleLogger(r); });
    nlohmann::json addr = {{"bank", "http://" + host + ":" + std::to_string(bp)},
                           {"logger", "http://" + host + ":" + std::to_string(lp)}};
    if (!address_file.empty()) WriteAddressFile(address_file, addr.dump());
    std::cerr << "isusim: " << addr.dump() << " seed " << config.seed << "\n";

    std::thread loop([&server] { server.Run(); });
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.Stop();
    loop.join();
  } catch (const std::exception& e) {
    Die(e.what());
  }
  return 0;
}
