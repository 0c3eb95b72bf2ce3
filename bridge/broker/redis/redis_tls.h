// RedisTls: TLS to Redis (rediss://) for managed Redis services that
// require it. Debian bookworm's hiredis 0.14 has no TLS, so hiredis keeps
// what it is good at (the connect, the RESP writer and reader) and the bytes
// go through OpenSSL here: RedisConnection hands its socket to a
// RedisTlsSession after the TCP connect and, from then on, writes hiredis'
// output buffer and feeds hiredis' reader through it.
//
// RedisTls owns the SSL_CTX (CA bundle, optional client certificate) and is
// shared, immutable, by every connection of the process; a RedisTlsSession
// is one connection's SSL and is owned by that connection. The socket stays
// blocking with the connection's SO_RCVTIMEO/SO_SNDTIMEO, so a read or
// write past the command timeout fails and says so, as plain TCP does.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_TLS_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_TLS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace ssebridge {

struct RedisTlsOptions {
  std::string ca_file;      // PEM bundle; empty: the system's CAs
  std::string cert_file;    // client certificate (with key_file), for
  std::string key_file;     // Redis' tls-auth-clients
  std::string server_name;  // checked against the certificate and sent as
                            // SNI; empty: the host of --redis_url
};

class RedisTlsSession;

class RedisTls {
 public:
  // INVALID_ARGUMENT naming the --redis_tls_* flag of a file that cannot be
  // read or does not hold what it should.
  static absl::StatusOr<std::shared_ptr<const RedisTls>> Create(const RedisTlsOptions& options);
  ~RedisTls();
  RedisTls(const RedisTls&) = delete;
  RedisTls& operator=(const RedisTls&) = delete;

  // The TLS handshake on a connected socket `fd` to `host`, verifying the
  // server's certificate against the CA bundle and the name. UNAVAILABLE
  // (timeout, refusal, a certificate that does not verify) with the reason.
  absl::StatusOr<std::unique_ptr<RedisTlsSession>> Handshake(int fd, const std::string& host) const;

 private:
  RedisTls(SSL_CTX* ctx, std::string server_name)
      : ctx_(ctx), server_name_(std::move(server_name)) {}
  SSL_CTX* ctx_;
  const std::string server_name_;
};

class RedisTlsSession {
 public:
  explicit RedisTlsSession(SSL* ssl) : ssl_(ssl) {}
  ~RedisTlsSession();
  RedisTlsSession(const RedisTlsSession&) = delete;
  RedisTlsSession& operator=(const RedisTlsSession&) = delete;

  // Writes all of data, or fails: UNAVAILABLE (timed_out set when the
  // socket timeout expired).
  absl::Status WriteAll(const char* data, size_t size, bool* timed_out);
  // Reads what one TLS record holds (blocking up to the socket timeout):
  // bytes read (> 0), or a status; 0 bytes is never returned.
  absl::StatusOr<size_t> Read(char* buf, size_t size, bool* timed_out);
  // Read() for a caller woken by poll/epoll: never waits for the rest of a
  // record (a readable socket may hold only part of one). 0 when no whole
  // record's data is there yet; the socket is non-blocking meanwhile.
  absl::StatusOr<size_t> ReadAvailable(char* buf, size_t size);
  // Decrypted bytes OpenSSL holds that Read() has not returned yet: the
  // socket may look idle while these wait.
  size_t Pending() const;

 private:
  absl::Status Failed(int ret, const char* what, bool* timed_out);
  SSL* ssl_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_TLS_H_
