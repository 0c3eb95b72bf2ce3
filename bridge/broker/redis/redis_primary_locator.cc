#include "bridge/broker/redis/redis_primary_locator.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace ssebridge {

std::string RedisPrimaryAddress::Describe() const { return absl::StrCat(host, ":", port); }

uint64_t RedisPrimaryLocator::Track(int fd, uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) return 0;
  const uint64_t token = next_token_++;
  fds_[token] = fd;
  return token;
}

void RedisPrimaryLocator::Untrack(uint64_t token) {
  std::lock_guard<std::mutex> lock(mu_);
  fds_.erase(token);
}

uint64_t RedisPrimaryLocator::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

size_t RedisPrimaryLocator::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fds_.size();
}

void RedisPrimaryLocator::Moved() {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  // Under the lock: an owner untracks before closing, so each fd here is
  // still the connection's own (never a reused descriptor).
  for (const auto& [token, fd] : fds_) shutdown(fd, SHUT_RDWR);
}

absl::StatusOr<RedisPrimaryAddress> FixedPrimaryLocator::Locate() {
  RedisPrimaryAddress a;
  a.host = host_;
  a.port = port_;
  a.generation = generation();
  return a;
}

}  // namespace ssebridge
