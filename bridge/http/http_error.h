// The bridge's HTTP error replies: every 4xx/5xx it writes has the body
// {"error": "<code>", "message": "<field>: <why>"} with a stable code per
// status, so clients branch on `error` and show `message`.
#ifndef SSEBRIDGE_HTTP_HTTP_ERROR_H_
#define SSEBRIDGE_HTTP_HTTP_ERROR_H_

#include <httplib.h>

#include "absl/strings/string_view.h"

namespace ssebridge {

// Sets status and the JSON body (with a trailing newline, for curl users).
void SetJsonError(httplib::Response& res, int status, absl::string_view code,
                  absl::string_view message);

// The code an error status gets when the handler named none (httplib's own
// 404/413/414/431 and the like).
absl::string_view HttpErrorCode(int status);

// RFC 6750: a 401 names the Bearer scheme; after a rejected credential it
// adds error="invalid_token".
void SetUnauthenticated(httplib::Response& res, absl::string_view message, bool credential_sent);

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_HTTP_ERROR_H_
