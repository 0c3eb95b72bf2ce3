#include "bridge/sse/request_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

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
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host),
                  serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = atoi(serv);
  }
}

}  // namespace

bool RequestStream::Poll(short events, int timeout_ms) const {
  pollfd p{fd_, events, 0};
  while (true) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

bool RequestStream::is_readable() const {
  return has_buffered() || Poll(POLLIN, read_timeout_ms_);
}

bool RequestStream::is_writable() const {
  return discard_ || Poll(POLLOUT, write_timeout_ms_);
}

bool RequestStream::WaitForRequest(int timeout_ms) const {
  return has_buffered() || Poll(POLLIN, timeout_ms);
}

ssize_t RequestStream::read(char* ptr, size_t size) {
  if (!has_buffered()) {
    if (!is_readable()) return -1;
    ssize_t n;
    do {
      n = ::recv(fd_, buf_, sizeof(buf_), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    pos_ = 0;
    len_ = static_cast<size_t>(n);
  }
  size_t n = std::min(size, len_ - pos_);
  memcpy(ptr, buf_ + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t RequestStream::write(const char* ptr, size_t size) {
  if (discard_) return static_cast<ssize_t>(size);
  if (!is_writable()) return -1;
  ssize_t n;
  do {
    n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void RequestStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  AddressOf(fd_, true, ip, port);
}

void RequestStream::get_local_ip_and_port(std::string& ip, int& port) const {
  AddressOf(fd_, false, ip, port);
}

}  // namespace ssebridge
