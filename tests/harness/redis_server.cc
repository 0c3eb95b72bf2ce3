#include "tests/harness/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/harness/free_port.h"

namespace ssebridge_it {

std::string FindRedisServer() {
  for (const char* path : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

RedisServer::RedisServer() {
  char tmpl[] = "/tmp/ssebridge-redis-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
}

RedisServer::~RedisServer() {
  Kill();
  if (!dir_.empty()) {
    unlink((dir_ + "/dump.rdb").c_str());
    rmdir(dir_.c_str());
  }
}

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_, "/0"); }

std::string RedisServer::tls_url() const {
  return absl::StrCat("rediss://127.0.0.1:", tls_port_, "/0");
}

void RedisServer::EnableTls(const std::string& cert_file, const std::string& key_file,
                            const std::string& ca_file, bool require_client_cert) {
  if (tls_port_ == 0) tls_port_ = FreePort();
  tls_args_ = {"--tls-port",         absl::StrCat(tls_port_),
               "--tls-cert-file",    cert_file,
               "--tls-key-file",     key_file,
               "--tls-ca-cert-file", ca_file,
               "--tls-auth-clients", require_client_cert ? "yes" : "no"};
}

bool RedisServer::Start(std::string* error) {
  const std::string binary = FindRedisServer();
  if (binary.empty()) {
    *error = "redis-server is not installed";
    return false;
  }
  if (port_ == 0) port_ = FreePort();
  const std::string port = absl::StrCat(port_);
  // argv before fork(): the child of a threaded process may not allocate.
  std::vector<std::string> args = {
      binary,     "--port",       port, "--bind",     "127.0.0.1", "--save",
      "",         "--appendonly", "no", "--dir",      dir_,        "--dbfilename",
      "dump.rdb", "--daemonize",  "no", "--loglevel", "warning"};
  args.insert(args.end(), tls_args_.begin(), tls_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  pid_ = pid;
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    if (Command({"PING"}) == "+PONG") return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = absl::StrCat("redis-server exited at start (port ", port_,
                            tls_port_ ? absl::StrCat(" or TLS port ", tls_port_) : std::string(),
                            " taken, or a bad TLS file?)");
      return false;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  *error = absl::StrCat("redis-server on port ", port_, " did not answer PING");
  Kill();
  return false;
}

void RedisServer::Reap() {
  if (pid_ <= 0) return;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap();
}

bool RedisServer::ShutdownSave() {
  if (pid_ <= 0) return false;
  Command({"SHUTDOWN", "SAVE"});  // no reply: the server is gone
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  Kill();
  return false;
}

void RedisServer::Freeze() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Thaw() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

size_t RedisServer::PendingInputBytes() const {
  // "sl local rem st tx_queue:rx_queue ...", addresses and queues in hex.
  std::FILE* f = std::fopen("/proc/net/tcp", "r");
  if (f == nullptr) return 0;
  size_t most = 0;
  char line[512];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned local_port = 0, tx = 0, rx = 0, state = 0;
    char local_addr[64], remote[64];
    if (std::sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %63s %x %x:%x", local_addr, &local_port, remote,
                    &state, &tx, &rx) == 6 &&
        static_cast<int>(local_port) == port_ && state == 1 /* ESTABLISHED */) {
      most = std::max<size_t>(most, rx);
    }
  }
  std::fclose(f);
  return most;
}

std::string RedisServer::Command(const std::vector<std::string>& argv) const {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string req = absl::StrCat("*", argv.size(), "\r\n");
  for (const auto& a : argv) absl::StrAppend(&req, "$", a.size(), "\r\n", a, "\r\n");
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string line;
  char c;
  while (recv(fd, &c, 1, 0) == 1 && c != '\n') {
    if (c != '\r') line.push_back(c);
  }
  close(fd);
  return line;
}

}  // namespace ssebridge_it
