// PooledHttpServer: cpp-httplib's Server with our connection handling.
// Accepted sockets go to a RequestReader (one epoll thread) until a whole
// request, head and body, is in; only then does a pool thread run httplib's
// routing over exactly that request (it cannot read further), so slow or
// silent clients hold no thread. After the response the
// connection goes back to the reader (keep-alive), is closed, or, when the
// handler called TakeOver, leaves httplib as a non-blocking socket for an
// SSE stream.
//
// A request the reader marks on_reader (RequestReader::Options::
// answer_on_reader: small, and its handler never waits) is answered right
// on the reader's thread instead, when its socket has nothing unsent: its
// response then fits the empty send buffer, so the write cannot block the
// reader. That spares a thread hand-off per request, most of what a
// request costs at a few a second.
//
// Owns the reader and the pool. Stop order: httplib's stop(), the end of
// listen_after_bind(), then StopWorkers().
#ifndef SSEBRIDGE_HTTP_POOLED_HTTP_SERVER_H_
#define SSEBRIDGE_HTTP_POOLED_HTTP_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/http/request_reader.h"

namespace ssebridge {

class PooledHttpServer : public httplib::Server {
 public:
  struct Settings {  // not "Options": that would hide httplib::Server::Options()
    int threads = 8;
    RequestReader::Options reader;
    // Once the head is in: the body must arrive (in the reader), and then
    // the response be taken, each within this. Overrides
    // reader.body_timeout.
    absl::Duration body_timeout = absl::Seconds(10);
  };

  explicit PooledHttpServer(const Settings& s);
  ~PooledHttpServer() override;

  absl::Status StartReader() { return reader_.Start(); }
  // Connections still waiting for a request are closed; requests in
  // progress finish.
  void StopWorkers();
  const RequestReader& reader() const { return reader_; }
  // Requests answered on the reader's thread, not a pool thread.
  uint64_t answered_on_reader() const {
    return answered_on_reader_.load(std::memory_order_relaxed);
  }

  // SO_REUSEADDR but not httplib's default SO_REUSEPORT, which would let a
  // second bridge silently share the port; we want bind() to fail instead.
  static void SocketOptions(socket_t sock);
  // httplib listens with a backlog of 5; a reconnect storm needs far more.
  void Relisten(int backlog);

  // From inside a route handler: whether this request's socket can be
  // taken over (false outside a pooled request, e.g. httplib's own tests).
  static bool CanTakeOver();
  // From inside a route handler: once httplib has written the response
  // head, `start` gets the socket (non-blocking, TCP_NODELAY) and owns it.
  // Any unread body is discarded. False when CanTakeOver() is.
  static bool TakeOver(std::function<void(int fd)> start);

 private:
  bool process_and_close_socket(socket_t sock) override;
  // `on_reader`: on the reader's thread, where a write must never wait.
  void Serve(RequestReader::Ready ready, bool on_reader);

  const absl::Duration body_timeout_;
  std::atomic<uint64_t> answered_on_reader_{0};
  httplib::ThreadPool pool_;
  RequestReader reader_;
  bool workers_stopped_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_POOLED_HTTP_SERVER_H_
