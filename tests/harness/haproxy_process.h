// haproxy_process: a real HAProxy (Debian's haproxy package) in front of
// bridge replicas, set up as the README's production topology says: HTTP
// mode, a health check on /readyz that takes a replica out while it is not
// ready, and server timeouts long enough for quiet streams. A replica that
// restarts on new ephemeral ports keeps its server slot: the slot's address
// is changed through HAProxy's admin socket, as an operator's service
// discovery would. Stopped with SIGTERM (SIGKILL as last resort).
#ifndef SSEBRIDGE_TESTS_HARNESS_HAPROXY_PROCESS_H_
#define SSEBRIDGE_TESTS_HARNESS_HAPROXY_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/harness/temp_dir.h"

namespace ssebridge_it {

// The haproxy binary, or "" when it is not installed.
std::string FindHaproxy();

class HaproxyProcess {
 public:
  HaproxyProcess() = default;
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  // Listens on a free loopback port with one server slot per entry of
  // `backend_http_ports`, and waits until it accepts connections and its
  // admin socket answers. False with *error otherwise.
  bool Start(const std::vector<int>& backend_http_ports, std::string* error);
  int port() const { return port_; }

  // Points server slot `slot` at 127.0.0.1:`http_port`; its health checks
  // follow, so it takes traffic once that replica answers /readyz with 200.
  bool SetBackend(int slot, int http_port, std::string* error);
  // True when HAProxy's health checks count slot `slot` as up.
  bool BackendUp(int slot) const;
  // One admin-socket command; its whole answer ("" on I/O failure).
  std::string Admin(const std::string& command) const;

  void Stop();

 private:
  bool StartOnce(const std::vector<int>& ports, std::string* error);

  std::unique_ptr<TempDir> dir_;
  std::string socket_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_HAPROXY_PROCESS_H_
