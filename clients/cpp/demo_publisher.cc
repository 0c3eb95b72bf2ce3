// demo_publisher: a small backend that publishes to a running ssebridge over
// gRPC PublishStream, so `curl -N .../v1/events?channel=demo` shows live
// events. Every second: a "tick" message and a retained "dashboard" value.
#include <chrono>
#include <cstdio>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "The bridge's gRPC address.");
ABSL_FLAG(std::string, channel, "demo", "Channel to publish to.");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1), "Time between events.");
ABSL_FLAG(int64_t, count, 0, "Events to publish; 0 = until interrupted.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target),
                                     grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(10))) {
    std::fprintf(stderr, "demo_publisher: cannot reach %s\n",
                 absl::GetFlag(FLAGS_target).c_str());
    return 1;
  }
  auto stub = ssebridge::v1::Publisher::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->PublishStream(&context);
  const int64_t count = absl::GetFlag(FLAGS_count);
  for (int64_t i = 1; count == 0 || i <= count; ++i) {
    const std::string now = absl::FormatTime(absl::Now(), absl::UTCTimeZone());
    ssebridge::v1::PublishRequest tick;
    tick.set_channel(absl::GetFlag(FLAGS_channel));
    tick.set_data(absl::StrCat("{\"n\":", i, ",\"at\":\"", now, "\"}"));
    ssebridge::v1::PublishRequest dashboard;
    dashboard.set_channel(absl::GetFlag(FLAGS_channel));
    dashboard.set_event("dashboard");
    dashboard.set_retain(true);
    dashboard.set_data(absl::StrCat("{\"published\":", i, ",\"updated\":\"", now, "\"}"));
    for (const auto* req : {&tick, &dashboard}) {
      ssebridge::v1::PublishResponse resp;
      if (!stream->Write(*req) || !stream->Read(&resp)) {
        std::fprintf(stderr, "demo_publisher: stream closed: %s\n",
                     stream->Finish().error_message().c_str());
        return 1;
      }
      if (resp.has_error()) {
        std::fprintf(stderr, "demo_publisher: %s\n", resp.error().message().c_str());
      } else {
        std::printf("published %s to %d subscriber(s)\n", resp.id().c_str(),
                    static_cast<int>(resp.subscribers()));
        std::fflush(stdout);
      }
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_interval)));
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  return status.ok() ? 0 : 1;
}
