// StreamWriter over a socketpair: the real epoll loop, no HTTP.
#include "bridge/sse/stream_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ssebridge {
namespace {

EventPtr SeqEvent(uint64_t seq, const std::string& channel) {
  auto ev = std::make_shared<Event>();
  ev->seq = seq;
  ev->id = absl::StrCat("e-", seq);
  ev->channel = channel;
  ev->type = "message";
  ev->data = absl::StrCat("payload ", seq);
  ev->frame = absl::StrCat("id: ", ev->id, "\ndata: ", ev->data, "\n\n");
  return ev;
}

// Reads from `fd` until `want` appears in what was read or `timeout` passes.
std::string ReadUntil(int fd, const std::string& want, absl::Duration timeout) {
  std::string got;
  absl::Time end = absl::Now() + timeout;
  while (got.find(want) == std::string::npos && absl::Now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

class StreamWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    fcntl(fds_[0], F_SETFL, fcntl(fds_[0], F_GETFL) | O_NONBLOCK);
  }
  void TearDown() override {
    writer_.Stop();
    close(fds_[1]);
  }
  std::shared_ptr<Subscription> Open(std::vector<std::string> channels) {
    Subscription::Options o;
    o.channels = std::move(channels);
    o.queue_bytes = 1 << 20;
    return writer_.Open(fds_[0], o, policies_, "HEAD\n", {});
  }

  Hub hub_{2};
  StreamWriter writer_{{absl::Milliseconds(100)}, &hub_};
  PolicyTable policies_;
  int fds_[2];
};

TEST_F(StreamWriterTest, WritesHeadThenEventsInOrder) {
  ASSERT_TRUE(writer_.Start().ok());
  auto sub = Open({"a"});
  hub_.Attach(sub, {SeqEvent(1, "a")});
  for (uint64_t s = 2; s <= 200; ++s) hub_.Dispatch(SeqEvent(s, "a"));
  hub_.Dispatch(SeqEvent(201, "other"));
  std::string got = ReadUntil(fds_[1], "payload 200\n\n", absl::Seconds(10));
  std::string want = "HEAD\n";
  for (uint64_t s = 1; s <= 200; ++s) {
    want += absl::StrCat("id: e-", s, "\ndata: payload ", s, "\n\n");
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(writer_.streams(), 1u);
  // 201 frames went out; the loop batches them into fewer writes.
  EXPECT_LE(writer_.writes(), 201u);
}

TEST_F(StreamWriterTest, HeartbeatsIdleStreams) {
  ASSERT_TRUE(writer_.Start().ok());
  auto sub = Open({"a"});
  hub_.Attach(sub, {});
  std::string got = ReadUntil(fds_[1], ": keepalive\n\n", absl::Seconds(10));
  EXPECT_NE(got.find(": keepalive\n\n"), std::string::npos) << got;
  EXPECT_GE(writer_.heartbeats(), 1u);
}

TEST_F(StreamWriterTest, PeerCloseDetachesAndFreesTheStream) {
  ASSERT_TRUE(writer_.Start().ok());
  auto sub = Open({"a"});
  hub_.Attach(sub, {});
  sub.reset();
  ReadUntil(fds_[1], "HEAD\n", absl::Seconds(10));
  ASSERT_TRUE(WaitFor([&] { return hub_.subscriptions() == 1; }, absl::Seconds(10)));
  close(fds_[1]);
  fds_[1] = -1;
  EXPECT_TRUE(WaitFor([&] { return hub_.subscriptions() == 0; }, absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return writer_.streams() == 0; }, absl::Seconds(10)));
  hub_.Dispatch(SeqEvent(1, "a"));  // nobody left to deliver to
}

TEST_F(StreamWriterTest, CloseAllSendsFarewellThenEndOfFile) {
  ASSERT_TRUE(writer_.Start().ok());
  auto sub = Open({"a"});
  hub_.Attach(sub, {});
  ReadUntil(fds_[1], "HEAD\n", absl::Seconds(10));
  writer_.CloseAll([] { return std::string("retry: 1234\n\n"); });
  std::string got = ReadUntil(fds_[1], "retry: 1234\n\n", absl::Seconds(10));
  EXPECT_NE(got.find("retry: 1234\n\n"), std::string::npos);
  // Then end-of-file.
  char c;
  ASSERT_TRUE(WaitFor(
      [&] {
        pollfd p{fds_[1], POLLIN, 0};
        return poll(&p, 1, 10) > 0 && read(fds_[1], &c, 1) == 0;
      },
      absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return writer_.streams() == 0; }, absl::Seconds(10)));
}

// A stream opened before DisconnectUser but attached only after it (a broker
// snapshot took that long) is ended when it arrives; a newer one is not.
TEST_F(StreamWriterTest, DisconnectUserAlsoEndsAStreamStillAttaching) {
  ASSERT_TRUE(writer_.Start().ok());
  Subscription::Options o;
  o.channels = {"a"};
  o.user_id = "ann";
  auto sub = writer_.Open(fds_[0], o, policies_, "HEAD\n", {});
  EXPECT_EQ(writer_.DisconnectUser("ann"), 0u);  // not at its loop yet
  hub_.Attach(sub, {});
  std::string got = ReadUntil(fds_[1], "ssebridge.disconnected", absl::Seconds(10));
  EXPECT_NE(got.find("event: ssebridge.disconnected"), std::string::npos) << got;
  EXPECT_TRUE(WaitFor([&] { return writer_.streams() == 0; }, absl::Seconds(10)));

  int later[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, later), 0);
  fcntl(later[0], F_SETFL, fcntl(later[0], F_GETFL) | O_NONBLOCK);
  absl::SleepFor(absl::Milliseconds(2));  // opened strictly after the call
  auto again = writer_.Open(later[0], o, policies_, "HEAD\n", {});
  hub_.Attach(again, {SeqEvent(1, "a")});
  got = ReadUntil(later[1], "payload 1\n\n", absl::Seconds(10));
  EXPECT_EQ(got.find("ssebridge.disconnected"), std::string::npos) << got;
  EXPECT_NE(got.find("payload 1"), std::string::npos) << got;
  EXPECT_EQ(writer_.streams(), 1u);
  writer_.Stop();
  close(later[1]);
}

TEST_F(StreamWriterTest, OverflowUnderDisconnectPolicyClosesTheStream) {
  ASSERT_TRUE(writer_.Start().ok());
  Subscription::Options o;
  o.channels = {"a"};
  o.queue_bytes = 4096;
  // Small kernel buffers so the queue, not the socket, absorbs the burst.
  int small = 4096;
  setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  auto sub = writer_.Open(fds_[0], o, policies_, "HEAD\n", {});
  hub_.Attach(sub, {});
  std::string big(1000, 'x');
  for (uint64_t s = 1; s <= 2000 && writer_.slow_disconnects() == 0; ++s) {
    auto ev = std::make_shared<Event>();
    ev->seq = s;
    ev->channel = "a";
    ev->type = "message";
    ev->frame = big;
    hub_.Dispatch(ev);
    if (s % 100 == 0) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_TRUE(WaitFor([&] { return writer_.slow_disconnects() == 1; }, absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return writer_.streams() == 0; }, absl::Seconds(10)));
  EXPECT_GE(hub_.overflow_disconnects(), 1u);
}

}  // namespace
}  // namespace ssebridge
