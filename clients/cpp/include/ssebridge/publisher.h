// ssebridge::Publisher: a C++ client for ssebridge's gRPC publish API
// (CMake target `ssebridge_publisher`; installed: find_package(ssebridge)
// and ssebridge::publisher, or pkg-config ssebridge).
//
// What it promises:
// - Publisher::Create checks the options (a target, a single-line token,
//   readable TLS material makes sense together) and returns
//   INVALID_ARGUMENT naming the bad one; it does not connect.
// - Publish sends one event and returns its Ack once the bridge's broker
//   accepted it, or the gRPC status as an absl::Status with the same code
//   and the bridge's message (INVALID_ARGUMENT names the field,
//   UNAUTHENTICATED / PERMISSION_DENIED / RESOURCE_EXHAUSTED /
//   UNAVAILABLE / DEADLINE_EXCEEDED as they come). Nothing is retried.
// - OpenStream opens one PublishStream RPC. The bridge answers requests in
//   order, so Read() returns the answer to the oldest unanswered Write(),
//   together with that request. A failed request is a non-OK `ack` in its
//   StreamResult; the stream carries on. A failed *stream* is a non-OK
//   Read()/Write() status, and pending() then lists what got no answer.
// - Back-pressure: at most `max_in_flight` requests are written and
//   unanswered. Write() blocks while the window is full until Read() (on
//   another thread) frees a slot, so a producer cannot outrun the bridge.
//   Threads: one writer (Write, WritesDone) and one reader (Read, Finish
//   once the writer is done) may run at once; no call is safe from two
//   threads at once. Single-threaded, keep at most max_in_flight writes
//   ahead of your reads (or use PublishStream::Publish).
// - OpenBatchStream opens one BatchPublisher.PublishBatchStream: the same
//   contract and threading, a batch of up to 1,000 events per Write().
//   Read() returns the oldest unanswered batch with one StatusOr<Ack> per
//   event, in order (as PublishBatch returns them: a refused event is its
//   status, the rest of the batch is still published; a batch over 1,000
//   has every event refused). max_in_flight counts batches.
// - Credentials: `token` goes out as `authorization: Bearer <token>` on
//   every call. TLS with system roots or a given CA; a client key and
//   certificate make it mTLS.
#ifndef SSEBRIDGE_CLIENTS_CPP_PUBLISHER_H_
#define SSEBRIDGE_CLIENTS_CPP_PUBLISHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

struct PublisherOptions {
  // The bridge's gRPC address, "host:port".
  std::string target = "127.0.0.1:50051";
  // Publisher key or JWT; empty sends no authorization metadata.
  std::string token;
  // TLS on the gRPC port. Roots: `tls_root_certs_pem`, or the system's when
  // empty. mTLS: both `tls_client_key_pem` and `tls_client_cert_pem`.
  bool tls = false;
  std::string tls_root_certs_pem;
  std::string tls_client_key_pem;
  std::string tls_client_cert_pem;
  // Name to verify the server certificate against instead of the target's
  // host (ssl_target_name_override); for tests and IP targets.
  std::string tls_server_name;
  // Deadline of each unary Publish.
  absl::Duration timeout = absl::Seconds(10);
  // Requests written and unanswered at once on a PublishStream (batches on
  // a PublishBatchStream).
  int max_in_flight = 64;
};

struct Event {
  std::string channel;
  // SSE event type; empty means "message".
  std::string event;
  // UTF-8 payload, JSON typically; must not be empty.
  std::string data;
  // Deliver only to these users' streams.
  std::vector<std::string> user_ids;
  // Keep as the channel's latest value for this event type and audience.
  bool retain = false;
  // A repeat within the bridge's idempotency window is answered with the
  // first Ack (replayed = true) and publishes nothing.
  std::string idempotency_key;
};

struct Ack {
  std::string id;  // "<epoch>-<seq>"
  uint32_t subscribers = 0;
  bool replayed = false;
  absl::Time published_at = absl::InfinitePast();
};

// Tickets.IssueTicket: the page connects with
// GET /v1/events?channel=...&ticket=<ticket> before expires_at. Works once.
struct Ticket {
  std::string ticket;
  absl::Time expires_at = absl::InfinitePast();
};

// Admin.GetStats.
struct ChannelCount {
  std::string channel;
  uint32_t subscribers = 0;
};
// One replica's numbers in a FleetStats.
struct ReplicaStats {
  std::string replica;  // its name (host name and a random suffix)
  uint64_t connections = 0;
  uint64_t grpc_subscribers = 0;
  uint64_t channels = 0;
  uint64_t users = 0;
  uint64_t published = 0;
  // When the numbers were taken: the answering replica's are current, the
  // others' as last reported (every --fleet_refresh_interval).
  absl::Time reported_at = absl::InfinitePast();
};
struct FleetStats {
  // Every replica whose lease is live, the answering one first.
  // --broker=memory: that replica alone.
  std::vector<ReplicaStats> replicas;
  // Sums over `replicas` (replica empty, reported_at InfinitePast). A user
  // or channel on two replicas counts twice.
  ReplicaStats total;
  // Non-empty when the other replicas could not be read (Redis
  // unreachable); `replicas` then holds the answering replica alone.
  std::string error;
};
struct StatsOptions {
  uint32_t max_channels = 0;  // most channels in Stats::channel_stats; 0: 100
  bool fleet = false;         // also answer Stats::fleet
};
struct Stats {
  uint64_t connections = 0;                 // open SSE streams
  uint64_t grpc_subscribers = 0;            // open gRPC Subscribe streams
  uint64_t channels = 0;                    // channels with a subscriber on this replica
  uint64_t users = 0;                       // distinct authenticated users connected
  uint64_t published = 0;                   // events accepted since start
  std::vector<ChannelCount> channel_stats;  // busiest first
  // The answering replica's name (--broker=redis; empty with memory).
  std::string replica;
  // Set when StatsOptions::fleet asked for it.
  std::optional<FleetStats> fleet;
};

// The answer to one request of a PublishStream.
struct StreamResult {
  Event request;
  absl::StatusOr<Ack> ack;
};

// The answer to one batch of a PublishBatchStream: one result per event of
// `requests`, in the same order.
struct BatchStreamResult {
  std::vector<Event> requests;
  std::vector<absl::StatusOr<Ack>> acks;
};

class PublishStream;
class PublishBatchStream;

namespace internal {
// The in-order, windowed bidi stream both stream classes are made of
// (defined in publisher.cc).
template <typename Item, typename Request, typename Response>
class OrderedStream;
}  // namespace internal

class Publisher {
 public:
  static absl::StatusOr<std::unique_ptr<Publisher>> Create(PublisherOptions options);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Waits up to `timeout` for a connection to the bridge, trying again
  // through failed attempts with gRPC's backoff. Calls do not need it (each
  // connects on its own and fails fast with UNAVAILABLE), but a tool that may
  // start while the bridge restarts, or a service that wants to fail at
  // start, does. UNAVAILABLE, naming the target, when none was made.
  absl::Status Connect(absl::Duration timeout);

  absl::StatusOr<Ack> Publish(const Event& event);
  absl::StatusOr<Ack> Publish(const Event& event, absl::Duration timeout);

  // The other services on the same channel and credential, with the same
  // error reporting as Publish (the gRPC code and the bridge's message) and
  // the same deadline (options().timeout). Nothing is retried: a
  // DEADLINE_EXCEEDED publish may have been stored (resend only with an
  // idempotency_key); UNAVAILABLE was not.
  //
  // Up to 1,000 events in one call, published in order: one result per
  // event (a refused one is its status; the others are still published).
  // The outer status is the call's.
  absl::StatusOr<std::vector<absl::StatusOr<Ack>>> PublishBatch(const std::vector<Event>& events);
  // A one-time ticket for `user_id`'s page; `channels` are exact names or
  // "prefix*"; ttl 1 s to 60 s, zero means the bridge's 30 s.
  absl::StatusOr<Ticket> IssueTicket(const std::string& user_id,
                                     const std::vector<std::string>& channels,
                                     absl::Duration ttl = absl::ZeroDuration());
  // Admin: ends every SSE stream of the user; returns how many.
  absl::StatusOr<uint32_t> DisconnectUser(const std::string& user_id);
  // Admin: the bridge's counts; at most `max_channels` (0: 100) channels.
  absl::StatusOr<Stats> GetStats(uint32_t max_channels = 0);
  // The same, and with `fleet` every replica's numbers too (Stats::fleet).
  absl::StatusOr<Stats> GetStats(const StatsOptions& options);

  // Opens a PublishStream; the RPC starts at once (a refused credential shows
  // on the first Read or Write).
  std::unique_ptr<PublishStream> OpenStream();
  // Opens a BatchPublisher.PublishBatchStream, likewise.
  std::unique_ptr<PublishBatchStream> OpenBatchStream();

  const PublisherOptions& options() const { return options_; }

 private:
  Publisher(PublisherOptions options, std::shared_ptr<grpc::Channel> channel);
  void Authorize(grpc::ClientContext* context) const;
  // Authorize plus the unary deadline.
  void Prepare(grpc::ClientContext* context) const;

  PublisherOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Publisher::Stub> stub_;
  std::unique_ptr<v1::BatchPublisher::Stub> batch_stub_;
  std::unique_ptr<v1::Tickets::Stub> tickets_stub_;
  std::unique_ptr<v1::Admin::Stub> admin_stub_;
  friend class PublishStream;
  friend class PublishBatchStream;
};

class PublishStream {
 public:
  ~PublishStream();  // cancels the RPC if Finish() was not called
  PublishStream(const PublishStream&) = delete;
  PublishStream& operator=(const PublishStream&) = delete;

  // Sends one request; blocks while max_in_flight requests are unanswered.
  // After the stream broke: the stream's status if Read() already learnt
  // it, else UNAVAILABLE pointing to Read()/Finish(), which return it.
  // FAILED_PRECONDITION after WritesDone().
  absl::Status Write(const Event& event);
  // The answer to the oldest unanswered request, with that request. Blocks
  // until a request is outstanding (written, maybe from another thread) or
  // WritesDone() was called; then OUT_OF_RANGE once every answer was read.
  // When the stream ends: its status (OK turns into UNAVAILABLE if requests
  // were left unanswered).
  absl::StatusOr<StreamResult> Read();
  // Write then Read: one request at a time.
  absl::StatusOr<Ack> Publish(const Event& event);
  // No more writes (writer side); Read() still returns the outstanding answers.
  void WritesDone();
  // Reads every outstanding answer into `rest` (may be null), then ends the
  // RPC and returns its status.
  absl::Status Finish(std::vector<StreamResult>* rest = nullptr);
  // Requests written and unanswered (after a failure: those that got no answer).
  std::vector<Event> pending() const;
  size_t in_flight() const;

 private:
  friend class Publisher;
  explicit PublishStream(Publisher* publisher);

  using Core = internal::OrderedStream<Event, v1::PublishRequest, v1::PublishResponse>;
  std::unique_ptr<Core> core_;
};

// BatchPublisher.PublishBatchStream; PublishStream's contract with a batch
// per request (see the top of this file).
class PublishBatchStream {
 public:
  ~PublishBatchStream();  // cancels the RPC if Finish() was not called
  PublishBatchStream(const PublishBatchStream&) = delete;
  PublishBatchStream& operator=(const PublishBatchStream&) = delete;

  // Sends one batch (up to 1,000 events); blocks while max_in_flight batches
  // are unanswered. Failures as PublishStream::Write.
  absl::Status Write(const std::vector<Event>& events);
  // The answer to the oldest unanswered batch: the batch, and one result
  // per event in order. Stream failures and the end as PublishStream::Read.
  absl::StatusOr<BatchStreamResult> Read();
  // Write then Read: one batch at a time; the per-event results, or the
  // stream's status.
  absl::StatusOr<std::vector<absl::StatusOr<Ack>>> PublishBatch(const std::vector<Event>& events);
  // No more writes (writer side); Read() still returns the outstanding answers.
  void WritesDone();
  // Reads every outstanding answer into `rest` (may be null), then ends the
  // RPC and returns its status.
  absl::Status Finish(std::vector<BatchStreamResult>* rest = nullptr);
  // Batches written and unanswered (after a failure: those that got no answer).
  std::vector<std::vector<Event>> pending() const;
  size_t in_flight() const;

 private:
  friend class Publisher;
  explicit PublishBatchStream(Publisher* publisher);

  using Core = internal::OrderedStream<std::vector<Event>, v1::PublishBatchRequest,
                                       v1::PublishBatchResponse>;
  std::unique_ptr<Core> core_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CLIENTS_CPP_PUBLISHER_H_
