#include "app/api_settings.h"

#include <fstream>
#include <iterator>

#include "events/time_format.h"

namespace isucoin::app {

const std::vector<SettingSpec>& ApiSettingSpecs() {
  static const std::vector<SettingSpec> specs = {
      {"address", "0.0.0.0", "address to listen on"},
      {"port", "5000", "HTTP port (0 = any free port, printed at start)"},
      {"threads", "2", "HTTP reactor threads"},
      {"workers", "64", "worker threads for orders, cancels, bank calls and waits"},
      {"auth-workers", "16", "worker threads for sign-up and sign-in (bcrypt), at a lower CPU priority"},
      {"bcrypt-cost", "10", "bcrypt cost of new passwords (4-15; each step doubles the time)"},
      {"share-ratio", "3", "users whose id % 10 is below this see the share button (0-10)"},
      {"utc-offset", "+09:00", "the exchange's time zone offset (Asia/Tokyo)"},
      {"web-root", "web/dist", "directory of the single-page app served at / (built by web/build.sh)"},
      {"session-secret", "", "cookie HMAC key; every api node of an exchange needs the same"},
      {"session-secret-file", "", "... or a file holding it (at least 32 bytes)"},
      {"bank", "", "ISUBANK base URL until /initialize names one"},
      {"bank-appid", "", "ISUBANK app id until /initialize names one"},
  };
  return specs;
}

Result<ApiSettings> ReadApiSettings(const Settings& s) {
  auto port = s.GetInt("port", 0, 65535);
  auto threads = s.GetInt("threads", 1, 64);
  auto workers = s.GetInt("workers", 1, 4096);
  auto auth_workers = s.GetInt("auth-workers", 1, 1024);
  auto cost = s.GetInt("bcrypt-cost", 4, 15);
  auto share = s.GetInt("share-ratio", 0, 10);
  auto offset = events::ParseUtcOffset(s.Get("utc-offset"));
  for (const Status& st : {port.status(), threads.status(), workers.status(),
                           auth_workers.status(), cost.status(),
                           share.status(), offset.status()}) {
    if (!st.ok()) return st;
  }
  ApiSettings out;
  out.api.address = s.Get("address");
  out.api.port = static_cast<std::uint16_t>(port.value());
  out.api.threads = static_cast<int>(threads.value());
  out.api.worker_threads = static_cast<int>(workers.value());
  out.api.auth_worker_threads = static_cast<int>(auth_workers.value());
  out.api.bcrypt_cost = static_cast<int>(cost.value());
  out.api.share_ratio = static_cast<int>(share.value());
  out.api.utc_offset_seconds = offset.value();
  out.api.web_root = s.Get("web-root");
  out.api.session_secret = s.Get("session-secret");
  if (const std::string& file = s.Get("session-secret-file"); !file.empty()) {
    if (!out.api.session_secret.empty()) {
      return Status::Invalid("give --session-secret or --session-secret-file, not both");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::Invalid("session-secret-file: cannot read " + file);
    out.api.session_secret.assign(std::istreambuf_iterator<char>(in), {});
    if (out.api.session_secret.size() < 32) {
      return Status::Invalid("session-secret-file: " + file + " holds fewer than 32 bytes");
    }
  }
  out.bank_endpoint = s.Get("bank");
  out.bank_appid = s.Get("bank-appid");
  return out;
}

}  // namespace isucoin::app
