// redis_server: a real redis-server for the Redis broker tests, on a free
// loopback port, no persistence unless asked (SHUTDOWN SAVE writes its
// dump into a private directory, which a restart loads). Stopped by PID.
// Also a minimal RESP client for the few commands the tests send
// (FLUSHALL, CLIENT KILL, SHUTDOWN).
#ifndef SSEBRIDGE_TESTS_HARNESS_REDIS_SERVER_H_
#define SSEBRIDGE_TESTS_HARNESS_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace ssebridge_it {

// The redis-server binary, or "" when it is not installed.
std::string FindRedisServer();

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on a free port (the same port again after Stop()). False with
  // *error when it does not answer PING in time.
  bool Start(std::string* error);
  // SIGKILL: whatever it held is lost.
  void Kill();
  // SHUTDOWN SAVE: the next Start() loads the data back.
  bool ShutdownSave();
  // SIGSTOP / SIGCONT: a Redis that keeps its connections but answers
  // nothing (a frozen VM, a long fork); the kernel still takes what the
  // bridge sends.
  void Freeze();
  void Thaw();
  // The most bytes waiting unread in one connection to this server (what a
  // frozen server was sent and did not read yet), from /proc/net/tcp.
  size_t PendingInputBytes() const;
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const;  // redis://127.0.0.1:<port>/0

  // Before Start(): also listen for TLS on a second free port with this
  // certificate; `ca_file` checks client certificates, which Redis then
  // requires when `require_client_cert`. The plain port stays, for the
  // test's own commands.
  void EnableTls(const std::string& cert_file, const std::string& key_file,
                 const std::string& ca_file, bool require_client_cert);
  int tls_port() const { return tls_port_; }
  std::string tls_url() const;  // rediss://127.0.0.1:<tls_port>/0
  // Sends one command; the reply's first line ("+OK", ":3", ...), or "" on
  // I/O failure.
  std::string Command(const std::vector<std::string>& argv) const;

 private:
  void Reap();
  std::string dir_;
  int port_ = 0;
  int tls_port_ = 0;
  std::vector<std::string> tls_args_;
  pid_t pid_ = -1;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_REDIS_SERVER_H_
