// RedisUrl: where the Redis broker connects, parsed from
// redis://[[user]:password@]host[:port][/db], or rediss:// for TLS (see
// redis_tls.h). The password may also come from a file
// (--redis_password_file), which wins over the URL's.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_URL_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      // Redis 6 ACL user; empty: AUTH <password> only
  std::string password;  // empty: no AUTH
  int db = 0;
  bool tls = false;  // rediss://

  // "host:port/db", never the password (safe to log).
  std::string Describe() const;
};

// INVALID_ARGUMENT naming what is wrong (never echoing a password).
absl::StatusOr<RedisUrl> ParseRedisUrl(absl::string_view url);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_URL_H_
