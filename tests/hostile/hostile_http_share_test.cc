// Hostile clients, one address against the others (issue 16, beyond the
// list): what the request reader holds for clients that have not finished a
// request (connections, bytes being received) is shared per client address,
// so one address cannot take it all. A second client is a second loopback
// address (127.0.0.2), which the bridge counts apart.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_wire.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Sends `request` on a fresh connection from `source` and reads the answer
// up to the connection's close (every request here says Connection: close).
std::string AskFrom(const std::string& source, int port, const std::string& request) {
  const int fd = ConnectFrom(source, port);
  if (fd < 0) return "";
  std::string error;
  EXPECT_TRUE(SendAll(fd, request, absl::Now() + kWait, &error)) << error;
  std::string got;
  EXPECT_TRUE(ReadToClose(fd, kWait, &got));
  ::close(fd);
  return got;
}

std::string SmallPublish() {
  const std::string body = R"({"channel":"share","data":"small"})";
  return absl::StrCat(kPublishHead, "Connection: close\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body);
}

// The bytes one address has in flight stop at --http_body_buffer_bytes_per_ip
// (503 naming it, at once), while another address still publishes.
TEST(HostileHttpShareTest, BytesBeingReceivedAreSharedPerAddress) {
  constexpr size_t kBody = 128 * 1024;
  constexpr size_t kShare = 256 * 1024;
  auto bridge =
      StartBridge({absl::StrCat("--max_body_bytes=", kBody), "--http_body_buffer_bytes=4194304",
                   absl::StrCat("--http_body_buffer_bytes_per_ip=", kShare)});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  const std::string head = absl::StrCat(kPublishHead, "Content-Length: ", kBody, "\r\n\r\n");
  const std::string most(kBody - 8 * 1024, 'b');  // never the rest
  std::vector<int> held;
  std::string error;
  for (int i = 0; i < 2; ++i) {
    const int fd = ConnectFrom("127.0.0.1", port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, head + most, absl::Now() + kWait, &error)) << error;
    held.push_back(fd);
  }
  const absl::Time end = absl::Now() + kWait;
  while (absl::Now() < end && MetricValue(bridge->admin_port(), "ssebridge_http_receiving_bytes") <
                                  static_cast<long long>(2 * most.size())) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  // The same address once more: past its share, though far from the total.
  const std::string third = AskFrom("127.0.0.1", port, head + std::string(32 * 1024, 'c'));
  ExpectJsonError(FirstResponse(third), 503, "unavailable", "--http_body_buffer_bytes_per_ip");
  // Another address is not charged for it.
  const HttpResponse other = FirstResponse(AskFrom("127.0.0.2", port, SmallPublish()));
  EXPECT_EQ(other.status, 200) << other.body;
  for (int fd : held) {
    EXPECT_TRUE(StillWaiting(fd));
    ::close(fd);
  }
}

// Connections one address holds waiting for a request stop at
// --http_waiting_connections_per_ip: the next is answered 503 naming it,
// and another address is still served.
TEST(HostileHttpShareTest, WaitingConnectionsAreSharedPerAddress) {
  constexpr int kShare = 4;
  auto bridge = StartBridge({absl::StrCat("--http_waiting_connections_per_ip=", kShare)});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  std::vector<int> idle;
  for (int i = 0; i < kShare; ++i) {
    const int fd = ConnectFrom("127.0.0.1", port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  const absl::Time end = absl::Now() + kWait;
  while (absl::Now() < end &&
         MetricValue(bridge->admin_port(), "ssebridge_http_waiting_connections") < kShare) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(MetricValue(bridge->admin_port(), "ssebridge_http_waiting_connections"), kShare);
  const std::string refused =
      AskFrom("127.0.0.1", port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ExpectJsonError(FirstResponse(refused), 503, "unavailable", "--http_waiting_connections_per_ip");
  const HttpResponse other = FirstResponse(
      AskFrom("127.0.0.2", port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(other.status, 200) << other.body;
  for (int fd : idle) {
    EXPECT_TRUE(StillWaiting(fd));
    ::close(fd);
  }
}

}  // namespace
}  // namespace ssebridge_it
