// ShutdownSignal: turns SIGTERM/SIGINT into an ordinary wait.
//
// Construct it first thing in main(), before any thread starts: it blocks
// the signals in the calling thread, so every thread started later inherits
// the mask and only Wait() (sigwait) ever sees them. No async handler runs.
#ifndef SSEBRIDGE_OPS_SHUTDOWN_SIGNAL_H_
#define SSEBRIDGE_OPS_SHUTDOWN_SIGNAL_H_

#include <signal.h>

namespace ssebridge {

class ShutdownSignal {
 public:
  ShutdownSignal();
  // Blocks until SIGTERM or SIGINT; returns the signal number.
  int Wait();

 private:
  sigset_t set_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_SHUTDOWN_SIGNAL_H_
