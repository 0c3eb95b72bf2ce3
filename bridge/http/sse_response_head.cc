#include "bridge/http/sse_response_head.h"

#include "absl/strings/str_cat.h"

namespace ssebridge {

std::string SseResponseHead(const std::string& request_version, const httplib::Headers& extra) {
  std::string head = absl::StrCat(request_version == "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1",
                                  " 200 OK\r\nContent-Type: text/event-stream\r\n"
                                  "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
  for (const auto& [k, v] : extra) absl::StrAppend(&head, k, ": ", v, "\r\n");
  head += "\r\n";
  return head;
}

}  // namespace ssebridge
