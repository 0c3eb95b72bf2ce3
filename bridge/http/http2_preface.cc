#include "bridge/http/http2_preface.h"

#include <algorithm>

namespace ssebridge {

ProtocolGuess GuessProtocol(absl::string_view first_bytes) {
  const size_t n = std::min(first_bytes.size(), kHttp2ClientPreface.size());
  if (first_bytes.substr(0, n) != kHttp2ClientPreface.substr(0, n)) {
    return ProtocolGuess::kHttp1;
  }
  return n == kHttp2ClientPreface.size() ? ProtocolGuess::kHttp2 : ProtocolGuess::kUndecided;
}

}  // namespace ssebridge
