#include "bridge/http/pooled_http_server.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "bridge/http/request_stream.h"

namespace ssebridge {
namespace {

// Filled by a handler that takes the connection over; read by Serve once
// httplib is done with the request. One request per pool thread at a time.
struct Takeover {
  RequestStream* stream = nullptr;
  std::function<void(int fd)> start;
};
thread_local Takeover* t_takeover = nullptr;

// httplib's accept loop runs process_and_close_socket on its task queue.
// Ours only hands the socket to the RequestReader, so it runs right there
// on the accept thread.
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// Nothing unsent or unacknowledged: the whole send buffer is free.
bool SendQueueEmpty(int fd) {
  int queued = 0;
  return ioctl(fd, SIOCOUTQ, &queued) == 0 && queued == 0;
}

RequestReader::Options ReaderOptions(const PooledHttpServer::Settings& s) {
  RequestReader::Options o = s.reader;
  o.body_timeout = s.body_timeout;
  return o;
}

}  // namespace

PooledHttpServer::PooledHttpServer(const Settings& s)
    : body_timeout_(s.body_timeout),
      pool_(static_cast<size_t>(s.threads)),
      reader_(ReaderOptions(s), [this](RequestReader::Ready ready) {
        if (ready.on_reader && SendQueueEmpty(ready.fd)) {
          answered_on_reader_.fetch_add(1, std::memory_order_relaxed);
          Serve(std::move(ready), /*on_reader=*/true);
          return;
        }
        pool_.enqueue([this, ready = std::move(ready)]() mutable {
          Serve(std::move(ready), /*on_reader=*/false);
        });
      }) {
  new_task_queue = [] { return new InlineQueue; };
}

PooledHttpServer::~PooledHttpServer() { StopWorkers(); }

void PooledHttpServer::StopWorkers() {
  if (workers_stopped_) return;
  workers_stopped_ = true;
  reader_.Stop();
  pool_.shutdown();
}

void PooledHttpServer::SocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

void PooledHttpServer::Relisten(int backlog) { ::listen(svr_sock_, backlog); }

bool PooledHttpServer::CanTakeOver() { return t_takeover != nullptr; }

bool PooledHttpServer::TakeOver(std::function<void(int fd)> start) {
  if (t_takeover == nullptr) return false;
  t_takeover->stream->Discard();
  t_takeover->start = std::move(start);
  return true;
}

bool PooledHttpServer::process_and_close_socket(socket_t sock) {
  reader_.Add(sock, "", 0);
  return true;
}

void PooledHttpServer::Serve(RequestReader::Ready ready, bool on_reader) {
  const int sock = ready.fd;
  if (!is_running()) {
    ::close(sock);
    return;
  }
  // The reader read the whole request: httplib gets it and no more. On the
  // reader a write that finds the socket full fails at once (the request
  // is then answered by nobody and the connection closed) rather than
  // stall every other connection; SendQueueEmpty makes that a never.
  RequestStream strm(sock, std::move(ready.request),
                     on_reader ? absl::InfinitePast() : absl::Now() + body_timeout_,
                     /*read_socket=*/false);
  Takeover takeover;
  takeover.stream = &strm;
  t_takeover = &takeover;
  const bool last = ready.served + 1 >= static_cast<int>(keep_alive_max_count_);
  bool closed = false;
  const bool ok = process_request(strm, last, closed, nullptr);
  t_takeover = nullptr;
  if (takeover.start) {
    int flags = fcntl(sock, F_GETFL, 0);
    fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    takeover.start(sock);
    return;
  }
  // The next request starts where the reader's framing says, whatever of
  // this one httplib chose to read (it skips the body of a GET).
  if (!ok || closed || last || !is_running()) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return;
  }
  reader_.Add(sock, std::move(ready.rest), ready.served + 1);
}

}  // namespace ssebridge
