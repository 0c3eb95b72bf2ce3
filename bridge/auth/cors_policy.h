// CorsPolicy: which browser origins may subscribe and publish. Browsers send
// `Origin`; an allowed one is echoed in Access-Control-Allow-Origin (with
// Vary: Origin, and credentials allowed so EventSource's withCredentials
// works). '*' allows any origin without credentials.
#ifndef SSEBRIDGE_AUTH_CORS_POLICY_H_
#define SSEBRIDGE_AUTH_CORS_POLICY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

class CorsPolicy {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // "https://a.example,https://b.example" or "*" or "" (no CORS).
  static absl::StatusOr<CorsPolicy> Parse(absl::string_view origins);

  // Response headers for a request carrying `origin` (empty when the request
  // had none or the origin is not allowed).
  Headers ForOrigin(absl::string_view origin) const;
  // Extra headers answering a preflight (OPTIONS) request.
  Headers ForPreflight(absl::string_view origin) const;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_CORS_POLICY_H_
