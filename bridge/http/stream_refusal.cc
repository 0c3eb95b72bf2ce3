#include "bridge/http/stream_refusal.h"

#include "bridge/http/http_error.h"

namespace ssebridge {

void SetStreamRefusal(httplib::Response& res, const absl::Status& refusal,
                      bool credential_rejected) {
  switch (refusal.code()) {
    case absl::StatusCode::kInvalidArgument:
      SetJsonError(res, 400, "invalid_argument", refusal.message());
      return;
    case absl::StatusCode::kUnauthenticated:
      SetUnauthenticated(res, refusal.message(), credential_rejected);
      return;
    case absl::StatusCode::kPermissionDenied:
      SetJsonError(res, 403, "permission_denied", refusal.message());
      return;
    case absl::StatusCode::kResourceExhausted:
      res.set_header("Retry-After", kRetryAfterLimitedSeconds);
      SetJsonError(res, 429, "resource_exhausted", refusal.message());
      return;
    case absl::StatusCode::kUnavailable:
      res.set_header("Retry-After", kRetryAfterUnavailableSeconds);
      SetJsonError(res, 503, "unavailable", refusal.message());
      return;
    default:
      SetJsonError(res, 500, "internal", refusal.message());
      return;
  }
}

}  // namespace ssebridge
