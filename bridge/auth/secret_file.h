// ReadSecretFile: the contents of a file that holds one secret (a JWT HMAC
// secret, a Redis password), as mounted from a Kubernetes Secret or written
// by `echo`. Trailing CR/LF are dropped because editors and `echo` add them
// and no secret we read may end in one; everything else is kept byte for
// byte, so a secret may hold any byte including NUL.
#ifndef SSEBRIDGE_AUTH_SECRET_FILE_H_
#define SSEBRIDGE_AUTH_SECRET_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace ssebridge {

// InvalidArgument naming PATH when it cannot be opened or read, is a
// directory, or is over 1 MiB (ReadSmallFile).
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_SECRET_FILE_H_
