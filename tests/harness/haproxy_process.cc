#include "tests/harness/haproxy_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/harness/free_port.h"
#include "tests/harness/http_request.h"

namespace ssebridge_it {

namespace {

// The README's topology: /readyz decides, a replica leaves after two failed
// checks and rejoins after one good one; an hour's server timeout so a quiet
// stream is not cut (the heartbeat keeps it busy anyway).
std::string Config(int port, const std::string& socket_path, const std::vector<int>& backends) {
  std::string c = absl::StrCat(
      "global\n"
      "  maxconn 4000\n"
      // Nothing else may share the port (gRPC listeners set SO_REUSEPORT).
      "  noreuseport\n"
      "  stats socket ",
      socket_path,
      " mode 600 level admin\n"
      "defaults\n"
      "  mode http\n"
      "  timeout connect 1s\n"
      "  timeout client 1h\n"
      "  timeout server 1h\n"
      "  timeout http-request 10s\n"
      "  option redispatch\n"
      "  retries 2\n"
      "frontend events\n"
      "  bind 127.0.0.1:",
      port,
      "\n"
      "  default_backend replicas\n"
      "backend replicas\n"
      "  balance roundrobin\n"
      "  option httpchk GET /readyz\n"
      "  http-check expect status 200\n"
      "  default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 1\n");
  for (size_t i = 0; i < backends.size(); ++i) {
    absl::StrAppend(&c, "  server r", i, " 127.0.0.1:", backends[i], " check\n");
  }
  return c;
}

}  // namespace

std::string FindHaproxy() {
  for (const char* path : {"/usr/sbin/haproxy", "/usr/bin/haproxy"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

HaproxyProcess::~HaproxyProcess() { Stop(); }

bool HaproxyProcess::Start(const std::vector<int>& backend_http_ports, std::string* error) {
  // The free port may be taken between the probe and HAProxy's bind: try a
  // few.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (StartOnce(backend_http_ports, error)) return true;
  }
  return false;
}

bool HaproxyProcess::StartOnce(const std::vector<int>& ports, std::string* error) {
  const std::string binary = FindHaproxy();
  if (binary.empty()) {
    *error = "haproxy is not installed (scripts/setup-deps.sh installs it)";
    return false;
  }
  dir_ = std::make_unique<TempDir>();
  socket_path_ = dir_->path() + "/admin.sock";
  port_ = FreePort();
  const std::string config = dir_->Write("haproxy.cfg", Config(port_, socket_path_, ports));
  const std::string log = dir_->path() + "/haproxy.log";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    execl(binary.c_str(), binary.c_str(), "-db", "-f", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  const absl::Time end = absl::Now() + absl::Seconds(20);
  while (absl::Now() < end) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      *error = absl::StrCat("haproxy exited at start: ", text.str());
      return false;
    }
    if (Admin("show info").find("Pid:") != std::string::npos &&
        HttpGet(port_, "/healthz").status != 0) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  *error = absl::StrCat("haproxy on port ", port_, " did not come up");
  Stop();
  return false;
}

std::string HaproxyProcess::Admin(const std::string& command) const {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof addr.sun_path - 1);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string line = command + "\n";
    if (write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer;
}

bool HaproxyProcess::SetBackend(int slot, int http_port, std::string* error) {
  const std::string answer =
      Admin(absl::StrCat("set server replicas/r", slot, " addr 127.0.0.1 port ", http_port));
  // HAProxy answers a change with what changed, and a refusal with why.
  if (answer.find("changed") != std::string::npos ||
      answer.find("no need to change") != std::string::npos) {
    return true;
  }
  *error = absl::StrCat("set server replicas/r", slot, ": ", answer);
  return false;
}

bool HaproxyProcess::BackendUp(int slot) const {
  // "show stat" is CSV: proxy, server, ..., the 18th column is the status.
  const std::string name = absl::StrCat("r", slot);
  for (absl::string_view line : absl::StrSplit(Admin("show stat"), '\n')) {
    std::vector<absl::string_view> cols = absl::StrSplit(line, ',');
    if (cols.size() > 17 && cols[0] == "replicas" && cols[1] == name) {
      return absl::StartsWith(cols[17], "UP");
    }
  }
  return false;
}

void HaproxyProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time end = absl::Now() + absl::Seconds(5);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (absl::Now() > end) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace ssebridge_it
