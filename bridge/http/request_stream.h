// RequestStream: an httplib::Stream over one connection while a request
// thread parses and answers a request on it. It first replays the bytes the
// RequestReader already read; with `read_socket` false (the reader read the
// whole request) it then reports the end of input instead of reading the
// socket, so the request thread never waits for a client. Everything it does with the socket must
// be over by `deadline`: a client that trickles its body or takes its response slowly is cut, so it
// cannot keep the thread. Once a request is taken over as an SSE stream, the server switches it to
// discard mode: whatever httplib still writes for that request goes
// nowhere, and the socket is handed on untouched.
#ifndef SSEBRIDGE_HTTP_REQUEST_STREAM_H_
#define SSEBRIDGE_HTTP_REQUEST_STREAM_H_

#include <httplib.h>

#include <string>

#include "absl/time/time.h"

namespace ssebridge {

class RequestStream : public httplib::Stream {
 public:
  RequestStream(int fd, std::string buffered, absl::Time deadline, bool read_socket = true)
      : fd_(fd), buf_(std::move(buffered)), deadline_(deadline), read_socket_(read_socket) {}

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  bool has_buffered() const { return pos_ < buf_.size(); }
  // Bytes read but not consumed (the start of a pipelined next request).
  std::string TakeBuffered() { return buf_.substr(pos_); }
  void Discard() { discard_ = true; }

 private:
  // Waits for `events` until the deadline.
  bool Poll(short events) const;

  int fd_;
  // httplib reads request lines a byte at a time; reads are buffered.
  std::string buf_;
  size_t pos_ = 0;
  absl::Time deadline_;
  bool read_socket_;
  bool discard_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_REQUEST_STREAM_H_
