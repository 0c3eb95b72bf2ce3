#include "bridge/http/http_error.h"

#include "absl/strings/str_cat.h"
#include "bridge/core/json_text.h"

namespace ssebridge {

void SetJsonError(httplib::Response& res, int status, absl::string_view code,
                  absl::string_view message) {
  res.status = status;
  res.set_content(
      absl::StrCat("{\"error\":", JsonQuote(code), ",\"message\":", JsonQuote(message), "}\n"),
      "application/json");
}

absl::string_view HttpErrorCode(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 431:
      return "header_too_large";
    case 429:
      return "resource_exhausted";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

void SetUnauthenticated(httplib::Response& res, absl::string_view message, bool credential_sent) {
  res.set_header("WWW-Authenticate", credential_sent
                                         ? "Bearer realm=\"ssebridge\", error=\"invalid_token\""
                                         : "Bearer realm=\"ssebridge\"");
  SetJsonError(res, 401, "unauthenticated", message);
}

}  // namespace ssebridge
