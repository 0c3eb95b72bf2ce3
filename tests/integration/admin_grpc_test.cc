// gRPC Admin on the internal port (issue 18, item 1): the internal listener
// serves HTTP/1 (/metrics, the status page) and plaintext gRPC on one port,
// told apart by the HTTP/2 client preface; the public gRPC port no longer
// serves Admin. The preface may arrive in pieces, and an HTTP/1 request
// whose first bytes look like its start is still answered as HTTP/1.
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

bool SendAll(int fd, const std::string& bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// Reads until `fd` has at least `n` bytes or closes, or `timeout`.
std::string ReadAtLeast(int fd, size_t n, absl::Duration timeout) {
  std::string got;
  const absl::Time end = absl::Now() + timeout;
  while (got.size() < n && absl::Now() < end) {
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    const ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
    if (r == 0) break;
    if (r > 0) got.append(buf, static_cast<size_t>(r));
  }
  return got;
}

TEST(AdminGrpcTest, AdminOnlyOnTheInternalPortNextToMetrics) {
  auto bridge = StartBridge();  // dev mode: Admin is open
  ASSERT_NE(bridge, nullptr);
  ASSERT_GT(bridge->admin_port(), 0);
  AuthedGrpc internal(InsecureChannel(bridge->admin_port()), "");
  AuthedGrpc public_port(InsecureChannel(bridge->grpc_port()), "");

  v1::Stats stats;
  grpc::Status s = internal.GetStats(&stats);
  EXPECT_TRUE(s.ok()) << StatusText(s);
  v1::DisconnectUserResponse resp;
  s = internal.DisconnectUser("nobody", &resp);
  EXPECT_TRUE(s.ok()) << StatusText(s);

  EXPECT_EQ(public_port.GetStats(&stats).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(public_port.DisconnectUser("nobody", &resp).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  // Only Admin moved: publishing stays on the public port.
  v1::PublishResponse published;
  EXPECT_TRUE(public_port.Publish(MakePublish("a", "x"), &published).ok());
  EXPECT_EQ(internal.Publish(MakePublish("a", "x"), &published).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  // One gRPC server serves both ports, so every other service refuses the
  // internal port itself: a call there must not skip the gRPC port's TLS.
  v1::IssueTicketResponse ticket;
  EXPECT_EQ(internal.IssueTicket("u1", {"a"}, 60, &ticket).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(internal.SubscribeStatus({"a"}).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(public_port.SubscribeStatus({"a"}).ok());

  // HTTP/1 on the same port, while the gRPC connection stays open.
  HttpResponse metrics = HttpGet(bridge->admin_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_TRUE(internal.GetStats(&stats).ok());
}

TEST(AdminGrpcTest, PrefaceInPiecesAndLookalikeHttp1) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->admin_port();

  // The HTTP/2 preface in three pieces: the server's SETTINGS frame (type
  // 4, the fourth byte of a frame header) answers it.
  int h2 = Connect(port);
  ASSERT_GE(h2, 0);
  const std::string preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  ASSERT_TRUE(SendAll(h2, preface.substr(0, 1)));
  ASSERT_TRUE(StillWaiting(h2));
  ASSERT_TRUE(SendAll(h2, preface.substr(1, 10)));
  ASSERT_TRUE(StillWaiting(h2));
  ASSERT_TRUE(SendAll(h2, preface.substr(11)));
  // An empty SETTINGS frame of the client's own.
  ASSERT_TRUE(SendAll(h2, std::string("\0\0\0\4\0\0\0\0\0", 9)));
  const std::string settings = ReadAtLeast(h2, 9, kWait);
  ASSERT_GE(settings.size(), 9u);
  EXPECT_EQ(settings[3], '\4') << "not an HTTP/2 SETTINGS frame";
  ::close(h2);

  // "P" is a start of the preface and of "PUT": answered as HTTP/1.
  int h1 = Connect(port);
  ASSERT_GE(h1, 0);
  ASSERT_TRUE(SendAll(h1, "P"));
  ASSERT_TRUE(StillWaiting(h1));
  ASSERT_TRUE(SendAll(h1,
                      "UT /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                      "Connection: close\r\n\r\n"));
  std::string got;
  EXPECT_TRUE(ReadToClose(h1, kWait, &got));
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 ")) << got;
  ::close(h1);

  // The public port has no gRPC handover: a preface there is a bad request.
  int pub = Connect(bridge->http_port());
  ASSERT_GE(pub, 0);
  ASSERT_TRUE(SendAll(pub, preface));
  got.clear();
  EXPECT_TRUE(ReadToClose(pub, kWait, &got));
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 4")) << got;
  ::close(pub);
}

TEST(AdminGrpcTest, AStalledPrefaceIsClosedAtTheHeaderDeadline) {
  auto bridge = StartBridge({"--http_header_timeout=1s"});
  ASSERT_NE(bridge, nullptr);
  int fd = Connect(bridge->admin_port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "PRI * HTTP/2.0\r\n"));
  std::string got;
  EXPECT_TRUE(ReadToClose(fd, kWait, &got));
  ::close(fd);
}

}  // namespace
}  // namespace ssebridge_it
