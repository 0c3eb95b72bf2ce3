#include "tests/harness/redis_sentinel_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/harness/free_port.h"

namespace ssebridge_it {

namespace {

// Reads RESP from a blocking socket (SO_RCVTIMEO bounds each recv).
class RespReader {
 public:
  explicit RespReader(int fd) : fd_(fd) {}
  bool Line(std::string* out) {
    out->clear();
    char c;
    while (recv(fd_, &c, 1, 0) == 1) {
      if (c == '\n') return true;
      if (c != '\r') out->push_back(c);
    }
    return false;
  }
  bool Bytes(size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = recv(fd_, &(*out)[got], n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    std::string crlf;
    return Line(&crlf);
  }
  bool Reply(RespReply* r, int depth = 0) {
    std::string line;
    if (depth > 8 || !Line(&line) || line.empty()) return false;
    r->type = line[0];
    const std::string rest = line.substr(1);
    long long n = 0;
    switch (r->type) {
      case '+':
      case '-':
      case ':':
        r->text = rest;
        return true;
      case '$':
        if (!absl::SimpleAtoi(rest, &n)) return false;
        if (n < 0) {
          r->type = '_';
          return true;
        }
        return Bytes(static_cast<size_t>(n), &r->text);
      case '*':
        if (!absl::SimpleAtoi(rest, &n)) return false;
        if (n < 0) {
          r->type = '_';
          return true;
        }
        r->items.resize(static_cast<size_t>(n));
        for (auto& item : r->items) {
          if (!Reply(&item, depth + 1)) return false;
        }
        return true;
      default:
        return false;
    }
  }

 private:
  int fd_;
};

// A field of SENTINEL master's flat [name, value, ...] array.
std::string Field(const RespReply& flat, const std::string& name) {
  for (size_t i = 0; i + 1 < flat.items.size(); i += 2) {
    if (flat.items[i].text == name) return flat.items[i + 1].text;
  }
  return "";
}

template <typename Pred>
bool WaitFor(Pred pred, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

}  // namespace

RespReply RespCommand(int port, const std::vector<std::string>& argv, absl::Duration timeout,
                      const std::string& password) {
  RespReply failed;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return failed;
  }
  std::string req;
  auto append = [&req](const std::vector<std::string>& args) {
    absl::StrAppend(&req, "*", args.size(), "\r\n");
    for (const auto& a : args) absl::StrAppend(&req, "$", a.size(), "\r\n", a, "\r\n");
  };
  if (!password.empty()) append({"AUTH", password});
  append(argv);
  RespReader reader(fd);
  RespReply reply;
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    reply = failed;
  } else if (!password.empty() && (!reader.Reply(&reply) || reply.type != '+')) {
    // The failed AUTH's answer (or nothing) is the answer.
  } else if (!reader.Reply(&reply)) {
    reply = failed;
  }
  close(fd);
  return reply;
}

std::string FindRedisSentinel() {
  for (const char* path : {"/usr/bin/redis-sentinel", "/usr/local/bin/redis-sentinel"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

RedisSentinelCluster::RedisSentinelCluster() {
  auto make_dir = [](std::string* dir) {
    char tmpl[] = "/tmp/ssebridge-sentinel-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) *dir = tmpl;
  };
  for (Proc& p : nodes_) make_dir(&p.dir);
  for (Proc& p : sentinels_) make_dir(&p.dir);
}

RedisSentinelCluster::~RedisSentinelCluster() {
  for (Proc* all : {&sentinels_[0], &sentinels_[1], &sentinels_[2], &nodes_[0], &nodes_[1]}) {
    Stop(all);
    std::error_code ignored;
    if (!all->dir.empty()) std::filesystem::remove_all(all->dir, ignored);
  }
}

bool RedisSentinelCluster::Spawn(Proc* p, const std::vector<std::string>& argv,
                                 const std::string& password, std::string* error) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) {
    *error = "fork failed";
    return false;
  }
  p->pid = pid;
  if (!WaitFor(
          [&] { return RespCommand(p->port, {"PING"}, absl::Seconds(2), password).text == "PONG"; },
          absl::Seconds(10))) {
    *error = absl::StrCat(argv[0], " on port ", p->port, " did not answer PING");
    return false;
  }
  return true;
}

void RedisSentinelCluster::Stop(Proc* p) {
  if (p->pid <= 0) return;
  kill(p->pid, SIGKILL);
  int status = 0;
  waitpid(p->pid, &status, 0);
  p->pid = -1;
}

bool RedisSentinelCluster::ReplicaInSync(int replica_port) const {
  RespReply info = RespCommand(replica_port, {"INFO", "replication"});
  return absl::StrContains(info.text, "master_link_status:up");
}

bool RedisSentinelCluster::SentinelsReady() const {
  for (const Proc& s : sentinels_) {
    RespReply m =
        RespCommand(s.port, {"SENTINEL", "master", kMaster}, absl::Seconds(2), sentinel_password_);
    if (m.type != '*' || Field(m, "port") != absl::StrCat(Announced(nodes_[primary_])) ||
        Field(m, "num-slaves") != "1" || Field(m, "num-other-sentinels") != "2" ||
        Field(m, "flags") != "master") {
      return false;
    }
  }
  return true;
}

bool RedisSentinelCluster::Start(std::string* error) {
  const std::string server = "/usr/bin/redis-server";
  const std::string sentinel = FindRedisSentinel();
  if (access(server.c_str(), X_OK) != 0 || sentinel.empty()) {
    *error =
        "redis-server and redis-sentinel are needed (Debian packages redis-server, "
        "redis-sentinel; scripts/setup-deps.sh installs both)";
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    Proc& n = nodes_[i];
    n.port = FreePort();
    if (tls_) n.tls_port = FreePort();
    std::vector<std::string> argv = {server, "--port", absl::StrCat(n.port), "--bind", "127.0.0.1"};
    argv.insert(argv.end(), {"--save", "", "--appendonly", "no", "--dir", n.dir});
    argv.insert(argv.end(), {"--daemonize", "no", "--loglevel", "warning"});
    argv.insert(argv.end(), {"--logfile", n.dir + "/redis.log"});
    if (tls_) {
      for (const std::string& a : TlsArgs(n.tls_port)) {
        std::vector<std::string> kv = absl::StrSplit(a, absl::MaxSplits(' ', 1));
        argv.push_back("--" + kv[0]);
        argv.push_back(kv.size() > 1 ? kv[1] : "");
      }
    }
    if (i == 1) {
      argv.insert(argv.end(), {"--replicaof", "127.0.0.1", absl::StrCat(Announced(nodes_[0]))});
    }
    if (!Spawn(&n, argv, "", error)) return false;
  }
  if (!WaitFor([&] { return ReplicaInSync(nodes_[1].port); }, absl::Seconds(20))) {
    *error = "the replica never got in sync with the primary";
    return false;
  }
  for (Proc& s : sentinels_) {
    s.port = FreePort();
    if (tls_) s.tls_port = FreePort();
    const std::string conf = s.dir + "/sentinel.conf";
    std::ofstream(conf) << "port " << s.port << "\nbind 127.0.0.1\ndaemonize no\n"
                        << "dir " << s.dir << "\nlogfile " << s.dir << "/sentinel.log\n"
                        << (tls_ ? absl::StrJoin(TlsArgs(s.tls_port), "\n") + "\n" : "")
                        << "sentinel monitor " << kMaster << " 127.0.0.1 " << Announced(nodes_[0])
                        << " 2\n"
                        << "sentinel down-after-milliseconds " << kMaster << " 1000\n"
                        << "sentinel failover-timeout " << kMaster << " 3000\n"
                        << "sentinel parallel-syncs " << kMaster << " 1\n";
    if (!sentinel_password_.empty()) {
      // Clients must AUTH, and each sentinel AUTHs with it to the others.
      std::ofstream(conf, std::ios::app) << "requirepass \"" << sentinel_password_ << "\"\n";
    }
    if (!Spawn(&s, {sentinel, conf}, sentinel_password_, error)) return false;
  }
  if (!WaitFor([&] { return SentinelsReady(); }, absl::Seconds(30))) {
    *error = "the sentinels never agreed on the master, its replica and each other";
    return false;
  }
  return true;
}

void RedisSentinelCluster::EnableTls(const std::string& cert_file, const std::string& key_file,
                                     const std::string& ca_file) {
  tls_ = true;
  tls_cert_ = cert_file;
  tls_key_ = key_file;
  tls_ca_ = ca_file;
}

std::vector<std::string> RedisSentinelCluster::TlsArgs(int tls_port) const {
  // tls-replication: replicas and sentinels connect over TLS, and each
  // announces its TLS port, which is then what the sentinels hand out.
  return {
      absl::StrCat("tls-port ", tls_port), "tls-cert-file " + tls_cert_, "tls-key-file " + tls_key_,
      "tls-ca-cert-file " + tls_ca_,       "tls-auth-clients no",        "tls-replication yes"};
}

std::string RedisSentinelCluster::SentinelsFlag() const {
  std::vector<std::string> out;
  for (const Proc& s : sentinels_) out.push_back(absl::StrCat("127.0.0.1:", Announced(s)));
  return absl::StrJoin(out, ",");
}

void RedisSentinelCluster::KillPrimary() { Stop(&nodes_[primary_]); }

void RedisSentinelCluster::FreezePrimary() {
  if (nodes_[primary_].pid > 0) kill(nodes_[primary_].pid, SIGSTOP);
}

void RedisSentinelCluster::ThawPrimary() {
  if (nodes_[primary_].pid > 0) kill(nodes_[primary_].pid, SIGCONT);
}

bool RedisSentinelCluster::CutOffReplica(std::string* error) {
  Proc& replica = nodes_[1 - primary_];
  if (replica.pid <= 0) {
    *error = "no replica running";
    return false;
  }
  kill(replica.pid, SIGSTOP);
  RespReply killed = RespCommand(primary_port(), {"CLIENT", "KILL", "TYPE", "replica"});
  if (killed.type != ':' || killed.text != "1") {
    ResumeReplica();
    *error = absl::StrCat("CLIENT KILL TYPE replica on the primary: ", std::string(1, killed.type),
                          killed.text);
    return false;
  }
  return true;
}

RespReply RedisSentinelCluster::SentinelCommand(const std::vector<std::string>& argv) const {
  return RespCommand(sentinels_[0].port, argv, absl::Seconds(2), sentinel_password_);
}

bool RedisSentinelCluster::ForceFailover(std::string* error) {
  RespReply r = SentinelCommand({"SENTINEL", "FAILOVER", kMaster});
  if (r.type != '+') {
    *error = absl::StrCat("SENTINEL FAILOVER: ", r.text);
    return false;
  }
  return true;
}

int RedisSentinelCluster::OtherClients(int port) const {
  RespReply list = RespCommand(port, {"CLIENT", "LIST"});
  if (list.type != '$') return -1;
  int n = 0;
  size_t start = 0;
  while (start < list.text.size()) {
    size_t end = list.text.find('\n', start);
    if (end == std::string::npos) end = list.text.size();
    const std::string line = list.text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || absl::StrContains(line, " name=sentinel-") ||
        absl::StrContains(line, " cmd=client") || absl::StrContains(line, " flags=M") ||
        absl::StrContains(line, " flags=S")) {
      continue;
    }
    ++n;
  }
  return n;
}

void RedisSentinelCluster::ResumeReplica() {
  const Proc& replica = nodes_[1 - primary_];
  if (replica.pid > 0) kill(replica.pid, SIGCONT);
}

int RedisSentinelCluster::AgreedPrimaryPort() const {
  int agreed = 0;
  for (const Proc& s : sentinels_) {
    if (s.pid <= 0) continue;
    RespReply a = RespCommand(s.port, {"SENTINEL", "get-master-addr-by-name", kMaster},
                              absl::Seconds(2), sentinel_password_);
    int port = 0;
    if (a.type != '*' || a.items.size() != 2 || !absl::SimpleAtoi(a.items[1].text, &port)) {
      return 0;
    }
    if (agreed != 0 && port != agreed) return 0;
    agreed = port;
  }
  for (const Proc& n : nodes_) {
    if (agreed != 0 && Announced(n) == agreed) return n.port;
  }
  return agreed;
}

bool RedisSentinelCluster::IsMaster(int port) const {
  RespReply role = RespCommand(port, {"ROLE"});
  return role.type == '*' && !role.items.empty() && role.items[0].text == "master";
}

bool RedisSentinelCluster::WaitFailover(absl::Duration timeout, std::string* error) {
  const int replica = replica_port();
  if (!WaitFor([&] { return AgreedPrimaryPort() == replica && IsMaster(replica); }, timeout)) {
    *error =
        absl::StrCat("no failover to port ", replica, " within ", absl::FormatDuration(timeout),
                     " (sentinels agree on ", AgreedPrimaryPort(), ")");
    return false;
  }
  primary_ = 1 - primary_;
  return true;
}

}  // namespace ssebridge_it
