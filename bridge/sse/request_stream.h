// RequestStream: an httplib::Stream over one accepted socket, used while
// httplib parses and answers requests on it. Once a request is taken over
// as an SSE stream, the server switches it to discard mode: whatever httplib
// still writes for that request goes nowhere, and the socket is handed on
// untouched.
#ifndef SSEBRIDGE_SSE_REQUEST_STREAM_H_
#define SSEBRIDGE_SSE_REQUEST_STREAM_H_

#include <httplib.h>

#include <ctime>
#include <string>

namespace ssebridge {

class RequestStream : public httplib::Stream {
 public:
  RequestStream(int fd, time_t read_timeout_sec, time_t write_timeout_sec)
      : fd_(fd),
        read_timeout_ms_(static_cast<int>(read_timeout_sec * 1000)),
        write_timeout_ms_(static_cast<int>(write_timeout_sec * 1000)) {}

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  bool has_buffered() const { return pos_ < len_; }
  // Waits up to `timeout_ms` for the next request's first byte.
  bool WaitForRequest(int timeout_ms) const;
  void Discard() { discard_ = true; }

 private:
  bool Poll(short events, int timeout_ms) const;

  int fd_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  bool discard_ = false;
  // httplib reads request lines a byte at a time; buffer the socket reads.
  char buf_[4096];
  size_t pos_ = 0;
  size_t len_ = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_REQUEST_STREAM_H_
