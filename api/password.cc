#include "api/password.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace isucoin::api {

std::optional<std::string> HashPassword(const std::string& password, int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // nullptr random bytes: libxcrypt reads the OS's CSPRNG itself.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt,
                       sizeof salt) == nullptr) {
    return std::nullopt;
  }
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a worker's stack
  const char* out = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return std::nullopt;
  return std::string(out);
}

bool VerifyPassword(const std::string& password, const std::string& hash) {
  if (hash.size() < 7 || hash[0] != '$' || hash[1] != '2') return false;
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return false;
  std::string result(out);
  return result.size() == hash.size() &&
         CRYPTO_memcmp(result.data(), hash.data(), hash.size()) == 0;
}

}  // namespace isucoin::api
