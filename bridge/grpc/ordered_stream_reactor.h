// PublishStreamReactor: one PublishStream call on gRPC's callback API.
//
// Why not the sync API: there every request costs a hand-off to a sync
// server thread and a blocking Write, i.e. thread wake-ups and one sendmsg
// per response. Here reads and publishes run on the thread gRPC already
// polls with, the next read is started before the response is written, and
// responses queue while a write is in flight, so the transport sends
// whatever has piled up in one write.
//
// Contract kept from the sync version: exactly one response per request, in
// order; a failed request gets `error` in its own response and the stream
// stays open. After End(): an idle stream ends at once (UNAVAILABLE); one
// in the middle of a publish finishes it, writes every queued response, then
// ends; a request read after End() is answered UNAVAILABLE, unpublished.
#ifndef SSEBRIDGE_GRPC_PUBLISH_STREAM_REACTOR_H_
#define SSEBRIDGE_GRPC_PUBLISH_STREAM_REACTOR_H_

#include <deque>
#include <functional>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "bridge/grpc/publish_gate.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class PublishStreamReactor final
    : public grpc::ServerBidiReactor<v1::PublishRequest, v1::PublishResponse> {
 public:
  // `on_done` runs once, when gRPC is finished with the reactor, just before
  // it deletes itself. `ending` says whether End() was already called.
  PublishStreamReactor(PublishGate* gate, bool ending,
                       std::function<void(PublishStreamReactor*)> on_done);

  // Ends the stream as described above. Any thread; idempotent.
  void End();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Queues `response` and writes it unless a write is in flight.
  void QueueLocked(v1::PublishResponse response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls Finish once nothing is left to read, publish or write.
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  PublishGate* const gate_;
  const std::function<void(PublishStreamReactor*)> on_done_;
  // Only the read callback touches it, and only one read is ever pending.
  v1::PublishRequest request_;

  // Read and write callbacks may run at the same time on different threads.
  std::mutex mu_;
  // Responses not yet written; front() is in flight when writing_. A deque
  // keeps front() in place while more are appended.
  std::deque<v1::PublishResponse> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;     // a read is pending
  bool publishing_ ABSL_GUARDED_BY(mu_) = false;  // between read and queue
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // no more reads to start
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;    // Finish() called
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_PUBLISH_STREAM_REACTOR_H_
