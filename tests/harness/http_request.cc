#include "tests/harness/http_request.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ssebridge_it {

HttpResponse HttpRequest(int port, absl::string_view method, absl::string_view target,
                         absl::string_view body, const HeaderList& extra_headers,
                         absl::Duration timeout) {
  HttpResponse resp;
  absl::Time deadline = absl::Now() + timeout;
  int fd = ConnectLoopback(port, 0, timeout, &resp.error);
  if (fd < 0) return resp;
  std::string req = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                 "\r\nConnection: close\r\n");
  for (const auto& [k, v] : extra_headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    absl::StrAppend(&req, "Content-Length: ", body.size(), "\r\n");
  }
  absl::StrAppend(&req, "\r\n", body);
  if (!SendAll(fd, req, deadline, &resp.error)) {
    ::close(fd);
    return resp;
  }
  std::string raw;
  size_t head_end = std::string::npos;
  std::optional<size_t> content_length;
  bool chunked = false;
  for (int reads = 0; reads < 1000000; ++reads) {
    if (head_end == std::string::npos) {
      head_end = raw.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        if (!ParseResponseHead(absl::string_view(raw).substr(0, head_end), &resp.status,
                               &resp.headers)) {
          resp.error = "malformed response head: " + raw.substr(0, head_end);
          break;
        }
        if (auto te = resp.Header("Transfer-Encoding");
            te && absl::StrContains(absl::AsciiStrToLower(*te), "chunked")) {
          chunked = true;
        } else if (auto cl = resp.Header("Content-Length")) {
          size_t n = 0;
          if (absl::SimpleAtoi(*cl, &n)) content_length = n;
        }
      }
    }
    if (head_end != std::string::npos) {
      absl::string_view rest = absl::string_view(raw).substr(head_end + 4);
      if (chunked) {
        std::string decoded;
        ChunkedDecoder fresh;
        if (!fresh.Feed(rest, &decoded)) {
          resp.error = "malformed chunked body";
          break;
        }
        if (fresh.done()) {
          resp.body = decoded;
          break;
        }
      } else if (content_length && rest.size() >= *content_length) {
        resp.body = std::string(rest.substr(0, *content_length));
        break;
      }
    }
    std::string err;
    RecvResult r = RecvSome(fd, deadline, &raw, &err);
    if (r == RecvResult::kData) continue;
    if (r == RecvResult::kEof && head_end != std::string::npos && !content_length && !chunked) {
      resp.body = raw.substr(head_end + 4);
      break;
    }
    resp.error = absl::StrCat(r == RecvResult::kTimeout ? "timed out"
                              : r == RecvResult::kEof   ? "connection closed early"
                              : r == RecvResult::kReset ? "connection reset"
                                                        : err,
                              " reading the response to ", method, " ", target, "; got ",
                              raw.size(), " bytes: ", raw.substr(0, 300));
    break;
  }
  ::close(fd);
  return resp;
}

std::string SendRawHttp(int port, absl::string_view raw, absl::Duration timeout, bool* closed,
                        std::string* error) {
  *closed = false;
  absl::Time deadline = absl::Now() + timeout;
  int fd = ConnectLoopback(port, 0, timeout, error);
  if (fd < 0) return "";
  std::string out;
  if (!SendAll(fd, raw, deadline, error)) {
    ::close(fd);
    return out;
  }
  for (int reads = 0; reads < 100000; ++reads) {
    RecvResult r = RecvSome(fd, deadline, &out, error);
    if (r == RecvResult::kData) continue;
    if (r == RecvResult::kEof || r == RecvResult::kReset) *closed = true;
    break;
  }
  ::close(fd);
  return out;
}

}  // namespace ssebridge_it
