// HealthService: grpc.health.v1 (Check and Watch) on the async API, driven
// by the server's CompletionLoop. It replaces gRPC's built-in health
// service, which runs on the callback API: with it on the port, every call
// (Publish included) went through the callback API's polling threads and
// cost about twice the CPU (tests/bench/README.md, "Trickle").
//
// It knows one service, "" (the whole server): SERVING from the start,
// NOT_SERVING after Shutdown(). Check on any other name is NOT_FOUND; Watch
// on one says SERVICE_UNKNOWN, as the protocol asks. Watch streams are
// bounded (kMaxWatchers per server; beyond it RESOURCE_EXHAUSTED); each
// gets the current status, then every change, and ends with the server.
//
// Thread-safe; calls live on the loop thread and own themselves.
#ifndef SSEBRIDGE_GRPC_HEALTH_SERVICE_H_
#define SSEBRIDGE_GRPC_HEALTH_SERVICE_H_

#include <cstddef>
#include <mutex>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "bridge/grpc/completion_loop.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ssebridge {

class HealthService final : public grpc::health::v1::Health::AsyncService, public AsyncMethods {
 public:
  static constexpr size_t kMaxWatchers = 1000;

  grpc::Service* service() override { return this; }
  void Arm(CompletionLoop* loop) override;
  // NOT_SERVING from now on; every watcher is told, then its stream ends.
  void Shutdown();

  class CheckCall;
  class WatchCall;

 private:
  friend class CheckCall;
  friend class WatchCall;

  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& name);
  // False (and nothing kept) beyond kMaxWatchers or after Shutdown();
  // else `*now` is the status to write first.
  bool AddWatcher(WatchCall* call, grpc::health::v1::HealthCheckResponse::ServingStatus* now);
  void RemoveWatcher(WatchCall* call);

  CompletionLoop* loop_ = nullptr;
  std::mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = true;
  std::set<WatchCall*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_HEALTH_SERVICE_H_
