// bcrypt through libxcrypt. Both calls cost milliseconds by design: run them on the worker
// pool, never on a reactor thread.
#pragma once

#include <optional>
#include <string>

namespace isucoin::api {

// A "$2b$<cost>$…" hash of `password` with a fresh random salt; nullopt if libxcrypt fails.
std::optional<std::string> HashPassword(const std::string& password, int cost);

// Whether `password` matches `hash` ($2a$, $2b$, $2y$, any cost — whatever libxcrypt reads).
// A malformed hash never matches.
bool VerifyPassword(const std::string& password, const std::string& hash);

}  // namespace isucoin::api
