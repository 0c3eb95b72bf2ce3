// Mints HS256 JWTs for the per-user scenario: stream i authenticates as user
// "u<i>" (the publisher's --user_targets names users the same way), so the
// bridge's targeting is measured with real identities.
#ifndef SSEBRIDGE_BENCH_LOADGEN_JWT_MINT_H_
#define SSEBRIDGE_BENCH_LOADGEN_JWT_MINT_H_

#include <string>

namespace bench {

// A token {"sub": subject, "channels": ["*"]} signed with `secret`.
std::string MintHs256(const std::string& secret, const std::string& subject);

}  // namespace bench

#endif  // SSEBRIDGE_BENCH_LOADGEN_JWT_MINT_H_
