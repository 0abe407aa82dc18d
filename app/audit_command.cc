// isucoin audit (--data DIR | --log URL) [--json REPORT] [--bank URL --bank-appid ID]
// Checks the logs (replay/audit.h). Opens them read-only: safe while `serve` (or a cluster on
// Kafka) runs.
// Exit: 0 clean, 1 findings, 2 usage or I/O error.
#include <curl/curl.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "app/exchange_logs.h"
#include "app/subcommands.h"
#include "replay/audit.h"

namespace isucoin::app {
namespace {

void PrintAuditUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin audit (--data DIR | --log URL) [--json REPORT]\n"
               "                     [--bank URL --bank-appid ID]\n\n"
               "Re-runs the matcher over the commands log and diffs with the events log (first\n"
               "divergence, both records), checks every trade against the trading rules,\n"
               "reconciles settlement (and, with --bank, the bank's reservations via the\n"
               "simulator's GET /admin/reservations). Writes a JSON report to REPORT and a\n"
               "summary to stdout. Exit: 0 clean, 1 findings, 2 usage or I/O error.\n"
               "The logs: DIR/commands and DIR/events, or --log DIR, file:DIR or\n"
               "kafka://HOST:PORT[,...]/PREFIX.\n");
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Result<std::vector<replay::BankReservation>> FetchReservations(const std::string& bank,
                                                               const std::string& appid) {
  CURL* curl = curl_easy_init();
  if (!curl) return Status::IOError("curl_easy_init failed");
  std::string body;
  const std::string url = bank + (bank.ends_with("/") ? "" : "/") + "admin/reservations";
  const std::string auth = "Authorization: Bearer " + appid;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Status::Unavailable(url + ": " + curl_easy_strerror(rc));
  if (status != 200) return Status::Unavailable(url + ": HTTP " + std::to_string(status));
  std::vector<replay::BankReservation> out;
  try {
    for (const auto& r : nlohmann::json::parse(body)) {
      out.push_back(replay::BankReservation{r.at("reserve_id").get<std::int64_t>(),
                                            r.at("state").get<std::string>(),
                                            r.at("commit_count").get<int>(),
                                            r.at("reserved_at_ms").get<std::int64_t>() * 1000});
    }
  } catch (const std::exception& e) {
    return Status::Invalid(url + ": unexpected answer: " + e.what());
  }
  return out;
}

}  // namespace

int AuditCommand(int argc, char** argv) {
  std::string dir, log_url, json_path, bank, appid;
  for (int i = 0; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--data") == 0 && has_value) dir = argv[++i];
    else if (std::strcmp(argv[i], "--log") == 0 && has_value) log_url = argv[++i];
    else if (std::strcmp(argv[i], "--json") == 0 && has_value) json_path = argv[++i];
    else if (std::strcmp(argv[i], "--bank") == 0 && has_value) bank = argv[++i];
    else if (std::strcmp(argv[i], "--bank-appid") == 0 && has_value) appid = argv[++i];
    else if (std::strcmp(argv[i], "--help") == 0) {
      PrintAuditUsage(stdout);
      return 0;
    } else {
      PrintAuditUsage(stderr);
      return 2;
    }
  }
  if ((dir.empty() && log_url.empty()) || (bank.empty() != appid.empty())) {
    PrintAuditUsage(stderr);
    return 2;
  }
  auto logs = OpenExchangeLogsFor(dir, log_url, {});
  if (!logs.ok()) {
    std::fprintf(stderr, "isucoin audit: %s\n", logs.status().ToString().c_str());
    return logs.status().code() == Status::Code::kInvalid ? 2 : 2;
  }
  replay::AuditOptions options;
  if (!bank.empty()) {
    auto reservations = FetchReservations(bank, appid);
    if (!reservations.ok()) {
      std::fprintf(stderr, "isucoin audit: bank not reachable, bank checks skipped: %s\n",
                   reservations.status().ToString().c_str());
    } else {
      options.bank = std::move(reservations).value();
    }
  }
  auto report = replay::Audit(*logs.value().commands, *logs.value().events, options);
  if (!report.ok()) {
    std::fprintf(stderr, "isucoin audit: %s\n", report.status().ToString().c_str());
    return 2;
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << report.value().ToJson();
    if (!out) {
      std::fprintf(stderr, "isucoin audit: cannot write %s\n", json_path.c_str());
      return 2;
    }
  }
  std::fputs(report.value().Summary().c_str(), stdout);
  return report.value().clean() ? 0 : 1;
}

}  // namespace isucoin::app
