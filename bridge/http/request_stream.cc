#include "bridge/http/request_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"

namespace ssebridge {
namespace {

void AddressOf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (r != 0) return;
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = atoi(serv);
  }
}

}  // namespace

bool RequestStream::Poll(short events) const {
  pollfd p{fd_, events, 0};
  while (true) {
    const int64_t left = absl::ToInt64Milliseconds(deadline_ - absl::Now());
    if (left <= 0) return false;
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // re-check the deadline
    return r > 0;
  }
}

bool RequestStream::is_readable() const { return has_buffered() || (read_socket_ && Poll(POLLIN)); }

bool RequestStream::is_writable() const { return discard_ || Poll(POLLOUT); }

ssize_t RequestStream::read(char* ptr, size_t size) {
  if (!has_buffered() && !read_socket_) return 0;
  if (!has_buffered()) {
    buf_.resize(4096);
    pos_ = 0;
    ssize_t n = -1;
    // The socket is non-blocking: wait, read, and wait again on a spurious
    // wake-up, all within the deadline.
    while (Poll(POLLIN)) {
      n = ::recv(fd_, buf_.data(), buf_.size(), 0);
      if (n >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) break;
    }
    buf_.resize(n > 0 ? static_cast<size_t>(n) : 0);
    if (n <= 0) return n < 0 ? -1 : 0;
  }
  size_t n = std::min(size, buf_.size() - pos_);
  memcpy(ptr, buf_.data() + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t RequestStream::write(const char* ptr, size_t size) {
  if (discard_) return static_cast<ssize_t>(size);
  // Send first: a socket with room (nearly always) costs no poll(); only a
  // full one waits, within the deadline.
  do {
    ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    if (n >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return n;
  } while (Poll(POLLOUT));
  return -1;
}

void RequestStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  AddressOf(fd_, true, ip, port);
}

void RequestStream::get_local_ip_and_port(std::string& ip, int& port) const {
  AddressOf(fd_, false, ip, port);
}

}  // namespace ssebridge
