// sse_client: a raw-socket GET of an SSE stream from the bridge (127.0.0.1
// only), fed incrementally into an SseParser. Single-threaded: bytes are read
// only inside the Read*/Wait* calls, so a test can also stop reading (and
// with a small SO_RCVBUF set before connect, play a slow consumer).
#ifndef SSEBRIDGE_TESTS_HARNESS_SSE_CLIENT_H_
#define SSEBRIDGE_TESTS_HARNESS_SSE_CLIENT_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/harness/http_wire.h"
#include "tests/harness/sse_parser.h"

namespace ssebridge_it {

struct SseClientOptions {
  HeaderList headers;    // extra request headers (e.g. Last-Event-ID)
  int rcvbuf_bytes = 0;  // > 0: SO_RCVBUF set before connect()
  bool keep_raw = true;  // keep every body byte in raw_body()
};

class SseClient {
 public:
  SseClient() = default;
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Connects and sends "GET target". Reads nothing. Forgets what an earlier
  // connection of this client read, so a client can be reused for retries.
  bool Connect(int port, const std::string& target, const SseClientOptions& options = {});
  // Reads until the response head is complete.
  bool ReadHead(absl::Duration timeout);
  // Connect + ReadHead; for a 200, also waits for the opening bytes (at least
  // one comment and one retry: field). False (see error()) otherwise.
  bool Open(int port, const std::string& target, const SseClientOptions& options = {},
            absl::Duration timeout = absl::Seconds(20));

  // Reads until pred() holds, the stream ends, or timeout. Returns pred().
  bool ReadUntil(const std::function<bool()>& pred, absl::Duration timeout);
  // Reads until at least n events were parsed.
  bool WaitForEvents(size_t n, absl::Duration timeout);
  // Reads until an event with this data arrived.
  bool WaitForData(const std::string& data, absl::Duration timeout);
  // Reads until the peer closes (EOF or reset). Returns closed().
  bool WaitForClose(absl::Duration timeout);
  // Reads whatever arrives during d (pacing only, never an assertion).
  void ReadFor(absl::Duration d);
  // Reads what is already available, without waiting.
  void Drain();

  int status() const { return status_; }
  const HeaderList& headers() const { return headers_; }
  std::optional<std::string> Header(absl::string_view name) const {
    return FindHeader(headers_, name);
  }
  const std::string& raw_head() const { return raw_head_; }
  const std::string& raw_body() const { return raw_body_; }
  size_t body_bytes() const { return body_bytes_; }
  const std::vector<SseEvent>& events() const { return parser_.events(); }
  const std::vector<std::string>& comments() const { return parser_.comments(); }
  const std::vector<int64_t>& retries() const { return parser_.retries(); }
  const SseParser& parser() const { return parser_; }

  // The stream ended: EOF, or a reset (reset_by_peer()).
  bool closed() const { return closed_; }
  bool eof() const { return closed_ && !reset_; }
  bool reset_by_peer() const { return reset_; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }
  void Close();

  // One-line summary for failure messages.
  std::string Describe() const;

 private:
  // One recv() (waiting until deadline); false when nothing more can come.
  bool ReadOnce(absl::Time deadline);
  void OnBytes(absl::string_view bytes);
  void ForgetResponse();

  int fd_ = -1;
  SseClientOptions options_;
  std::string pending_head_;
  bool head_done_ = false;
  int status_ = 0;
  HeaderList headers_;
  std::string raw_head_;
  bool chunked_ = false;
  ChunkedDecoder chunks_;
  std::string raw_body_;
  size_t body_bytes_ = 0;
  SseParser parser_;
  bool closed_ = false;
  bool reset_ = false;
  std::string error_;
};

// "/v1/events?channel=a&channel=b[&lastEventId=...]"
std::string EventsTarget(const std::vector<std::string>& channels,
                         const std::string& last_event_id = "");

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_SSE_CLIENT_H_
