// Incremental parsers for the load generator: an HTTP/1.1 response (status,
// headers, then a body framed by Content-Length, chunked encoding or the end
// of the connection) and an SSE stream (text/event-stream, per the HTML spec:
// CRLF, CR and LF all end a line; a blank line dispatches the event).
#ifndef SSEBRIDGE_TESTS_BENCH_LOADGEN_HTTP_SSE_H_
#define SSEBRIDGE_TESTS_BENCH_LOADGEN_HTTP_SSE_H_

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

class HttpResponseParser {
 public:
  enum class State {
    kStatusLine,
    kHeaders,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kBodyUntilClose,
    kDone,
    kError,
  };

  // Whether the request was a HEAD or the body is otherwise absent is not
  // modelled: the benchmark only sends GET (streams) and POST (publish).
  void Reset() {
    state_ = State::kStatusLine;
    line_.clear();
    status_ = 0;
    content_length_ = -1;
    chunked_ = false;
    close_ = false;
    remaining_ = 0;
  }

  State state() const { return state_; }
  int status() const { return status_; }
  bool headers_done() const { return state_ > State::kHeaders; }
  bool done() const { return state_ == State::kDone; }
  bool error() const { return state_ == State::kError; }
  // The server will close the connection after this response.
  bool closes() const { return close_ || state_ == State::kBodyUntilClose; }

  // Consumes bytes up to the end of this response; body bytes go to
  // body(const char*, size_t). Returns how many bytes were consumed (fewer
  // than `len` when the response ended: the rest belongs to the next one).
  template <typename BodySink>
  size_t Feed(const char* data, size_t len, BodySink&& body) {
    size_t i = 0;
    while (i < len && state_ != State::kDone && state_ != State::kError) {
      switch (state_) {
        case State::kStatusLine:
        case State::kHeaders:
        case State::kChunkSize:
        case State::kChunkDataEnd:
        case State::kTrailers: {
          const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', len - i));
          if (nl == nullptr) {
            line_.append(data + i, len - i);
            if (line_.size() > 16384) state_ = State::kError;
            return len;
          }
          line_.append(data + i, size_t(nl - (data + i)));
          i = size_t(nl - data) + 1;
          if (!line_.empty() && line_.back() == '\r') line_.pop_back();
          OnLine();
          line_.clear();
          break;
        }
        case State::kBodyLength:
        case State::kChunkData: {
          size_t n = len - i;
          if (uint64_t(n) > remaining_) n = size_t(remaining_);
          if (n > 0) body(data + i, n);
          i += n;
          remaining_ -= n;
          if (remaining_ == 0) {
            state_ = state_ == State::kBodyLength ? State::kDone : State::kChunkDataEnd;
          }
          break;
        }
        case State::kBodyUntilClose:
          body(data + i, len - i);
          return len;
        case State::kDone:
        case State::kError:
          break;
      }
    }
    return i;
  }

 private:
  static bool IEquals(const std::string& a, const char* b) {
    size_t n = std::strlen(b);
    if (a.size() != n) return false;
    for (size_t i = 0; i < n; ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      if (c != b[i]) return false;
    }
    return true;
  }

  void OnLine() {
    switch (state_) {
      case State::kStatusLine: {
        // HTTP/1.1 200 OK
        if (line_.compare(0, 5, "HTTP/") != 0) {
          state_ = State::kError;
          return;
        }
        size_t sp = line_.find(' ');
        if (sp == std::string::npos) {
          state_ = State::kError;
          return;
        }
        status_ = std::atoi(line_.c_str() + sp + 1);
        if (line_.compare(0, 8, "HTTP/1.0") == 0) close_ = true;
        state_ = State::kHeaders;
        return;
      }
      case State::kHeaders: {
        if (line_.empty()) {
          if (status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) {
            state_ = status_ < 200 ? State::kStatusLine : State::kDone;
          } else if (chunked_) {
            state_ = State::kChunkSize;
          } else if (content_length_ >= 0) {
            remaining_ = uint64_t(content_length_);
            state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
          } else {
            state_ = State::kBodyUntilClose;
          }
          return;
        }
        size_t colon = line_.find(':');
        if (colon == std::string::npos) return;
        std::string name = line_.substr(0, colon);
        size_t v = colon + 1;
        while (v < line_.size() && (line_[v] == ' ' || line_[v] == '\t')) ++v;
        std::string value = line_.substr(v);
        if (IEquals(name, "content-length")) {
          content_length_ = std::atoll(value.c_str());
        } else if (IEquals(name, "transfer-encoding")) {
          for (auto& c : value) c = char(std::tolower(static_cast<unsigned char>(c)));
          if (value.find("chunked") != std::string::npos) chunked_ = true;
        } else if (IEquals(name, "connection")) {
          for (auto& c : value) c = char(std::tolower(static_cast<unsigned char>(c)));
          if (value.find("close") != std::string::npos) close_ = true;
        }
        return;
      }
      case State::kChunkSize: {
        char* end = nullptr;
        unsigned long long size = std::strtoull(line_.c_str(), &end, 16);
        if (end == line_.c_str()) {
          state_ = State::kError;
          return;
        }
        remaining_ = size;
        state_ = size == 0 ? State::kTrailers : State::kChunkData;
        return;
      }
      case State::kChunkDataEnd:
        state_ = line_.empty() ? State::kChunkSize : State::kError;
        return;
      case State::kTrailers:
        if (line_.empty()) state_ = State::kDone;
        return;
      default:
        return;
    }
  }

  State state_ = State::kStatusLine;
  std::string line_;
  int status_ = 0;
  int64_t content_length_ = -1;
  bool chunked_ = false;
  bool close_ = false;
  uint64_t remaining_ = 0;
};

// Calls on_event(const char* data, size_t len) for every dispatched event
// with a non-empty data buffer; counts comments. Not the tests' SseParser
// (tests/harness/sse_parser.h), which builds an event object per event: the
// load generator reads 100,000s of events a second on the same cores as the
// bridge it measures, so it only scans for `data:` lines in place, never
// copies, and leaves checking the stream's grammar to the tests.
class SseDataScanner {
 public:
  template <typename OnEvent>
  void Feed(const char* p, size_t n, OnEvent&& on_event) {
    while (n > 0) {
      if (skip_lf_) {
        skip_lf_ = false;
        if (*p == '\n') {
          ++p;
          --n;
          continue;
        }
      }
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
      size_t seg = nl ? size_t(nl - p) : n;
      const char* cr = static_cast<const char*>(std::memchr(p, '\r', seg));
      const char* end = cr ? cr : nl;
      if (end == nullptr) {
        line_.append(p, n);
        if (line_.size() > (1u << 20)) line_.clear();  // runaway line: drop it
        return;
      }
      size_t len = size_t(end - p);
      if (line_.empty()) {
        Line(p, len, on_event);
      } else {
        line_.append(p, len);
        Line(line_.data(), line_.size(), on_event);
        line_.clear();
      }
      if (end == cr) skip_lf_ = true;
      n -= len + 1;
      p = end + 1;
    }
  }

  int64_t comments() const { return comments_; }

 private:
  template <typename OnEvent>
  void Line(const char* l, size_t len, OnEvent&& on_event) {
    if (len == 0) {
      if (has_data_) on_event(data_.data(), data_.size());
      data_.clear();
      has_data_ = false;
      return;
    }
    if (l[0] == ':') {
      ++comments_;
      return;
    }
    const char* colon = static_cast<const char*>(std::memchr(l, ':', len));
    size_t name_len = colon ? size_t(colon - l) : len;
    if (name_len == 4 && std::memcmp(l, "data", 4) == 0) {
      const char* v = colon ? colon + 1 : l + len;
      if (v < l + len && *v == ' ') ++v;
      if (has_data_) data_.push_back('\n');
      data_.append(v, size_t(l + len - v));
      has_data_ = true;
    }
    // id, event, retry and unknown fields do not matter to the benchmark.
  }

  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool skip_lf_ = false;
  int64_t comments_ = 0;
};

}  // namespace bench

#endif  // SSEBRIDGE_TESTS_BENCH_LOADGEN_HTTP_SSE_H_
