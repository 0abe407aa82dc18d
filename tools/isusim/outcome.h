#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace isusim {

// The answer of a simulated service call, before it becomes an HTTP response.
struct Outcome {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

inline Outcome Ok(nlohmann::json body = nlohmann::json::object()) { return Outcome{200, std::move(body)}; }
inline Outcome Error(int status, std::string_view message) {
  return Outcome{status, nlohmann::json{{"error", message}}};
}

}  // namespace isusim
