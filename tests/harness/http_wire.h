// http_wire: the raw-socket pieces shared by the HTTP and SSE test clients.
// Loopback TCP only, every call bounded by a deadline, no SIGPIPE.
#ifndef SSEBRIDGE_TESTS_HARNESS_HTTP_WIRE_H_
#define SSEBRIDGE_TESTS_HARNESS_HTTP_WIRE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ssebridge_it {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Connects a TCP socket to 127.0.0.1:port. With rcvbuf_bytes > 0, SO_RCVBUF
// is set before connect() (so the advertised window stays small). Returns
// the fd (blocking mode, close-on-exec) or -1 with *error set.
int ConnectLoopback(int port, int rcvbuf_bytes, absl::Duration timeout, std::string* error);

// Writes all of `data` before `deadline`. False with *error on failure.
bool SendAll(int fd, absl::string_view data, absl::Time deadline, std::string* error);

enum class RecvResult { kData, kEof, kReset, kTimeout, kError };

// Waits until `deadline` for bytes; appends what one recv() returns.
RecvResult RecvSome(int fd, absl::Time deadline, std::string* out, std::string* error);

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the blank line).
bool ParseResponseHead(absl::string_view head, int* status, HeaderList* headers);

// Case-insensitive lookup of the first header named `name`.
std::optional<std::string> FindHeader(const HeaderList& headers, absl::string_view name);
int CountHeader(const HeaderList& headers, absl::string_view name);

// Incremental decoder of a chunked transfer-encoded body.
class ChunkedDecoder {
 public:
  // Appends the decoded bytes of `in` to *out. False on a framing error.
  bool Feed(absl::string_view in, std::string* out);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kSize, kData, kDataCrLf, kTrailer, kDone };
  State state_ = State::kSize;
  std::string line_;
  size_t remaining_ = 0;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_HTTP_WIRE_H_
