// RequestReader: holds the HTTP connections that have no complete request
// yet (fresh ones, and kept-alive ones between requests) on one epoll
// thread. A client that sends its request a byte at a time, sends a head
// and then no body, or sends nothing at all, costs a file descriptor and a
// bounded buffer here, never one of the request threads: the connection
// goes to a request thread (`ready`) only once its whole request, head and
// body, is in (RequestAssembler: the body de-chunked and within
// max_body_bytes, the head normalized).
//
// Once a head is complete, `check_head` may refuse it at once (a publish
// without a valid credential: 401/403 before any body byte is read). A
// client that sent "Expect: 100-continue" is then told to go on.
//
// Deadlines: a request head must be complete within header_timeout of the
// connection's accept (or of the first byte of a later request on it); its
// body within body_timeout of the head; a kept-alive connection may sit idle
// for idle_timeout. Past any, the connection is closed (with a 408 when part
// of a request came). A request over the RequestLimits or with bad framing
// is answered here (414 / 431 / 413 / 400), JSON body as everywhere else,
// and closed. What all connections hold at once is bounded too
// (max_buffered_bytes): the request that would pass it gets 503.
//
// A request that `answer_on_reader` accepts is handed to `ready` marked
// on_reader, and `ready` may answer it right there, on this thread (see
// PooledHttpServer); handing the connection back with Add() from inside
// `ready` is allowed, also when Add() itself ran the admission inline.
//
// Threads: one EventLoop (bridge/event) of its own: the fds, the deadlines
// (one timer at the earliest) and the connections handed in by Add() (a
// posted task, or run inline by the adding thread while the loop sleeps:
// EventLoop::TryRunInline) all live on that loop.
//
// Ownership: the reader owns every fd it was given until it hands it to
// `ready` or closes it; Stop() closes the ones it still holds.
#ifndef SSEBRIDGE_HTTP_REQUEST_READER_H_
#define SSEBRIDGE_HTTP_REQUEST_READER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/event/event_loop.h"
#include "bridge/http/request_assembler.h"
#include "bridge/http/request_framing.h"

namespace ssebridge {

// An answer given from the head alone, before the body is read.
struct HeadRefusal {
  int status = 400;
  std::string json;  // {"error": ..., "message": ...}
  std::vector<std::pair<std::string, std::string>> headers;
};

class RequestReader {
 public:
  struct Options {
    RequestLimits limits;
    absl::Duration header_timeout = absl::Seconds(10);
    absl::Duration idle_timeout = absl::Seconds(5);
    absl::Duration body_timeout = absl::Seconds(10);
    // Bytes of requests being received, over all connections; a request
    // that would pass it is answered 503 (one alone always fits). 0: none.
    size_t max_buffered_bytes = 0;
    // The share of one client address (its peer IP): connections held here
    // (waiting for a request or its body, or kept alive between requests;
    // beyond it a new one is answered 503 and closed) and bytes of its
    // requests being received (beyond it 503). One request alone always
    // fits. 0: no share. Behind a proxy every client has the proxy's
    // address, so size them for the proxy's traffic.
    size_t max_connections_per_address = 0;
    size_t max_buffered_bytes_per_address = 0;
    // Called on the reader's thread for each complete head; a refusal is
    // sent at once and the connection closed. Unset: every head proceeds.
    std::function<std::optional<HeadRefusal>(const RequestHead&)> check_head;
    // Set: a fresh connection that opens with the HTTP/2 client preface
    // (plaintext gRPC) is handed here unread, with its fd, on the reader's
    // thread; the callee owns it. Unset: it is answered as a bad request.
    std::function<void(int fd)> http2_connections;
    // Asked on the reader's thread for each complete request (head, body):
    // true marks it Ready::on_reader, a request cheap enough, and never
    // waiting on anything, to be answered right on this thread. Unset: no
    // request is.
    std::function<bool(const RequestHead&, absl::string_view body)> answer_on_reader;
  };
  // A connection whose whole request has arrived. `request` is the
  // normalized request (see RequestAssembler); `rest` the bytes read after
  // it; `served` counts requests answered before on it. When handed to
  // Add(), only `rest` matters: the bytes of the next request.
  struct Ready {
    int fd = -1;
    std::string request;
    std::string rest;
    int served = 0;
    // answer_on_reader said yes: `ready` runs on the reader's thread, where
    // answering it costs no hand-off (no thread woken per request).
    bool on_reader = false;
  };

  RequestReader(const Options& options, std::function<void(Ready)> ready);
  ~RequestReader();

  absl::Status Start();
  // Closes every connection still held; later Add()s close their fd.
  void Stop();

  // Takes `fd` (any thread). `buffered`: bytes of its next request already
  // read; `served`: requests answered on it so far (0: just accepted).
  void Add(int fd, std::string buffered, int served);

  // Connections held now.
  size_t connections() const { return held_.load(std::memory_order_relaxed); }
  // Bytes of requests being received, over all connections.
  size_t buffered_bytes() const { return buffered_.load(std::memory_order_relaxed); }
  // Closed at a deadline (header, body or idle); refused for size
  // (414/431/413); refused for bad framing (400); refused from the head by
  // check_head.
  uint64_t timed_out() const { return timed_out_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  uint64_t malformed() const { return malformed_.load(std::memory_order_relaxed); }
  uint64_t refused_from_head() const { return refused_from_head_.load(std::memory_order_relaxed); }
  // Handed to http2_connections.
  uint64_t http2_handed_over() const { return http2_handed_over_.load(std::memory_order_relaxed); }

 private:
  struct Connection;
  void Admit(const Ready& added);
  void OnReadable(int fd);
  // For a fresh connection when http2_connections is set: false when the
  // connection was handed over or must wait for more of its first bytes.
  bool LooksLikeHttp1(Connection& c);
  // Looks at the buffer: hands over, refuses, or waits for more.
  void Examine(Connection& c);
  void SetDeadline(Connection& c, absl::Time when);
  // Keeps the loop's one deadline timer at or before the earliest deadline.
  void ArmDeadlineTimer();
  // Charges c's buffered bytes to the budget; refuses c (503) and returns
  // false when they pass it.
  bool Charge(Connection& c);
  // The head just became complete: ask check_head, tell an Expect client
  // to go on, start the body's deadline. False when refused.
  bool HeadArrived(Connection& c);
  void Refuse(Connection& c, int status, const std::string& message);
  void Answer(Connection& c, const HeadRefusal& answer);
  void ExpireDeadlines(absl::Time now);
  void Forget(int fd, bool close_fd);
  // Takes c's charged bytes off the budgets (the whole one and its
  // address's).
  void Uncharge(Connection& c);

  const Options options_;
  const std::function<void(Ready)> ready_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;

  // Add() posts to the loop only while not stopped, so every posted
  // connection is taken (and closed by Stop() when still held).
  std::mutex add_mu_;
  bool stopped_ = false;  // guarded by add_mu_

  // Loop thread only.
  std::unordered_map<int, std::unique_ptr<Connection>> conns_;
  std::multimap<absl::Time, int> deadlines_;
  // The timer that expires deadlines, and when it is due (when armed).
  std::optional<EventLoop::TimerId> deadline_timer_;
  absl::Time deadline_timer_at_ = absl::InfiniteFuture();
  size_t buffered_bytes_ = 0;  // charged by every connection held
  // What each client address holds here; an address with nothing is erased.
  struct AddressShare {
    size_t connections = 0;
    size_t bytes = 0;
  };
  std::unordered_map<std::string, AddressShare> addresses_;

  std::atomic<size_t> held_{0};
  std::atomic<size_t> buffered_{0};
  std::atomic<uint64_t> timed_out_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> refused_from_head_{0};
  std::atomic<uint64_t> http2_handed_over_{0};
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_REQUEST_READER_H_
