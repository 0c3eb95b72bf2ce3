// StreamShares: bounds one kind of long-lived gRPC stream, overall and per
// publisher principal (key name). Two are made:
//   - Subscribe: the server is synchronous there, so each open Subscribe
//     holds one of --grpc_max_threads until it ends; without a cap one
//     key's readers could take every thread and another key's Publish would
//     get "Server Threadpool Exhausted". The overall cap stays below the
//     thread limit (ValidateFlags), leaving threads for publishes.
//   - PublishStream and PublishBatchStream: each holds a call, its read
//     buffer and up to OrderedStream::kMaxWaiting requests and answers, so
//     one key cannot open streams until the bridge runs out of memory.
//
// Acquire hands out a Lease holding one slot of each; dropping it gives
// them back. Leases must not outlive the StreamShares. Thread-safe.
#ifndef SSEBRIDGE_AUTH_STREAM_SHARES_H_
#define SSEBRIDGE_AUTH_STREAM_SHARES_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

// What a refusal names: the streams ("gRPC Subscribe streams") and the two
// flags that set the caps.
struct StreamShareNames {
  std::string streams = "gRPC Subscribe streams";
  std::string total_flag = "max_grpc_subscribe_streams";
  std::string per_principal_flag = "max_grpc_subscribe_streams_per_key";
};

class StreamShares {
 public:
  using Names = StreamShareNames;

  // total: at least 1. per_principal 0: only `total` applies.
  StreamShares(size_t total, size_t per_principal, Names names = Names())
      : total_(total), per_principal_(per_principal), names_(std::move(names)) {}
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

  // RESOURCE_EXHAUSTED naming the flag of the cap that refused it.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(absl::string_view principal);

  size_t open() const;
  size_t OpenBy(absl::string_view principal) const;

 private:
  void Release(const std::string& principal);

  const size_t total_;
  const size_t per_principal_;
  const Names names_;
  mutable std::mutex mu_;
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, size_t> by_principal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_STREAM_SHARES_H_
