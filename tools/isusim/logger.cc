#include "tools/isusim/logger.h"

#include <string>

namespace isusim {
namespace {

// Returns an error message, or "" when `r` is a well-formed {tag, time, data} record.
std::string RecordProblem(const nlohmann::json& r) {
  if (!r.is_object()) return "must be an object";
  auto tag = r.find("tag");
  if (tag == r.end() || !tag->is_string()) return "tag must be a string";
  if (tag->get_ref<const std::string&>().empty()) return "tag must not be empty";
  auto time = r.find("time");
  if (time == r.end() || !time->is_string()) return "time must be a string";
  if (time->get_ref<const std::string&>().empty()) return "time must not be empty";
  auto data = r.find("data");
  if (data == r.end() || !data->is_object()) return "data must be an object";
  return {};
}

}  // namespace

std::optional<Outcome> Logger::Admit(const std::string& appid, size_t body_bytes, int64_t now_ms) {
  if (body_bytes > kMaxBodyBytes) {
    return Error(413, "body is " + std::to_string(body_bytes) + " bytes, over the limit of " +
                          std::to_string(kMaxBodyBytes));
  }
  Limits& l = limits_[appid];
  while (!l.admitted_ms.empty() && l.admitted_ms.front() <= now_ms - 1000) l.admitted_ms.pop_front();
  if (l.in_flight >= kMaxInFlight) {
    return Error(429, "too many requests in flight (limit " + std::to_string(kMaxInFlight) + ")");
  }
  if (static_cast<int>(l.admitted_ms.size()) >= kMaxPerSecond) {
    return Error(429, "too many requests in the last second (limit " + std::to_string(kMaxPerSecond) + ")");
  }
  l.admitted_ms.push_back(now_ms);
  ++l.in_flight;
  return std::nullopt;
}

void Logger::Done(const std::string& appid) {
  auto it = limits_.find(appid);
  if (it != limits_.end() && it->second.in_flight > 0) --it->second.in_flight;
}

Outcome Logger::Accept(const std::string& appid, const std::string& body, bool bulk, int64_t now_ms) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(400, "body is not valid JSON");
  std::vector<const nlohmann::json*> items;
  if (bulk) {
    if (!j.is_array()) return Error(400, "send_bulk body must be an array of records");
    if (j.empty()) return Error(400, "send_bulk body has no records");
    for (size_t i = 0; i < j.size(); ++i) {
      std::string problem = RecordProblem(j[i]);
      if (!problem.empty()) return Error(400, "record " + std::to_string(i) + ": " + problem);
      items.push_back(&j[i]);
    }
  } else {
    std::string problem = RecordProblem(j);
    if (!problem.empty()) return Error(400, "record: " + problem);
    items.push_back(&j);
  }
  for (const nlohmann::json* r : items) {
    records_.push_back(Record{appid, (*r)["tag"].get<std::string>(), (*r)["time"].get<std::string>(),
                              (*r)["data"], now_ms});
  }
  return Ok();
}

nlohmann::json Logger::Records(size_t since) const {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = since; i < records_.size(); ++i) {
    const Record& r = records_[i];
    out.push_back({{"appid", r.appid},
                   {"tag", r.tag},
                   {"time", r.time},
                   {"data", r.data},
                   {"received_at_ms", r.received_at_ms}});
  }
  return out;
}

void Logger::Reset() {
  records_.clear();
  for (auto& [appid, l] : limits_) l.admitted_ms.clear();
}

}  // namespace isusim
