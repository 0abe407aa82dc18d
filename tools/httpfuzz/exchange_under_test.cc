#include "tools/httpfuzz/exchange_under_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tools/httpfuzz/wire.h"

namespace isucoin::httpfuzz {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// fork + exec with stdout/stderr to files (or stdout to `stdout_pipe`); the child dies with us.
pid_t Launch(const std::vector<std::string>& args, const std::string& stderr_path,
             int stdout_fd) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    dup2(stdout_fd >= 0 ? stdout_fd : err, STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void Terminate(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

}  // namespace

std::optional<Endpoint> ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  Endpoint e;
  e.host = rest.substr(0, colon);
  try {
    int port = std::stoi(rest.substr(colon + 1));
    if (port <= 0 || port > 65535) return std::nullopt;
    e.port = static_cast<std::uint16_t>(port);
  } catch (...) {
    return std::nullopt;
  }
  return e;
}

ExchangeUnderTest ExchangeUnderTest::Spawn(const Paths& paths) {
  ExchangeUnderTest x;
  std::string tmpl = (std::filesystem::temp_directory_path() / "httpfuzz.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  x.sim_dir_ = tmpl;
  x.data_ = tmpl + "/data";
  std::filesystem::create_directories(x.data_);

  // The simulator, with no latency: the fuzzer measures the api, not the bank.
  const std::string address_file = x.sim_dir_ + "/isusim.json";
  x.sim_pid_ = Launch({paths.isusim, "--bank-port", "0", "--logger-port", "0", "--address-file",
                       address_file, "--latency", "zero", "--appid", x.appid_},
                      x.sim_dir_ + "/isusim.log", -1);
  for (int i = 0; i < 400 && !std::filesystem::exists(address_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (!std::filesystem::exists(address_file)) {
    throw std::runtime_error("isusim did not start: " + ReadFile(x.sim_dir_ + "/isusim.log"));
  }
  auto addresses = nlohmann::json::parse(ReadFile(address_file));
  const std::string bank_url = addresses["bank"], logger_url = addresses["logger"];
  x.bank_ = ParseUrl(bank_url);

  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  x.serve_pid_ = Launch({paths.isucoin, "serve", "--data", x.data_, "--port", "0",
                         "--bcrypt-cost", "4", "--import", paths.dataset, "--bank", bank_url,
                         "--bank-appid", x.appid_, "--logger", logger_url, "--logger-appid",
                         x.appid_},
                        x.data_ + "/serve.log", out[1]);
  close(out[1]);
  // serve prints one line with its URL once it listens.
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  auto at = line.find("http://");
  auto api = at == std::string::npos ? std::nullopt : ParseUrl(line.substr(at));
  if (!api) throw std::runtime_error("isucoin serve did not start: " + ReadFile(x.serve_log()));
  x.api_ = *api;
  return x;
}

ExchangeUnderTest ExchangeUnderTest::Attach(Endpoint api, std::string data) {
  ExchangeUnderTest x;
  x.api_ = std::move(api);
  x.data_ = std::move(data);
  x.keep_data_ = true;  // not ours
  return x;
}

ExchangeUnderTest::ExchangeUnderTest(ExchangeUnderTest&& o) noexcept
    : api_(std::move(o.api_)),
      bank_(std::move(o.bank_)),
      data_(std::move(o.data_)),
      sim_dir_(std::move(o.sim_dir_)),
      appid_(std::move(o.appid_)),
      serve_pid_(o.serve_pid_),
      sim_pid_(o.sim_pid_),
      serve_exit_(std::move(o.serve_exit_)),
      keep_data_(o.keep_data_) {
  o.serve_pid_ = o.sim_pid_ = -1;
  o.sim_dir_.clear();
  o.keep_data_ = true;
}

ExchangeUnderTest::~ExchangeUnderTest() { Stop(); }

void ExchangeUnderTest::Stop() {
  Terminate(serve_pid_);
  Terminate(sim_pid_);
  if (!keep_data_ && !sim_dir_.empty()) std::filesystem::remove_all(sim_dir_);
}

bool ExchangeUnderTest::ServeAlive() {
  if (serve_pid_ <= 0) return serve_exit_.empty();
  int status = 0;
  if (waitpid(serve_pid_, &status, WNOHANG) == serve_pid_) {
    serve_exit_ = DescribeStatus(status);
    serve_pid_ = -1;
    return false;
  }
  return true;
}

bool ExchangeUnderTest::SetCredit(const std::string& bank_id, std::int64_t credit) const {
  if (!bank_) return false;
  std::string body = nlohmann::json{{"bank_id", bank_id}, {"credit", credit}}.dump();
  auto r = Exchange(bank_->host, bank_->port,
                    SimpleRequest("POST", "/admin/accounts", body, "application/json"));
  return r && r->status == 200;
}

std::optional<std::uint64_t> ExchangeUnderTest::CommandsEnd() const {
  auto r = Exchange(api_.host, api_.port, SimpleRequest("GET", "/metrics"));
  if (!r || r->status != 200) return std::nullopt;
  const std::string key = "isucoin_log_end_offset{log=\"commands\"} ";
  auto at = r->body.find(key);
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::uint64_t>(std::stod(r->body.substr(at + key.size())));
}

}  // namespace isucoin::httpfuzz
