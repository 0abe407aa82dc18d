#include "tests/support/isusim_process.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef ISUSIM_PATH
#error "ISUSIM_PATH must name the isusim binary (set by tests/support/CMakeLists.txt)"
#endif

namespace isucoin::test_support {
namespace {

using Clock = std::chrono::steady_clock;

void GlobalCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

HttpResult Perform(const std::string& url, const std::string* post_body, const std::string& appid) {
  GlobalCurlInit();
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (!curl) {
    result.body = "curl_easy_init failed";
    return result;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::string auth;
  if (!appid.empty()) {
    auth = "Authorization: Bearer " + appid;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  if (post_body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.status = 0;
    result.body = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

nlohmann::json HttpResult::Json() const {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

IsusimProcess::IsusimProcess(std::vector<std::string> args) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "isusim.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  stderr_path_ = dir_ + "/isusim.stderr";
  const std::string address_file = dir_ + "/address.json";

  bool has_latency = false, has_appid = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--latency") has_latency = true;
    if (args[i] == "--appid" && i + 1 < args.size() && !has_appid) {
      appid_ = args[i + 1];
      has_appid = true;
    }
  }
  std::vector<std::string> argv = {ISUSIM_PATH, "--bank-port", "0", "--logger-port", "0", "--address-file", address_file};
  if (!has_latency) argv.insert(argv.end(), {"--latency", "zero"});
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Not leaked by a crashed test. (Fires when the forking *thread* exits: create the
    // simulator on a thread that outlives it, e.g. the test's own.)
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    int fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(cargv[0], cargv.data());
    _exit(127);
  }

  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (std::filesystem::exists(address_file)) break;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("isusim exited at start: " + ReadFile(stderr_path_));
    }
    if (Clock::now() > deadline) {
      Stop();
      throw std::runtime_error("isusim did not listen within 10 s: " + ReadFile(stderr_path_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  nlohmann::json addr = nlohmann::json::parse(ReadFile(address_file), nullptr, false);
  if (addr.is_discarded() || !addr.contains("bank") || !addr.contains("logger")) {
    Stop();
    throw std::runtime_error("unreadable isusim address file " + address_file);
  }
  bank_url_ = addr["bank"].get<std::string>();
  logger_url_ = addr["logger"].get<std::string>();
}

IsusimProcess::~IsusimProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void IsusimProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

HttpResult IsusimProcess::Post(const std::string& url, const std::string& body, const std::string& appid) {
  return Perform(url, &body, appid);
}

HttpResult IsusimProcess::Get(const std::string& url) { return Perform(url, nullptr, ""); }

HttpResult IsusimProcess::Bank(const std::string& path, const nlohmann::json& body) const {
  return Post(bank_url_ + path, body.dump(), appid_);
}

HttpResult IsusimProcess::Logger(const std::string& path, const nlohmann::json& body) const {
  return Post(logger_url_ + path, body.dump(), appid_);
}

nlohmann::json IsusimProcess::AdminGet(const std::string& path) const {
  HttpResult r = Get(bank_url_ + path);
  if (r.status != 200) throw std::runtime_error("isusim GET " + path + ": " + std::to_string(r.status) + " " + r.body);
  return r.Json();
}

nlohmann::json IsusimProcess::AdminPost(const std::string& path, const nlohmann::json& body) const {
  HttpResult r = Post(bank_url_ + path, body.dump(), "");
  if (r.status != 200) throw std::runtime_error("isusim POST " + path + ": " + std::to_string(r.status) + " " + r.body);
  return r.Json();
}

void IsusimProcess::SetCredit(const std::string& bank_id, int64_t credit) const {
  AdminPost("/admin/accounts", {{"bank_id", bank_id}, {"credit", credit}});
}

nlohmann::json IsusimProcess::Account(const std::string& bank_id) const {
  // Percent-encode so any bank_id survives the path.
  GlobalCurlInit();
  char* escaped = curl_easy_escape(nullptr, bank_id.data(), static_cast<int>(bank_id.size()));
  std::string path = "/admin/accounts/" + std::string(escaped ? escaped : "");
  curl_free(escaped);
  HttpResult r = Get(bank_url_ + path);
  if (r.status == 404) return nullptr;
  if (r.status != 200) throw std::runtime_error("isusim GET " + path + ": " + std::to_string(r.status) + " " + r.body);
  return r.Json();
}

nlohmann::json IsusimProcess::Reservations() const { return AdminGet("/admin/reservations"); }

nlohmann::json IsusimProcess::Logs(size_t since) const {
  return AdminGet("/admin/logs" + (since ? "?since=" + std::to_string(since) : std::string()));
}

nlohmann::json IsusimProcess::Stats() const { return AdminGet("/admin/stats"); }

void IsusimProcess::SetFaults(double fail_rate, double slow_rate, int64_t slow_ms, double drop_rate) const {
  AdminPost("/admin/faults",
            {{"fail_rate", fail_rate}, {"slow_rate", slow_rate}, {"slow_ms", slow_ms}, {"drop_rate", drop_rate}});
}

void IsusimProcess::Reset() const { AdminPost("/admin/reset", nlohmann::json::object()); }

}  // namespace isucoin::test_support
