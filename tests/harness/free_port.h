// FreePort: a loopback TCP port nobody listens on right now, for the
// helper processes (redis-server, HAProxy) that must be told a port rather
// than report the one the kernel gave them. Another process may take it
// before the caller binds it, so callers that can retry should.
#ifndef SSEBRIDGE_TESTS_HARNESS_FREE_PORT_H_
#define SSEBRIDGE_TESTS_HARNESS_FREE_PORT_H_

namespace ssebridge_it {

// 0 when no port could be found.
int FreePort();

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_FREE_PORT_H_
