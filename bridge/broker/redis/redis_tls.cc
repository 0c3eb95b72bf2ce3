#include "bridge/broker/redis/redis_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "absl/strings/str_cat.h"

namespace ssebridge {

namespace {

// The newest OpenSSL error as text, and the queue emptied (it is per
// thread and would otherwise blame the next connection).
std::string TakeSslError() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  return out;
}

absl::Status BadFile(const char* flag, const std::string& path, const char* what) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": ", path, ": ", what, " (", TakeSslError(), ")"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RedisTls>> RedisTls::Create(const RedisTlsOptions& o) {
  if (o.cert_file.empty() != o.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--redis_tls_cert_file and --redis_tls_key_file go together (a client certificate "
        "needs its key)");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return absl::InternalError("redis TLS: SSL_CTX_new failed");
  std::shared_ptr<RedisTls> tls(new RedisTls(ctx, o.server_name));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (o.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis TLS: the system's CA certificates could not be loaded; set "
                       "--redis_tls_ca_file (",
                       TakeSslError(), ")"));
    }
  } else if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
    return BadFile("--redis_tls_ca_file", o.ca_file, "not a readable PEM CA bundle");
  }
  if (!o.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
      return BadFile("--redis_tls_cert_file", o.cert_file, "not a readable PEM certificate");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return BadFile("--redis_tls_key_file", o.key_file, "not a readable PEM private key");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return BadFile("--redis_tls_key_file", o.key_file, "does not match --redis_tls_cert_file");
    }
  }
  return std::shared_ptr<const RedisTls>(std::move(tls));
}

RedisTls::~RedisTls() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::unique_ptr<RedisTlsSession>> RedisTls::Handshake(
    int fd, const std::string& host) const {
  const std::string& name = server_name_.empty() ? host : server_name_;
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return absl::InternalError("redis TLS: SSL_new failed");
  auto session = std::make_unique<RedisTlsSession>(ssl);
  // An IP address is checked against the certificate's IP entries, a name
  // against its DNS entries; SNI carries names only. A setter that fails
  // would leave the name unchecked, so it fails the connection.
  bool named = false;
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str());
  if (ip != nullptr) {
    ASN1_OCTET_STRING_free(ip);
    named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    named =
        SSL_set_tlsext_host_name(ssl, name.c_str()) == 1 && SSL_set1_host(ssl, name.c_str()) == 1;
  }
  if (!named || SSL_set_fd(ssl, fd) != 1) {
    return absl::InternalError(absl::StrCat("redis TLS: could not set up the session for ", name,
                                            " (", TakeSslError(), ")"));
  }
  ERR_clear_error();
  errno = 0;
  const int ret = SSL_connect(ssl);
  const long verify = SSL_get_verify_result(ssl);
  if (ret != 1 || verify != X509_V_OK) {
    std::string why = verify != X509_V_OK
                          ? absl::StrCat("the server's certificate does not verify for ", name,
                                         ": ", X509_verify_cert_error_string(verify))
                          : TakeSslError();
    if (why.empty()) {
      why = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : "connection closed";
    }
    TakeSslError();
    return absl::UnavailableError(absl::StrCat("TLS handshake failed: ", why));
  }
  // Belt and braces: SSL_VERIFY_PEER already refuses a server without one.
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) {
    return absl::UnavailableError("TLS handshake failed: the server sent no certificate");
  }
  X509_free(peer);
  return session;
}

RedisTlsSession::~RedisTlsSession() { SSL_free(ssl_); }

absl::Status RedisTlsSession::Failed(int ret, const char* what, bool* timed_out) {
  const int err = SSL_get_error(ssl_, ret);
  std::string detail = TakeSslError();
  *timed_out = (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
                (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)));
  if (*timed_out) return absl::UnavailableError(absl::StrCat("TLS ", what, " timed out"));
  if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && detail.empty() && errno == 0)) {
    return absl::UnavailableError("connection closed");
  }
  if (detail.empty()) detail = err == SSL_ERROR_SYSCALL ? strerror(errno) : "TLS error";
  return absl::UnavailableError(absl::StrCat("TLS ", what, ": ", detail));
}

absl::Status RedisTlsSession::WriteAll(const char* data, size_t size, bool* timed_out) {
  *timed_out = false;
  while (size > 0) {
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    const int ret = SSL_write_ex(ssl_, data, size, &written);
    if (ret != 1) return Failed(ret, "write", timed_out);
    data += written;
    size -= written;
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RedisTlsSession::Read(char* buf, size_t size, bool* timed_out) {
  *timed_out = false;
  ERR_clear_error();
  errno = 0;
  size_t got = 0;
  const int ret = SSL_read_ex(ssl_, buf, size, &got);
  // SSL_MODE_AUTO_RETRY (the default) reads past records without data,
  // such as TLS 1.3 session tickets.
  if (ret == 1) return got;
  return Failed(ret, "read", timed_out);
}

absl::StatusOr<size_t> RedisTlsSession::ReadAvailable(char* buf, size_t size) {
  const int fd = SSL_get_fd(ssl_);
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::UnavailableError(absl::StrCat("TLS read: fcntl: ", strerror(errno)));
  }
  ERR_clear_error();
  errno = 0;
  size_t got = 0;
  const int ret = SSL_read_ex(ssl_, buf, size, &got);
  const int err = ret == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, ret);
  const int saved_errno = errno;
  fcntl(fd, F_SETFL, flags);
  if (ret == 1) return got;
  if (err == SSL_ERROR_WANT_READ) {
    TakeSslError();
    return size_t{0};
  }
  errno = saved_errno;
  bool timed_out = false;
  return Failed(ret, "read", &timed_out);
}

size_t RedisTlsSession::Pending() const { return static_cast<size_t>(SSL_pending(ssl_)); }

}  // namespace ssebridge
