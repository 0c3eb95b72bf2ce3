// Graceful shutdown: on SIGTERM/SIGINT readiness goes false, open streams get
// a final retry: and are closed, and the process exits 0 within
// --shutdown_deadline.
#include <signal.h>

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Slack on top of the shutdown deadline for process teardown (sanitizers).
constexpr absl::Duration kExitSlack = absl::Seconds(10);

TEST(ShutdownTest, SigtermClosesStreamsWithFinalRetryAndExitsZero) {
  const absl::Duration deadline = absl::Seconds(5);
  auto bridge = StartBridge({"--shutdown_deadline=5s"});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  int http_port = bridge->http_port();

  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port, EventsTarget({"s"}))) << sse.error();
  grpc.MustPublish("s", "before");
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  size_t retries_before = sse.retries().size();
  ASSERT_EQ(HttpGet(http_port, "/readyz").status, 200);

  absl::Time signalled = absl::Now();
  bridge->Signal(SIGTERM);

  // Readiness goes false: 503 while draining, or the listener is gone.
  bool not_ready = false;
  bool saw_503 = false;
  for (int i = 0; i < 2000 && absl::Now() - signalled < kWait; ++i) {
    HttpResponse r = HttpRequest(http_port, "GET", "/readyz", "", {}, absl::Seconds(3));
    if (!r.ok() || r.status != 200) {
      not_ready = true;
      saw_503 = r.ok() && r.status == 503;
      EXPECT_TRUE(!r.ok() || r.status == 503)
          << "/readyz while draining: status " << r.status << " " << r.body;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(not_ready) << "/readyz stayed 200 after SIGTERM";
  std::printf("note: /readyz %s after SIGTERM\n",
              saw_503 ? "answered 503" : "was refused (listener closed)");

  // A new stream is refused now.
  {
    SseClient late;
    absl::Time asked = absl::Now();
    if (late.Connect(http_port, EventsTarget({"s"})) && late.ReadHead(absl::Seconds(5))) {
      EXPECT_NE(late.status(), 200) << "a new stream was accepted while draining";
    } else {
      std::printf("note: new stream after SIGTERM: %s after %s\n", late.Describe().c_str(),
                  absl::FormatDuration(absl::Now() - asked).c_str());
    }
  }

  // The open stream gets a final retry: and is closed.
  ASSERT_TRUE(sse.WaitForClose(kWait)) << sse.Describe();
  EXPECT_TRUE(sse.eof()) << sse.Describe();
  ASSERT_GT(sse.retries().size(), retries_before)
      << "no final retry: field before the close; " << sse.Describe();
  EXPECT_GE(sse.retries().back(), 3000);
  EXPECT_LE(sse.retries().back(), 5000);

  ExitInfo info;
  ASSERT_TRUE(bridge->WaitExit(deadline + kExitSlack, &info))
      << "still running " << absl::FormatDuration(deadline + kExitSlack) << " after SIGTERM";
  EXPECT_EQ(info.term_signal, 0) << info.Describe();
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
}

TEST(ShutdownTest, ExitsWithinDeadlineDespiteOpenGrpcStreams) {
  const absl::Duration deadline = absl::Seconds(2);
  auto bridge = StartBridge({"--shutdown_deadline=2s"});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());

  // A backend's publish stream, left open, and a server-side subscriber.
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  auto stream = grpc.publisher()->PublishStream(&ctx);
  ASSERT_TRUE(stream->Write(MakePublish("s", "in flight")));
  v1::PublishResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_FALSE(resp.has_error());
  GrpcSubscription sub(&grpc, {"s"}, resp.id());
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"s"}))) << sse.error();

  absl::Time signalled = absl::Now();
  bridge->Signal(SIGTERM);
  ExitInfo info;
  ASSERT_TRUE(bridge->WaitExit(deadline + kExitSlack, &info))
      << "still running after SIGTERM with open gRPC streams";
  absl::Duration took = absl::Now() - signalled;
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  EXPECT_EQ(info.term_signal, 0) << info.Describe();
  EXPECT_LE(took, deadline + absl::Seconds(5)) << "exit took " << took;

  EXPECT_TRUE(sse.WaitForClose(kWait)) << sse.Describe();
  EXPECT_TRUE(sub.WaitForEnd(kWait)) << "Subscribe did not end";
  ctx.TryCancel();
  stream->Finish();
}

TEST(ShutdownTest, SigintAlsoExitsZero) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"s"}))) << sse.error();
  bridge->Signal(SIGINT);
  EXPECT_TRUE(sse.WaitForClose(kWait)) << sse.Describe();
  ExitInfo info;
  ASSERT_TRUE(bridge->WaitExit(absl::Seconds(10) + kExitSlack, &info));
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  EXPECT_EQ(info.term_signal, 0) << info.Describe();
}

TEST(ShutdownTest, IdleBridgeExitsZeroOnSigterm) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  ASSERT_EQ(HttpGet(bridge->http_port(), "/healthz").status, 200);
  ExitInfo info;
  ASSERT_TRUE(bridge->Stop(absl::Seconds(10) + kExitSlack, &info)) << "needed SIGKILL";
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  EXPECT_EQ(info.term_signal, 0) << info.Describe();
}

}  // namespace
}  // namespace ssebridge_it
