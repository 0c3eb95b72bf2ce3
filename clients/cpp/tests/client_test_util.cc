#include "client_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#ifndef SSEBRIDGE_PUBLISH_CLI
#error "SSEBRIDGE_PUBLISH_CLI must name the ssebridge-publish binary"
#endif

extern char** environ;

namespace ssebridge_client_test {

static std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> CliResult::OutLines() const {
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  return lines;
}

std::string CliResult::Describe() const {
  return absl::StrCat("exit ", exit_code, "\n--- stdout ---\n", out, "--- stderr ---\n", err);
}

CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_text,
                 int timeout_seconds) {
  CliResult result;
  TempDir dir;
  std::string in = dir.Write("stdin", stdin_text);
  std::string out = dir.path() + "/stdout";
  std::string err = dir.path() + "/stderr";
  std::vector<std::string> argv_s = {SSEBRIDGE_PUBLISH_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.err = absl::StrCat("posix_spawn failed: ", rc);
    return result;
  }
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.err = "(killed: timeout)\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = Slurp(out);
  result.err += Slurp(err);
  return result;
}

}  // namespace ssebridge_client_test
