// grpc_client: a real gRPC client of the bridge's Publisher and Subscriber
// services on 127.0.0.1, plus small helpers for requests and event ids.
#ifndef SSEBRIDGE_TESTS_HARNESS_GRPC_CLIENT_H_
#define SSEBRIDGE_TESTS_HARNESS_GRPC_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge_it {

namespace v1 = ::ssebridge::v1;

v1::PublishRequest MakePublish(const std::string& channel, const std::string& data,
                               const std::string& event = "", bool retain = false);

class GrpcClient {
 public:
  explicit GrpcClient(int port);

  grpc::Status Publish(const v1::PublishRequest& request, v1::PublishResponse* response,
                       absl::Duration timeout = absl::Seconds(15));
  // Publishes and records a test failure unless it succeeds.
  v1::PublishResponse MustPublish(const v1::PublishRequest& request);
  v1::PublishResponse MustPublish(const std::string& channel, const std::string& data,
                                  const std::string& event = "");

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::Publisher::Stub* publisher() { return publisher_.get(); }
  v1::Subscriber::Stub* subscriber() { return subscriber_.get(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Publisher::Stub> publisher_;
  std::unique_ptr<v1::Subscriber::Stub> subscriber_;
};

// Writes every request on one PublishStream without waiting for answers (a
// thread writes while this one reads), so the bridge sees them queue up.
// The answers in order; *status is the call's end.
std::vector<v1::PublishResponse> PublishAllOnOneStream(
    v1::Publisher::Stub* stub, const std::vector<v1::PublishRequest>& requests,
    grpc::Status* status);

// `rounds` streams, each sending a few requests (more each round) and then
// only reading: no more frames, no half-close until every answer is in.
// "" when every answer came within 5 s; otherwise what went wrong.
std::string PublishThenOnlyWait(v1::Publisher::Stub* stub, const std::string& channel, int rounds);

// 3,000 requests on channels "q" and "r", every 97th one invalid, written on
// one PublishStream without waiting (see PublishAllOnOneStream). `error` is
// "" when the stream ended OK and every request was answered in place (an
// error for the invalid ones, increasing ids for the rest); `ids`/`datas`
// are the published events in order, for the caller's readers to check.
struct QueuedUpStream {
  std::string error;
  std::vector<std::string> ids;
  std::vector<std::string> datas;
};
QueuedUpStream PublishQueuedUpOnOneStream(v1::Publisher::Stub* stub);

// Subscriber.Subscribe read by a background thread.
class GrpcSubscription {
 public:
  GrpcSubscription(GrpcClient* client, const std::vector<std::string>& channels,
                   const std::string& last_event_id = "");
  ~GrpcSubscription();  // cancels and joins

  bool WaitForEvents(size_t n, absl::Duration timeout);
  // Waits for the call to end (returns false on timeout).
  bool WaitForEnd(absl::Duration timeout);
  // Published events and reset notices; "ssebridge.cursor" messages only
  // update cursor().
  std::vector<v1::Event> events() const;
  std::string cursor() const;
  bool ended() const;
  grpc::Status status() const;  // valid once ended()
  void Cancel();

 private:
  grpc::ClientContext context_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::vector<v1::Event> events_ ABSL_GUARDED_BY(mu_);
  std::string cursor_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// "<epoch>-<seq>" split; false when malformed.
struct ParsedId {
  std::string epoch;
  uint64_t seq = 0;
};
bool ParseEventId(const std::string& id, ParsedId* out);

// The same epoch with a different but equally valid spelling.
std::string OtherEpoch(const std::string& epoch);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_GRPC_CLIENT_H_
