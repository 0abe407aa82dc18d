#include "effects/shipper_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace isucoin::effects {
namespace {

using nlohmann::json;

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

Status WriteAllAndSync(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return Errno("fsync " + path);
  return Status::Ok();
}

}  // namespace

std::string EncodeResumePoint(const ResumePoint& p) {
  json j = {{"v", 1}, {"offset", p.at.offset}, {"index", p.at.index}};
  j["applied"] = p.applied ? json{{"cause", p.applied->cause}, {"index", p.applied->index}}
                           : json(nullptr);
  j["endpoint"] = p.endpoint.empty() ? json(nullptr)
                                     : json{{"url", p.endpoint.url}, {"app_id", p.endpoint.app_id}};
  return j.dump() + "\n";
}

Result<ResumePoint> DecodeResumePoint(const std::string& text) {
  try {
    const json j = json::parse(text);
    if (j.at("v").get<int>() != 1) return Status::Invalid("unknown checkpoint version");
    ResumePoint p;
    p.at.offset = j.at("offset").get<events::Offset>();
    p.at.index = j.at("index").get<std::uint32_t>();
    if (!j.at("applied").is_null()) {
      p.applied = events::Sequence{j["applied"].at("cause").get<std::uint64_t>(),
                                   j["applied"].at("index").get<std::uint32_t>()};
    }
    if (!j.at("endpoint").is_null()) {
      p.endpoint.url = j["endpoint"].at("url").get<std::string>();
      p.endpoint.app_id = j["endpoint"].at("app_id").get<std::string>();
    }
    return p;
  } catch (const json::exception& e) {
    return Status::Invalid(std::string("bad shipper checkpoint: ") + e.what());
  }
}

Result<std::optional<ResumePoint>> ReadShipperCheckpoint(const std::string& dir) {
  const std::string path = dir + "/" + kShipperCheckpointFile;
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<ResumePoint>();
    return Status::IOError("cannot read " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  auto p = DecodeResumePoint(text.str());
  if (!p.ok()) return Status::Corruption(path + ": " + p.status().message());
  return std::optional<ResumePoint>(p.value());
}

Status WriteShipperCheckpoint(const std::string& dir, const ResumePoint& point) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  const std::string path = dir + "/" + kShipperCheckpointFile;
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + tmp);
  Status s = WriteAllAndSync(fd, EncodeResumePoint(point), tmp);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp);
  // The rename itself must be durable, or a crash could bring the old checkpoint back (only
  // more duplicates, never a loss — but the sync is cheap at our checkpoint rate).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("open " + dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Errno("fsync " + dir);
  return Status::Ok();
}

}  // namespace isucoin::effects
