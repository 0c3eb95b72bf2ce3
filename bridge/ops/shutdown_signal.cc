#include "bridge/ops/shutdown_signal.h"

#include <pthread.h>

namespace ssebridge {

ShutdownSignal::ShutdownSignal() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  // A peer closing a stream must not kill the process.
  (void)signal(SIGPIPE, SIG_IGN);
}

int ShutdownSignal::Wait() {
  int sig = 0;
  while (sigwait(&set_, &sig) != 0) {
  }
  return sig;
}

}  // namespace ssebridge
