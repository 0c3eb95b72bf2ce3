#include "bridge/broker/redis/redis_pool.h"

#include <sys/socket.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ssebridge {

namespace {

// What went wrong, without what it meant for that call ("outcome unknown"
// belongs to the call that failed, not to later ones refused meanwhile).
absl::string_view Cause(absl::string_view message) {
  for (absl::string_view tail : {" after the command was sent", "; the command"}) {
    size_t at = message.find(tail);
    if (at != absl::string_view::npos) message = message.substr(0, at);
  }
  return message;
}

}  // namespace

RedisPool::RedisPool(RedisConnectOptions options, size_t size, RedisBackoff backoff)
    : options_(std::move(options)),
      backoff_(backoff),
      available_(size == 0 ? 1 : size),
      delay_(backoff.min) {}

bool RedisPool::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return healthy_;
}

void RedisPool::Revive() {
  std::lock_guard<std::mutex> lock(mu_);
  healthy_ = true;
  next_connect_ = absl::InfinitePast();
  delay_ = backoff_.min;
}

void RedisPool::CancelInFlight() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  // The owners still hold (and later free) the connections; shutdown() only
  // wakes their blocked reads and writes.
  for (RedisConnection* conn : busy_) shutdown(conn->fd(), SHUT_RDWR);
  idle_.clear();
  free_cv_.notify_all();
}

absl::Status RedisPool::Run(const std::function<absl::Status(RedisConnection&)>& call) {
  std::unique_ptr<RedisConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Bounded like the command itself: a caller never queues longer for a
    // connection than it would wait for Redis' answer.
    if (!free_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.command_timeout),
                           [this] { return available_ > 0 || cancelled_; })) {
      return absl::UnavailableError(absl::StrCat("redis: every pooled connection stayed busy for ",
                                                 absl::FormatDuration(options_.command_timeout),
                                                 "; not sent"));
    }
    if (cancelled_) {
      return absl::UnavailableError("redis: shutting down; the command was not sent");
    }
    --available_;
    while (!idle_.empty() && idle_.back()->StaleWhileIdle()) idle_.pop_back();
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else if (absl::Now() < next_connect_) {
      ++available_;
      free_cv_.notify_one();
      return absl::UnavailableError(
          absl::StrCat("redis unavailable (reconnecting after: ", last_error_, "); not sent"));
    }
  }
  auto give_back = [this, &conn](bool ok, const absl::Status& failure) {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn != nullptr) {
      busy_.erase(std::remove(busy_.begin(), busy_.end(), conn.get()), busy_.end());
    }
    if (conn != nullptr && !conn->broken() && !cancelled_) {
      idle_.push_back(std::move(conn));
    }
    ++available_;
    if (ok) {
      healthy_ = true;
      delay_ = backoff_.min;
    } else if (failure.code() == absl::StatusCode::kUnavailable ||
               failure.code() == absl::StatusCode::kDeadlineExceeded) {
      healthy_ = false;
      last_error_ = std::string(Cause(failure.message()));
      next_connect_ = absl::Now() + delay_;
      delay_ = std::min(delay_ * 2, backoff_.max);
    }
    free_cv_.notify_one();
  };
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> fresh = RedisConnection::Connect(options_);
    if (!fresh.ok()) {
      give_back(false, fresh.status());
      return absl::UnavailableError(absl::StrCat("redis unavailable: ", fresh.status().message()));
    }
    conn = std::move(*fresh);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) {
      conn.reset();
      ++available_;
      free_cv_.notify_one();
      return absl::UnavailableError("redis: shutting down; the command was not sent");
    }
    busy_.push_back(conn.get());
  }
  absl::Status s = call(*conn);
  const bool io_failed = conn->broken();
  give_back(!io_failed, io_failed ? s : absl::OkStatus());
  if (io_failed && s.ok()) {
    s = absl::DeadlineExceededError("redis connection lost during the call: outcome unknown");
  }
  return s;
}

}  // namespace ssebridge
