// ssebridge::Publisher against the real bridge binary: real gRPC to publish,
// the SSE stream read over a real socket.
#include "ssebridge/publisher.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client_test_util.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_certs.h"

namespace {

using ssebridge::Ack;
using ssebridge::Event;
using ssebridge::Publisher;
using ssebridge::PublisherOptions;
using ssebridge::PublishStream;
using ssebridge::StreamResult;
using ssebridge_client_test::TempDir;
using ssebridge_it::BridgeProcess;
using ssebridge_it::SseClient;
using ssebridge_it::StartBridge;

constexpr char kKey[] = "cpp-test-key-0123456789";
constexpr char kLimitedKey[] = "cpp-limited-key-0123456789";

uint64_t SeqOf(const std::string& id) {
  uint64_t seq = 0;
  size_t dash = id.rfind('-');
  EXPECT_NE(dash, std::string::npos) << id;
  if (dash == std::string::npos) return 0;
  EXPECT_TRUE(absl::SimpleAtoi(id.substr(dash + 1), &seq)) << id;
  return seq;
}

std::unique_ptr<Publisher> MakePublisher(const BridgeProcess& bridge, std::string token = "",
                                         int max_in_flight = 64) {
  PublisherOptions o;
  o.target = bridge.grpc_target();
  o.token = std::move(token);
  o.max_in_flight = max_in_flight;
  auto p = Publisher::Create(o);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

Event Ev(std::string channel, std::string data, std::string event = "") {
  Event e;
  e.channel = std::move(channel);
  e.data = std::move(data);
  e.event = std::move(event);
  return e;
}

TEST(PublisherTest, PublishReachesAnSseSubscriber) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), "/v1/events?channel=tasks")) << sse.Describe();
  auto pub = MakePublisher(*bridge);
  ASSERT_NE(pub, nullptr);
  absl::StatusOr<Ack> ack = pub->Publish(Ev("tasks", R"({"id":1})", "taskDone"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_GT(SeqOf(ack->id), 0u);
  EXPECT_EQ(ack->subscribers, 1u);
  EXPECT_FALSE(ack->replayed);
  EXPECT_LT(absl::AbsDuration(absl::Now() - ack->published_at), absl::Minutes(1));
  ASSERT_TRUE(sse.WaitForEvents(1, absl::Seconds(10))) << sse.Describe();
  EXPECT_EQ(sse.events()[0].id, ack->id);
  EXPECT_EQ(sse.events()[0].event, "taskDone");
  EXPECT_EQ(sse.events()[0].data, R"({"id":1})");
}

TEST(PublisherTest, IdempotencyKeyIsReplayed) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge);
  Event e = Ev("idem", "x");
  e.idempotency_key = "cpp-k1";
  auto first = pub->Publish(e);
  auto again = pub->Publish(e);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_FALSE(first->replayed);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(first->id, again->id);
}

TEST(PublisherTest, BadChannelIsInvalidArgumentNamingTheField) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge);
  absl::StatusOr<Ack> ack = pub->Publish(Ev("no spaces", "x"));
  EXPECT_TRUE(absl::IsInvalidArgument(ack.status())) << ack.status();
  EXPECT_NE(ack.status().message().find("channel"), absl::string_view::npos) << ack.status();
}

TEST(PublisherTest, BadOptionsAreRefusedWithTheirName) {
  auto check = [](PublisherOptions o, const std::string& needle) {
    auto p = Publisher::Create(o);
    EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << needle << ": " << p.status();
    EXPECT_NE(p.status().message().find(needle), absl::string_view::npos) << p.status();
  };
  PublisherOptions o;
  o.target = "";
  check(o, "target");
  o = {};
  o.token = "a\nb";
  check(o, "token");
  o = {};
  o.max_in_flight = 0;
  check(o, "max_in_flight");
  o = {};
  o.timeout = absl::ZeroDuration();
  check(o, "timeout");
  o = {};
  o.tls = true;
  o.tls_client_key_pem = "key";
  check(o, "tls_client_cert_pem");
  o = {};
  o.tls_root_certs_pem = "ca";
  check(o, "without tls");
}

TEST(PublisherTest, UnreachableBridgeFails) {
  PublisherOptions o;
  o.target = "127.0.0.1:1";
  o.timeout = absl::Seconds(2);
  auto pub = Publisher::Create(o);
  ASSERT_TRUE(pub.ok());
  absl::StatusOr<Ack> ack = (*pub)->Publish(Ev("a", "x"));
  EXPECT_TRUE(absl::IsUnavailable(ack.status()) || absl::IsDeadlineExceeded(ack.status()))
      << ack.status();
}

TEST(PublisherTest, ConnectNamesTheTargetItCouldNotReach) {
  PublisherOptions o;
  o.target = "127.0.0.1:1";
  auto pub = Publisher::Create(o);
  ASSERT_TRUE(pub.ok());
  absl::Status s = (*pub)->Connect(absl::Milliseconds(500));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("127.0.0.1:1"), std::string::npos) << s;
}

// Connect keeps trying after a failed attempt: the channel has already
// failed once (a fail-fast Publish saw the port closed) when the bridge
// starts on that port.
TEST(PublisherTest, ConnectWaitsThroughAFailedAttemptForABridgeThatStartsLater) {
  // A bound socket that does not listen holds the port (connects are
  // refused) until the bridge takes it.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  PublisherOptions o;
  o.target = absl::StrCat("127.0.0.1:", port);
  auto pub = Publisher::Create(o);
  ASSERT_TRUE(pub.ok());
  absl::StatusOr<Ack> refused = (*pub)->Publish(Ev("a", "x"));
  ASSERT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();

  ::close(holder);
  auto bridge = StartBridge({absl::StrCat("--grpc_port=", port)});
  ASSERT_NE(bridge, nullptr);
  absl::Status connected = (*pub)->Connect(absl::Seconds(60));
  ASSERT_TRUE(connected.ok()) << connected;
  absl::StatusOr<Ack> ack = (*pub)->Publish(Ev("a", "x"));
  EXPECT_TRUE(ack.ok()) << ack.status();
}

class PublisherAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string keys = dir_.Write(
        "publishers", absl::StrCat("tasks ", kKey, "\nlimited ", kLimitedKey, " billing*\n"));
    bridge_ = StartBridge({absl::StrCat("--publisher_keys_file=", keys)});
    ASSERT_NE(bridge_, nullptr);
  }
  TempDir dir_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(PublisherAuthTest, TokenIsSentAndMissingOneIsUnauthenticated) {
  auto anon = MakePublisher(*bridge_);
  EXPECT_TRUE(absl::IsUnauthenticated(anon->Publish(Ev("tasks", "x")).status()));
  auto authed = MakePublisher(*bridge_, kKey);
  auto ack = authed->Publish(Ev("tasks", "x"));
  EXPECT_TRUE(ack.ok()) << ack.status();
}

TEST_F(PublisherAuthTest, StreamWithBadTokenReportsUnauthenticated) {
  auto pub = MakePublisher(*bridge_, "wrong-key-0123456789");
  auto stream = pub->OpenStream();
  absl::StatusOr<Ack> ack = stream->Publish(Ev("tasks", "x"));
  EXPECT_TRUE(absl::IsUnauthenticated(ack.status())) << ack.status();
  EXPECT_TRUE(absl::IsUnauthenticated(stream->Finish())) << "Finish repeats the status";
}

TEST_F(PublisherAuthTest, ChannelNotGrantedFailsThatRequestOnly) {
  auto pub = MakePublisher(*bridge_, kLimitedKey);
  auto stream = pub->OpenStream();
  absl::StatusOr<Ack> denied = stream->Publish(Ev("tasks", "x"));
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status())) << denied.status();
  EXPECT_NE(denied.status().message().find("tasks"), absl::string_view::npos);
  absl::StatusOr<Ack> allowed = stream->Publish(Ev("billing.eu", "y"));
  EXPECT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(PublishStreamTest, AnswersMatchRequestsInOrderWithinTheWindow) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), "/v1/events?channel=load")) << sse.Describe();
  auto pub = MakePublisher(*bridge, "", /*max_in_flight=*/8);
  auto stream = pub->OpenStream();
  constexpr int kN = 500;
  std::atomic<size_t> max_in_flight{0};
  std::thread writer([&] {
    for (int i = 0; i < kN; ++i) {
      absl::Status written = stream->Write(Ev("load", absl::StrCat(i), "n"));
      if (!written.ok()) {
        ADD_FAILURE() << written;
        break;
      }
      size_t now = stream->in_flight();
      if (now > max_in_flight) max_in_flight = now;
    }
    stream->WritesDone();
  });
  std::vector<StreamResult> results;
  while (true) {
    absl::StatusOr<StreamResult> r = stream->Read();
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
      break;
    }
    results.push_back(std::move(*r));
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(results.size(), static_cast<size_t>(kN));
  EXPECT_LE(max_in_flight.load(), 8u);
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(results[i].request.data, absl::StrCat(i));
    ASSERT_TRUE(results[i].ack.ok()) << results[i].ack.status();
    if (i > 0) {
      EXPECT_GT(SeqOf(results[i].ack->id), SeqOf(results[i - 1].ack->id));
    }
  }
  ASSERT_TRUE(sse.WaitForEvents(kN, absl::Seconds(20))) << sse.Describe();
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(sse.events()[i].id, results[i].ack->id);
    EXPECT_EQ(sse.events()[i].data, absl::StrCat(i));
  }
}

TEST(PublishStreamTest, ABadRequestFailsAloneAndTheStreamCarriesOn) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge);
  auto stream = pub->OpenStream();
  ASSERT_TRUE(stream->Write(Ev("ok", "1")).ok());
  ASSERT_TRUE(stream->Write(Ev("ok", "2", "ssebridge.fake")).ok());
  ASSERT_TRUE(stream->Write(Ev("ok", "")).ok());
  ASSERT_TRUE(stream->Write(Ev("ok", "4")).ok());
  std::vector<StreamResult> rest;
  ASSERT_TRUE(stream->Finish(&rest).ok());
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_TRUE(rest[0].ack.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(rest[1].ack.status())) << rest[1].ack.status();
  EXPECT_NE(rest[1].ack.status().message().find("event"), absl::string_view::npos);
  EXPECT_EQ(rest[1].request.event, "ssebridge.fake");
  EXPECT_NE(rest[2].ack.status().message().find("data"), absl::string_view::npos);
  ASSERT_TRUE(rest[3].ack.ok());
  EXPECT_GT(SeqOf(rest[3].ack->id), SeqOf(rest[0].ack->id));
  EXPECT_TRUE(absl::IsFailedPrecondition(stream->Write(Ev("ok", "5"))));
}

TEST(PublishStreamTest, WriteBlocksWhileTheWindowIsFull) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge, "", /*max_in_flight=*/4);
  auto stream = pub->OpenStream();
  ASSERT_TRUE(stream->Publish(Ev("bp", "warm-up")).ok());
  ASSERT_TRUE(bridge->Freeze());  // no answers from now on
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 10; ++i) {
      if (!stream->Write(Ev("bp", absl::StrCat(i))).ok()) return;
      ++written;
    }
    stream->WritesDone();
  });
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (written.load() < 4 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  absl::SleepFor(absl::Milliseconds(300));  // a fifth Write would return by now
  EXPECT_EQ(written.load(), 4);
  EXPECT_EQ(stream->in_flight(), 4u);
  bridge->Signal(SIGCONT);
  std::vector<StreamResult> rest;
  int read = 0;
  while (true) {
    auto r = stream->Read();
    if (!r.ok()) break;
    EXPECT_TRUE(r->ack.ok()) << r->ack.status();
    ++read;
  }
  writer.join();
  EXPECT_EQ(written.load(), 10);
  EXPECT_EQ(read, 10);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(PublishStreamTest, ABrokenStreamReportsWhatGotNoAnswer) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge);
  auto stream = pub->OpenStream();
  ASSERT_TRUE(stream->Publish(Ev("gone", "0")).ok());
  ASSERT_TRUE(bridge->Freeze());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(stream->Write(Ev("gone", absl::StrCat(i))).ok());
  absl::SleepFor(absl::Milliseconds(200));
  bridge->Signal(SIGKILL);
  absl::StatusOr<StreamResult> r = stream->Read();
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  std::vector<Event> pending = stream->pending();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].data, "1");
  EXPECT_EQ(pending[2].data, "3");
  EXPECT_FALSE(stream->Write(Ev("gone", "4")).ok());
}

TEST(PublisherTlsTest, MutualTlsWithClientCertificate) {
  auto ca = ssebridge_it::TestCa::Create("publisher test CA");
  ASSERT_NE(ca, nullptr);
  auto server = ca->Issue("ssebridge", {"DNS:bridge.test", "IP:127.0.0.1"}, true);
  auto client = ca->Issue("backend", {}, false);
  TempDir dir;
  auto bridge = StartBridge(
      {absl::StrCat("--grpc_tls_cert_file=", dir.Write("s.pem", server.cert)),
       absl::StrCat("--grpc_tls_key_file=", dir.Write("s.key", server.key)),
       absl::StrCat("--grpc_tls_client_ca_file=", dir.Write("ca.pem", ca->cert_pem()))});
  ASSERT_NE(bridge, nullptr);
  PublisherOptions o;
  o.target = bridge->grpc_target();
  o.tls = true;
  o.tls_root_certs_pem = ca->cert_pem();
  o.tls_server_name = "bridge.test";
  o.timeout = absl::Seconds(5);
  {
    auto without_cert = Publisher::Create(o);
    ASSERT_TRUE(without_cert.ok()) << without_cert.status();
    EXPECT_FALSE((*without_cert)->Publish(Ev("tls", "x")).ok());
  }
  o.tls_client_key_pem = client.key;
  o.tls_client_cert_pem = client.cert;
  auto pub = Publisher::Create(o);
  ASSERT_TRUE(pub.ok()) << pub.status();
  auto ack = (*pub)->Publish(Ev("tls", "x"));
  EXPECT_TRUE(ack.ok()) << ack.status();
  auto stream = (*pub)->OpenStream();
  EXPECT_TRUE(stream->Publish(Ev("tls", "y")).ok());
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
