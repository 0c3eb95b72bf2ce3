// JwtKeysFixture: the key set the JWT fuzz targets verify against, built
// once per process: HS256 "k1" (a fixed secret the structured target signs
// with), HS512 "k2", and a freshly generated RS256 "r1" and ES256 "e1", so a
// random token can reach every verification path.
#ifndef SSEBRIDGE_TESTS_FUZZ_JWT_KEYS_FIXTURE_H_
#define SSEBRIDGE_TESTS_FUZZ_JWT_KEYS_FIXTURE_H_

#include <memory>
#include <string>

#include "bridge/auth/jwt_keys.h"

namespace ssebridge {

inline const std::string& FuzzHs256Secret() {
  static const std::string* secret = new std::string("fuzz-hs256-secret-0123456789abcdef");
  return *secret;
}

// Aborts when a key cannot be made: the fuzz run would be meaningless.
std::shared_ptr<const JwtKeySet> MakeFuzzJwtKeys();

}  // namespace ssebridge

#endif  // SSEBRIDGE_TESTS_FUZZ_JWT_KEYS_FIXTURE_H_
