// hostile_wire: raw-socket helpers shared by the hostile HTTP tests
// (tests/hostile/*_test.cc): the first response in a byte
// string, a metric's value, whether the bridge still holds a connection.
#ifndef SSEBRIDGE_TESTS_HARNESS_HOSTILE_WIRE_H_
#define SSEBRIDGE_TESTS_HARNESS_HOSTILE_WIRE_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "tests/harness/http_request.h"

namespace ssebridge_it {

// A refusal must come at once, not at a deadline (the header and body
// timeouts are 10 s by default).
inline constexpr absl::Duration kPrompt = absl::Seconds(3);

// The head of a JSON POST /v1/publish, without its framing headers and
// without the blank line.
inline constexpr char kPublishHead[] =
    "POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";

size_t CountOf(const std::string& text, const std::string& needle);
// The first response in `bytes` (its head, and the rest as body).
HttpResponse FirstResponse(const std::string& bytes);
// An integer sample of GET /metrics; -1 when absent.
// `port`: the internal listener (--admin_port), where /metrics is served.
long long MetricValue(int port, const std::string& name);
// True while the bridge has neither answered nor closed `fd`.
bool StillWaiting(int fd);
// A loopback connection (a test failure and -1 when it cannot connect).
int Connect(int port);
// A blocking connection to 127.0.0.1:`port` from `source` (another loopback
// address such as 127.0.0.2: a second client as the bridge counts them).
int ConnectFrom(const std::string& source, int port);
// Reads until the bridge closes `fd` (or `timeout`); true when it closed.
bool ReadToClose(int fd, absl::Duration timeout, std::string* got);
// Reads one response (head and Content-Length body) from a kept-alive
// connection by `deadline`; `buffer` keeps what came after it. `error` set
// when none came whole.
HttpResponse ReadResponse(int fd, absl::Time deadline, std::string* buffer);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_HOSTILE_WIRE_H_
