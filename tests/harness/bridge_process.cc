#include "tests/harness/bridge_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/harness/wait_until.h"

#ifndef SSEBRIDGE_BINARY
#error "SSEBRIDGE_BINARY must name the bridge binary"
#endif

extern char** environ;

namespace ssebridge_it {

bool BridgeIsSanitized() { return std::string(SSEBRIDGE_TEST_SANITIZER) != ""; }

std::string ExitInfo::Describe() const {
  if (!exited) return "not exited";
  if (term_signal != 0) {
    return absl::StrCat("killed by signal ", term_signal, " (", strsignal(term_signal), ")");
  }
  return absl::StrCat("exit code ", exit_code);
}

bool ExtractJsonInt(const std::string& line, const std::string& key, long long* value) {
  std::string quoted = absl::StrCat("\"", key, "\"");
  size_t pos = line.find(quoted);
  if (pos == std::string::npos) return false;
  pos += quoted.size();
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  if (pos >= line.size() || line[pos] != ':') return false;
  ++pos;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  bool quoted_value = pos < line.size() && line[pos] == '"';
  if (quoted_value) ++pos;
  size_t start = pos;
  while (pos < line.size() && std::isdigit(static_cast<unsigned char>(line[pos]))) ++pos;
  if (pos == start || pos - start > 18) return false;
  *value = std::stoll(line.substr(start, pos - start));
  return true;
}

BridgeProcess::BridgeProcess(BridgeOptions options) : options_(std::move(options)) {}

BridgeProcess::~BridgeProcess() {
  if (pid_ > 0 && !reaped_) {
    ExitInfo info;
    Stop(absl::Seconds(20), &info);
  }
  if (drainer_.joinable()) drainer_.join();
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr,
                 "---- ssebridge log (pid %d, http %d, grpc %d, admin %d; %s) ----\n%s\n"
                 "---- end of ssebridge log ----\n",
                 static_cast<int>(pid_), http_port_, grpc_port_, admin_port_,
                 exit_info_.Describe().c_str(), LogText().c_str());
  }
}

std::string BridgeProcess::grpc_target() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

bool BridgeProcess::Start(std::string* error) {
  std::vector<std::string> args = {
      SSEBRIDGE_BINARY, "--http_address=127.0.0.1",  "--http_port=0", "--grpc_address=127.0.0.1",
      "--grpc_port=0",  "--admin_address=127.0.0.1", "--admin_port=0"};
  for (const auto& f : options_.flags) args.push_back(f);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (absl::StartsWith(*e, "SSEBRIDGE_")) continue;
    env.emplace_back(*e);
  }
  for (const auto& e : options_.env) env.push_back(e);

  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = absl::StrCat("pipe2: ", std::strerror(errno));
    return false;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = absl::StrCat("fork: ", std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "integration harness: execve of ssebridge failed\n";
    ssize_t ignored = ::write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(fds[1]);
  pid_ = pid;
  stderr_fd_ = fds[0];
  drainer_ = std::thread([this] { DrainStderr(); });

  auto listening = [this]() {
    if (stderr_eof_) return true;
    for (const auto& line : lines_) {
      long long h = 0, g = 0;
      if (absl::StrContains(line, "\"listening\"") && ExtractJsonInt(line, "http_port", &h) &&
          ExtractJsonInt(line, "grpc_port", &g) && h > 0 && g > 0) {
        return true;
      }
    }
    return false;
  };
  std::unique_lock<std::mutex> lock(mu_);
  WaitUntil(lock, listening, options_.startup_timeout);
  for (const auto& line : lines_) {
    long long h = 0, g = 0;
    if (absl::StrContains(line, "\"listening\"") && ExtractJsonInt(line, "http_port", &h) &&
        ExtractJsonInt(line, "grpc_port", &g) && h > 0 && g > 0) {
      http_port_ = static_cast<int>(h);
      grpc_port_ = static_cast<int>(g);
      // Absent (or -1) when the internal listener is off.
      long long a = 0;
      if (ExtractJsonInt(line, "admin_port", &a) && a > 0) {
        admin_port_ = static_cast<int>(a);
      }
      return true;
    }
  }
  *error = stderr_eof_ ? "ssebridge exited (or closed stderr) before logging "
                         "\"listening\" with http_port and grpc_port"
                       : absl::StrCat(
                             "no \"listening\" log line with http_port and "
                             "grpc_port within ",
                             absl::FormatDuration(options_.startup_timeout));
  absl::StrAppend(error, " [", SSEBRIDGE_BINARY, " ", absl::StrJoin(options_.flags, " "), "]");
  return false;
}

void BridgeProcess::DrainStderr() {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(stderr_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      if (!partial_.empty()) lines_.push_back(std::move(partial_));
      partial_.clear();
      stderr_eof_ = true;
      return;
    }
    partial_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines_.push_back(partial_.substr(start, nl - start));
    }
    partial_.erase(0, start);
    if (lines_.size() > 200000) {
      lines_.erase(lines_.begin(), lines_.begin() + 100000);
    }
  }
}

void BridgeProcess::Signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

namespace {

// Whether every task of `pid` is in state T (stopped) or t (traced).
bool AllThreadsStopped(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/task");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool all = true;
  int seen = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream stat(absl::StrCat(dir, "/", e->d_name, "/stat"));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // "<tid> (<comm>) <state> ...": comm may hold spaces and parentheses.
    size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) continue;  // gone
    ++seen;
    char state = text[close + 2];
    if (state != 'T' && state != 't') all = false;
  }
  ::closedir(d);
  return all && seen > 0;
}

}  // namespace

bool BridgeProcess::Freeze(absl::Duration timeout) {
  if (pid_ <= 0 || reaped_) return false;
  ::kill(pid_, SIGSTOP);
  const absl::Time end = absl::Now() + timeout;
  while (!AllThreadsStopped(pid_)) {
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

bool BridgeProcess::Running() {
  ExitInfo info;
  return pid_ > 0 && !WaitExit(absl::ZeroDuration(), &info);
}

bool BridgeProcess::WaitExit(absl::Duration timeout, ExitInfo* info) {
  if (pid_ <= 0) return false;
  absl::Time deadline = absl::Now() + timeout;
  for (int i = 0; i < 1000000 && !reaped_; ++i) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_info_.exited = true;
      if (WIFEXITED(status)) exit_info_.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) exit_info_.term_signal = WTERMSIG(status);
      break;
    }
    if (r < 0 && errno != EINTR) break;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  *info = exit_info_;
  return reaped_;
}

bool BridgeProcess::Stop(absl::Duration timeout, ExitInfo* info) {
  Signal(SIGTERM);
  if (WaitExit(timeout, info)) return true;
  Signal(SIGKILL);
  WaitExit(absl::Seconds(10), info);
  return false;
}

std::vector<std::string> BridgeProcess::LogLines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::string BridgeProcess::LogText(size_t max_lines) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t from = lines_.size() > max_lines ? lines_.size() - max_lines : 0;
  std::string out;
  if (from > 0) absl::StrAppend(&out, "[... ", from, " earlier lines]\n");
  for (size_t i = from; i < lines_.size(); ++i) absl::StrAppend(&out, lines_[i], "\n");
  if (!partial_.empty()) absl::StrAppend(&out, partial_, "\n");
  return out;
}

bool BridgeProcess::WaitForLog(const std::string& needle, absl::Duration timeout) const {
  auto found = [&]() {
    for (const auto& l : lines_) {
      if (absl::StrContains(l, needle)) return true;
    }
    return stderr_eof_;
  };
  std::unique_lock<std::mutex> lock(mu_);
  WaitUntil(lock, found, timeout);
  for (const auto& l : lines_) {
    if (absl::StrContains(l, needle)) return true;
  }
  return false;
}

void ExpectRefusesToStart(std::vector<std::string> flags, const std::string& needle) {
  BridgeOptions o;
  o.flags = std::move(flags);
  BridgeProcess p(o);
  std::string error;
  EXPECT_FALSE(p.Start(&error)) << "started with " << absl::StrJoin(o.flags, " ");
  ExitInfo info;
  p.WaitExit(absl::Seconds(20), &info);
  EXPECT_TRUE(info.exited && info.exit_code != 0) << info.Describe();
  EXPECT_TRUE(absl::StrContains(p.LogText(), needle)) << needle << "\n" << p.LogText();
}

std::unique_ptr<BridgeProcess> StartBridge(std::vector<std::string> flags,
                                           std::vector<std::string> env) {
  BridgeOptions options;
  options.flags = std::move(flags);
  options.env = std::move(env);
  auto bridge = std::make_unique<BridgeProcess>(std::move(options));
  std::string error;
  if (!bridge->Start(&error)) {
    ADD_FAILURE() << "could not start ssebridge: " << error;
    return nullptr;
  }
  return bridge;
}

}  // namespace ssebridge_it
