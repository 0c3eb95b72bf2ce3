// The public HTTP listener's options, from the flags. Wiring only (like
// main.cc): the internal listener starts from the same options and changes
// its address, port and threads.
#ifndef SSEBRIDGE_HTTP_WIRING_H_
#define SSEBRIDGE_HTTP_WIRING_H_

#include <cstddef>

#include "bridge/http/http_server.h"

namespace ssebridge {

// `max_event_bytes` sizes the default body limit; `max_channels` is
// --max_channels_per_connection, already read by the caller.
HttpServer::Options HttpOptionsFromFlags(size_t max_event_bytes, size_t max_channels);

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_WIRING_H_
