// StreamShares: bounds the long-lived gRPC Subscribe streams, overall and
// per publisher principal. The gRPC server is synchronous: each open
// Subscribe holds one of --grpc_max_threads until it ends, so without a cap
// one key's readers could take every thread and another key's Publish would
// get "Server Threadpool Exhausted". The overall cap stays below the thread
// limit (ValidateFlags), leaving threads for publishes.
//
// Acquire hands out a Lease holding one slot of each; dropping it gives
// them back. Leases must not outlive the StreamShares. Thread-safe.
#ifndef SSEBRIDGE_AUTH_STREAM_SHARES_H_
#define SSEBRIDGE_AUTH_STREAM_SHARES_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

class StreamShares {
 public:
  // total: at least 1. per_principal 0: only `total` applies.
  StreamShares(size_t total, size_t per_principal) : total_(total), per_principal_(per_principal) {}
  StreamShares(const StreamShares&) = delete;
  StreamShares& operator=(const StreamShares&) = delete;

  class Lease {
   public:
    ~Lease() { owner_->Release(principal_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    friend class StreamShares;
    Lease(StreamShares* owner, std::string principal)
        : owner_(owner), principal_(std::move(principal)) {}
    StreamShares* owner_;
    std::string principal_;
  };

  // RESOURCE_EXHAUSTED naming --max_grpc_subscribe_streams or
  // --max_grpc_subscribe_streams_per_key.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(absl::string_view principal);

  size_t open() const;
  size_t OpenBy(absl::string_view principal) const;

 private:
  void Release(const std::string& principal);

  const size_t total_;
  const size_t per_principal_;
  mutable std::mutex mu_;
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, size_t> by_principal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_STREAM_SHARES_H_
