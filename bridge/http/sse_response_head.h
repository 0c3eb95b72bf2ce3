// SseResponseHead: the status line and headers that open every SSE response
// the bridge writes itself (a stream taken off httplib is written by the
// StreamWriter, so httplib never sends this head). One place, so both
// stream doors (GET /v1/events and the status page's /ui/events) answer
// with the same caching and proxy-buffering headers. The SSE body's first
// bytes come from the encoder, not from here.
#ifndef SSEBRIDGE_HTTP_SSE_RESPONSE_HEAD_H_
#define SSEBRIDGE_HTTP_SSE_RESPONSE_HEAD_H_

#include <httplib.h>

#include <string>

namespace ssebridge {

// "HTTP/1.x 200 OK", Content-Type, Cache-Control: no-cache,
// X-Accel-Buffering: no (so nginx does not hold events back), then
// `extra` (CORS and the like) and the blank line. HTTP/1.0 requests get an
// HTTP/1.0 status line.
std::string SseResponseHead(const std::string& request_version, const httplib::Headers& extra);

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_SSE_RESPONSE_HEAD_H_
