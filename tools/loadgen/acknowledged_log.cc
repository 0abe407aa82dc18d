#include "tools/loadgen/acknowledged_log.h"

#include <fcntl.h>
#include <unistd.h>

namespace isucoin::loadgen {

AcknowledgedLog::AcknowledgedLog(const std::string& path)
    : path_(path), fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {}

AcknowledgedLog::~AcknowledgedLog() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

void AcknowledgedLog::Append(const nlohmann::json& line) {
  if (fd_ < 0) return;
  const std::string text = line.dump() + "\n";
  std::lock_guard lock(mu_);
  // O_APPEND and one write per line: lines never interleave, even across processes.
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
  if (++unsynced_ >= 64) {
    ::fdatasync(fd_);
    unsynced_ = 0;
  }
}

}  // namespace isucoin::loadgen
