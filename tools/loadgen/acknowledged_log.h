// --acknowledged FILE: one JSON line per acknowledgement the server gave, for the chaos check
// to prove that nothing acknowledged was lost:
//   {"kind":"user","bank_id":…,"password":…,"user_id":N}      sign-up confirmed by a sign-in
//   {"kind":"order","order_id":N,"user_id":U,"type":…,"amount":…,"price":…}   POST /orders 200
//   {"kind":"cancel","order_id":N,"user_id":U}                DELETE /order/N 200
// Each line is written with one write(2) before the user moves on, so it survives the load
// generator being killed; it is fdatasync'd every 64 lines and at close (machine crashes).
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace isucoin::loadgen {

class AcknowledgedLog {
 public:
  AcknowledgedLog() = default;  // disabled: Append does nothing
  explicit AcknowledgedLog(const std::string& path);
  ~AcknowledgedLog();
  AcknowledgedLog(const AcknowledgedLog&) = delete;
  AcknowledgedLog& operator=(const AcknowledgedLog&) = delete;

  bool ok() const { return fd_ >= 0 || path_.empty(); }
  void Append(const nlohmann::json& line);

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  int unsynced_ = 0;
};

}  // namespace isucoin::loadgen
