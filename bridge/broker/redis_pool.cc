#include "bridge/broker/redis_pool.h"

#include "absl/strings/str_cat.h"

namespace ssebridge {

RedisPool::RedisPool(RedisConnectOptions options, size_t size,
                     RedisBackoff backoff)
    : options_(std::move(options)),
      backoff_(backoff),
      available_(size == 0 ? 1 : size),
      delay_(backoff.min) {}

bool RedisPool::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return healthy_;
}

absl::Status RedisPool::Run(
    const std::function<absl::Status(RedisConnection&)>& call) {
  std::unique_ptr<RedisConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    free_cv_.wait(lock, [this] { return available_ > 0; });
    --available_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else if (absl::Now() < next_connect_) {
      ++available_;
      free_cv_.notify_one();
      return absl::UnavailableError(
          absl::StrCat("redis unavailable (reconnecting): ", last_error_));
    }
  }
  auto give_back = [this, &conn](bool ok, const absl::Status& failure) {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn != nullptr && !conn->broken()) idle_.push_back(std::move(conn));
    ++available_;
    if (ok) {
      healthy_ = true;
      delay_ = backoff_.min;
    } else if (failure.code() == absl::StatusCode::kUnavailable) {
      healthy_ = false;
      last_error_ = std::string(failure.message());
      next_connect_ = absl::Now() + delay_;
      delay_ = std::min(delay_ * 2, backoff_.max);
    }
    free_cv_.notify_one();
  };
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> fresh =
        RedisConnection::Connect(options_);
    if (!fresh.ok()) {
      give_back(false, fresh.status());
      return absl::UnavailableError(
          absl::StrCat("redis unavailable: ", fresh.status().message()));
    }
    conn = std::move(*fresh);
  }
  absl::Status s = call(*conn);
  const bool io_failed = conn->broken();
  give_back(!io_failed, io_failed ? s : absl::OkStatus());
  if (io_failed && s.ok()) s = absl::UnavailableError("redis connection lost");
  return s;
}

}  // namespace ssebridge
