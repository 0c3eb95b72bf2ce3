// bridge_process: starts the real ssebridge binary on ephemeral loopback
// ports (public HTTP, gRPC, and the internal admin listener), learns the
// ports from its "listening" log line, keeps draining its stderr (one JSON
// object per line) in a background thread, and stops it with SIGTERM
// (SIGKILL as last resort). The log is printed when the
// current test has failed.
#ifndef SSEBRIDGE_TESTS_HARNESS_BRIDGE_PROCESS_H_
#define SSEBRIDGE_TESTS_HARNESS_BRIDGE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace ssebridge_it {

// True when the binary under test (and these tests) were built with a
// sanitizer: load tests then scale their loop counts down, and RSS says
// little (ASan's quarantine, TSan's shadow memory).
bool BridgeIsSanitized();

struct BridgeOptions {
  // Extra flags after the address/port flags, e.g. "--heartbeat=200ms".
  std::vector<std::string> flags;
  // Extra environment entries "NAME=value". Every SSEBRIDGE_* variable of
  // the test's own environment is removed first.
  std::vector<std::string> env;
  absl::Duration startup_timeout = absl::Seconds(20);
};

struct ExitInfo {
  bool exited = false;  // reaped
  int exit_code = -1;   // when it exited normally
  int term_signal = 0;  // when a signal killed it
  std::string Describe() const;
};

class BridgeProcess {
 public:
  explicit BridgeProcess(BridgeOptions options);
  ~BridgeProcess();
  BridgeProcess(const BridgeProcess&) = delete;
  BridgeProcess& operator=(const BridgeProcess&) = delete;

  // Forks/execs the binary and waits for the "listening" line.
  bool Start(std::string* error);

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  // The internal listener (/metrics, /ui); 0 when a test turned it off.
  int admin_port() const { return admin_port_; }
  std::string grpc_target() const;
  pid_t pid() const { return pid_; }

  // Sends `sig` to the bridge (no-op once reaped).
  void Signal(int sig);
  // SIGSTOP, then waits until every thread of the bridge has stopped. A
  // group stop only completes once the thread picked for the signal gets a
  // CPU; until then another thread may still read and answer a request, so
  // tests that need "no answers from now on" must wait for it.
  bool Freeze(absl::Duration timeout = absl::Seconds(10));
  // Polls until the process exits or `timeout` passes; *info when reaped.
  bool WaitExit(absl::Duration timeout, ExitInfo* info);
  // SIGTERM and wait; SIGKILL if it does not exit in time (then returns
  // false). *info describes how it ended.
  bool Stop(absl::Duration timeout, ExitInfo* info);
  // Reaps without blocking; true while the process runs.
  bool Running();

  std::vector<std::string> LogLines() const;
  std::string LogText(size_t max_lines = 400) const;
  // Waits until some log line contains `needle`.
  bool WaitForLog(const std::string& needle, absl::Duration timeout) const;

 private:
  void DrainStderr();

  BridgeOptions options_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  ExitInfo exit_info_;
  int stderr_fd_ = -1;
  std::thread drainer_;
  int http_port_ = 0;
  int grpc_port_ = 0;
  int admin_port_ = 0;

  mutable std::mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  std::string partial_ ABSL_GUARDED_BY(mu_);
  bool stderr_eof_ ABSL_GUARDED_BY(mu_) = false;
};

// Starts a bridge with `flags`; on failure records a test failure (with the
// log) and returns nullptr. Use as:
//   auto bridge = StartBridge({"--heartbeat=200ms"});
//   ASSERT_NE(bridge, nullptr);
std::unique_ptr<BridgeProcess> StartBridge(std::vector<std::string> flags = {},
                                           std::vector<std::string> env = {});

// Starts a bridge with `flags` that must exit instead of listening, with a
// non-zero code and `needle` in its log; records test failures otherwise.
void ExpectRefusesToStart(std::vector<std::string> flags, const std::string& needle);

// Finds `"key":<integer>` in a JSON log line (spaces around ':' allowed).
bool ExtractJsonInt(const std::string& line, const std::string& key, long long* value);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_BRIDGE_PROCESS_H_
