// SetStreamRefusal: how an HTTP door answers a StreamAdmission refusal (see
// stream_admission.h for the codes). Every answer is the JSON error body;
// 401 adds the Bearer challenge (error="invalid_token" once a presented
// credential was rejected, RFC 6750); 429 and 503 say when to come back in
// Retry-After, since both pass by themselves: a per-user or per-address
// slot frees when a stream of that reader closes (10 s), a full, draining or
// broker-less replica recovers or is replaced behind the load balancer (5 s).
// EventSource ignores Retry-After; the browser SDK waits for it.
#ifndef SSEBRIDGE_HTTP_STREAM_REFUSAL_H_
#define SSEBRIDGE_HTTP_STREAM_REFUSAL_H_

#include <httplib.h>

#include "absl/status/status.h"

namespace ssebridge {

inline constexpr char kRetryAfterLimitedSeconds[] = "10";
inline constexpr char kRetryAfterUnavailableSeconds[] = "5";

void SetStreamRefusal(httplib::Response& res, const absl::Status& refusal,
                      bool credential_rejected);

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_STREAM_REFUSAL_H_
