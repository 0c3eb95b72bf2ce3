#include "tests/harness/hostile_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ssebridge_it {

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
    ++count;
  }
  return count;
}

HttpResponse FirstResponse(const std::string& bytes) {
  HttpResponse r;
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    r.error = absl::StrCat("no response head in: \"", bytes.substr(0, 200), "\"");
    return r;
  }
  if (!ParseResponseHead(absl::string_view(bytes).substr(0, head_end), &r.status, &r.headers)) {
    r.error = "unparsable response head";
  }
  r.body = bytes.substr(head_end + 4);
  return r;
}

long long MetricValue(int port, const std::string& name) {
  HttpResponse r = HttpGet(port, "/metrics");
  for (absl::string_view line : absl::StrSplit(r.body, '\n')) {
    if (absl::StartsWith(line, name + " ")) {
      long long v = -1;
      if (absl::SimpleAtoi(line.substr(name.size() + 1), &v)) return v;
    }
  }
  return -1;
}

bool StillWaiting(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int Connect(int port) {
  std::string error;
  const int fd = ConnectLoopback(port, 0, absl::Seconds(5), &error);
  EXPECT_GE(fd, 0) << error;
  return fd;
}

int ConnectFrom(const std::string& source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ADD_FAILURE() << "connect from " << source << ": " << std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool ReadToClose(int fd, absl::Duration timeout, std::string* got) {
  const absl::Time end = absl::Now() + timeout;
  std::string error;
  RecvResult r = RecvResult::kData;
  while (r == RecvResult::kData) r = RecvSome(fd, end, got, &error);
  return r == RecvResult::kEof || r == RecvResult::kReset;
}

HttpResponse ReadResponse(int fd, absl::Time deadline, std::string* buffer) {
  HttpResponse r;
  while (true) {
    const size_t end = buffer->find("\r\n\r\n");
    if (end != std::string::npos) {
      if (!ParseResponseHead(absl::string_view(*buffer).substr(0, end), &r.status, &r.headers)) {
        r.error = "bad head: " + buffer->substr(0, end);
        return r;
      }
      size_t length = 0;
      if (!absl::SimpleAtoi(r.Header("Content-Length").value_or(""), &length)) {
        r.error = "no Content-Length";
        return r;
      }
      if (buffer->size() >= end + 4 + length) {
        r.body = buffer->substr(end + 4, length);
        buffer->erase(0, end + 4 + length);
        return r;
      }
    }
    std::string error;
    if (RecvSome(fd, deadline, buffer, &error) != RecvResult::kData) {
      r.error = "connection ended before a whole response: " + error;
      return r;
    }
  }
}

}  // namespace ssebridge_it
