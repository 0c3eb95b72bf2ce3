#include "tests/harness/sse_client.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge_it {

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void SseClient::ForgetResponse() {
  pending_head_.clear();
  head_done_ = false;
  status_ = 0;
  headers_.clear();
  raw_head_.clear();
  chunked_ = false;
  chunks_ = ChunkedDecoder();
  raw_body_.clear();
  body_bytes_ = 0;
  parser_ = SseParser();
  closed_ = false;
  reset_ = false;
  error_.clear();
}

bool SseClient::Connect(int port, const std::string& target, const SseClientOptions& options) {
  Close();
  // A client reused for a retry must not answer with the last response.
  ForgetResponse();
  options_ = options;
  absl::Duration timeout = absl::Seconds(20);
  fd_ = ConnectLoopback(port, options.rcvbuf_bytes, timeout, &error_);
  if (fd_ < 0) return false;
  std::string req = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                 "\r\nAccept: text/event-stream\r\n");
  for (const auto& [k, v] : options.headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  req += "\r\n";
  return SendAll(fd_, req, absl::Now() + timeout, &error_);
}

bool SseClient::ReadHead(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (int i = 0; i < 100000 && !head_done_; ++i) {
    if (!ReadOnce(deadline)) break;
  }
  if (!head_done_ && error_.empty()) {
    error_ = absl::StrCat("no complete response head; got: ", pending_head_);
  }
  return head_done_;
}

bool SseClient::Open(int port, const std::string& target, const SseClientOptions& options,
                     absl::Duration timeout) {
  if (!Connect(port, target, options)) return false;
  if (!ReadHead(timeout)) return false;
  if (status_ != 200) {
    error_ = absl::StrCat("status ", status_, " for GET ", target);
    return false;
  }
  bool opened = ReadUntil([this] { return !comments().empty() && !retries().empty(); }, timeout);
  if (!opened) {
    error_ = absl::StrCat("no opening comment + retry within ", absl::FormatDuration(timeout), "; ",
                          Describe());
  }
  return opened;
}

bool SseClient::ReadOnce(absl::Time deadline) {
  if (fd_ < 0 || closed_) return false;
  std::string chunk;
  std::string err;
  switch (RecvSome(fd_, deadline, &chunk, &err)) {
    case RecvResult::kData:
      OnBytes(chunk);
      return true;
    case RecvResult::kEof:
      closed_ = true;
      return false;
    case RecvResult::kReset:
      closed_ = true;
      reset_ = true;
      return false;
    case RecvResult::kTimeout:
      return false;
    case RecvResult::kError:
      closed_ = true;
      error_ = err;
      return false;
  }
  return false;
}

void SseClient::OnBytes(absl::string_view bytes) {
  if (!head_done_) {
    pending_head_.append(bytes.data(), bytes.size());
    size_t end = pending_head_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    raw_head_ = pending_head_.substr(0, end + 4);
    if (!ParseResponseHead(absl::string_view(raw_head_).substr(0, end), &status_, &headers_)) {
      error_ = "malformed response head: " + raw_head_;
      closed_ = true;
      return;
    }
    head_done_ = true;
    if (auto te = Header("Transfer-Encoding");
        te && absl::StrContains(absl::AsciiStrToLower(*te), "chunked")) {
      chunked_ = true;
    }
    std::string rest = pending_head_.substr(end + 4);
    pending_head_.clear();
    if (!rest.empty()) OnBytes(rest);
    return;
  }
  std::string decoded;
  absl::string_view body = bytes;
  if (chunked_) {
    if (!chunks_.Feed(bytes, &decoded)) {
      error_ = "malformed chunked body";
      closed_ = true;
      return;
    }
    body = decoded;
  }
  body_bytes_ += body.size();
  if (options_.keep_raw) raw_body_.append(body.data(), body.size());
  parser_.Feed(body);
}

bool SseClient::ReadUntil(const std::function<bool()>& pred, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (int i = 0; i < 10000000; ++i) {
    if (pred()) return true;
    if (absl::Now() >= deadline) break;
    if (!ReadOnce(deadline) && (closed_ || fd_ < 0)) break;
  }
  return pred();
}

bool SseClient::WaitForEvents(size_t n, absl::Duration timeout) {
  return ReadUntil([&] { return events().size() >= n; }, timeout);
}

bool SseClient::WaitForData(const std::string& data, absl::Duration timeout) {
  size_t checked = 0;
  return ReadUntil(
      [&] {
        for (; checked < events().size(); ++checked) {
          if (events()[checked].data == data) return true;
        }
        return false;
      },
      timeout);
}

bool SseClient::WaitForClose(absl::Duration timeout) {
  return ReadUntil([this] { return closed_; }, timeout);
}

void SseClient::ReadFor(absl::Duration d) {
  ReadUntil([] { return false; }, d);
}

void SseClient::Drain() {
  for (int i = 0; i < 100000; ++i) {
    if (!ReadOnce(absl::Now())) break;
  }
}

std::string SseClient::Describe() const {
  std::string s = absl::StrCat("status=", status_, " events=", events().size(),
                               " comments=", comments().size(), " retries=", retries().size(),
                               " body_bytes=", body_bytes_, " closed=", closed_, " reset=", reset_);
  if (!error_.empty()) absl::StrAppend(&s, " error=", error_);
  if (!events().empty()) {
    const SseEvent& e = events().back();
    absl::StrAppend(&s, " last_event={id=", e.id, " event=", e.event,
                    " data=", e.data.substr(0, 80), "}");
  }
  if (options_.keep_raw) {
    absl::StrAppend(&s, " body_head=\"", raw_body_.substr(0, 200), "\"");
  }
  return s;
}

std::string EventsTarget(const std::vector<std::string>& channels,
                         const std::string& last_event_id) {
  std::string t = "/v1/events";
  char sep = '?';
  for (const auto& c : channels) {
    absl::StrAppend(&t, std::string(1, sep), "channel=", c);
    sep = '&';
  }
  if (!last_event_id.empty()) {
    absl::StrAppend(&t, std::string(1, sep), "lastEventId=", last_event_id);
  }
  return t;
}

}  // namespace ssebridge_it
