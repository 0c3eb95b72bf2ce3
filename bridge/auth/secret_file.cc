#include "bridge/auth/secret_file.h"

#include "absl/status/status.h"
#include "bridge/auth/jwt_keys.h"

namespace ssebridge {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  absl::StatusOr<std::string> secret = ReadSmallFile(path);
  // Callers name their flag; every failure here is a bad flag value.
  if (!secret.ok()) return absl::InvalidArgumentError(secret.status().message());
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) {
    secret->pop_back();
  }
  return secret;
}

}  // namespace ssebridge
