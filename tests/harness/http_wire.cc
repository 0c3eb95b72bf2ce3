#include "tests/harness/http_wire.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ssebridge_it {
namespace {

int PollTimeoutMs(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(left) + 1;
  return ms > 60000 ? 60000 : static_cast<int>(ms);
}

}  // namespace

int ConnectLoopback(int port, int rcvbuf_bytes, absl::Duration timeout, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = absl::StrCat("socket: ", std::strerror(errno));
    return -1;
  }
  if (rcvbuf_bytes > 0) {
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(rcvbuf_bytes)) != 0) {
      *error = absl::StrCat("setsockopt(SO_RCVBUF): ", std::strerror(errno));
      ::close(fd);
      return -1;
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      *error = absl::StrCat("connect 127.0.0.1:", port, ": ", std::strerror(errno));
      ::close(fd);
      return -1;
    }
    absl::Time deadline = absl::Now() + timeout;
    for (int i = 0; i < 1000; ++i) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, PollTimeoutMs(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *error = absl::StrCat("connect 127.0.0.1:", port, ": timed out");
        ::close(fd);
        return -1;
      }
      break;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) {
      *error = absl::StrCat("connect 127.0.0.1:", port, ": ", std::strerror(soerr));
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

bool SendAll(int fd, absl::string_view data, absl::Time deadline, std::string* error) {
  size_t sent = 0;
  for (int spins = 0; sent < data.size(); ++spins) {
    if (absl::Now() > deadline || spins > 1000000) {
      *error = "send: timed out";
      return false;
    }
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, PollTimeoutMs(deadline));
      continue;
    }
    *error = absl::StrCat("send: ", std::strerror(errno));
    return false;
  }
  return true;
}

RecvResult RecvSome(int fd, absl::Time deadline, std::string* out, std::string* error) {
  char buf[65536];
  for (int spins = 0; spins < 100000; ++spins) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      return RecvResult::kData;
    }
    if (n == 0) return RecvResult::kEof;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return RecvResult::kReset;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *error = absl::StrCat("recv: ", std::strerror(errno));
      return RecvResult::kError;
    }
    int ms = PollTimeoutMs(deadline);
    if (ms == 0) return RecvResult::kTimeout;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, ms);
    if (r == 0 && absl::Now() >= deadline) return RecvResult::kTimeout;
  }
  return RecvResult::kTimeout;
}

bool ParseResponseHead(absl::string_view head, int* status, HeaderList* headers) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  if (lines.empty()) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (parts.size() < 2 || !absl::StartsWith(parts[0], "HTTP/1.")) return false;
  if (!absl::SimpleAtoi(parts[1], status)) return false;
  headers->clear();
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) return false;
    headers->emplace_back(std::string(lines[i].substr(0, colon)),
                          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return true;
}

std::optional<std::string> FindHeader(const HeaderList& headers, absl::string_view name) {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

int CountHeader(const HeaderList& headers, absl::string_view name) {
  int n = 0;
  for (const auto& kv : headers) {
    if (absl::EqualsIgnoreCase(kv.first, name)) ++n;
  }
  return n;
}

bool ChunkedDecoder::Feed(absl::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone) {
    if (state_ == State::kData) {
      size_t take = std::min(remaining_, in.size() - i);
      out->append(in.data() + i, take);
      i += take;
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::kDataCrLf;
      continue;
    }
    // Line-oriented states: collect up to "\r\n".
    line_.push_back(in[i++]);
    if (line_.size() > 4096) return false;
    if (line_.size() < 2 || line_.compare(line_.size() - 2, 2, "\r\n") != 0) {
      continue;
    }
    std::string line = line_.substr(0, line_.size() - 2);
    line_.clear();
    switch (state_) {
      case State::kSize: {
        absl::string_view size_text = line;
        size_t semi = size_text.find(';');
        if (semi != absl::string_view::npos) size_text = size_text.substr(0, semi);
        size_text = absl::StripAsciiWhitespace(size_text);
        uint64_t size = 0;
        if (!absl::SimpleHexAtoi(size_text, &size)) return false;
        if (size == 0) {
          state_ = State::kTrailer;
        } else {
          remaining_ = static_cast<size_t>(size);
          state_ = State::kData;
        }
        break;
      }
      case State::kDataCrLf:
        if (!line.empty()) return false;
        state_ = State::kSize;
        break;
      case State::kTrailer:
        if (line.empty()) state_ = State::kDone;
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace ssebridge_it
