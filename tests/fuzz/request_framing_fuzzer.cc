// Fuzz target: the HTTP request framing as the bridge reads it
// (bridge/http/request_assembler.h: RequestFraming for the head, ChunkedBody
// for a chunked body). The same bytes are fed whole and in pieces (sizes
// from the first input byte), and must give the same outcome: framing may
// not depend on how TCP split the request. A complete request's normalized
// form, read again, must come out unchanged with nothing left over (the
// bridge and whoever parses after it agree on where it ends), and its body
// stays within the limit; a refusal is one of 400/413/414/431.
//
// Input: one byte choosing the piece sizes, then the bytes of a connection.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "bridge/http/chunked_body.h"
#include "bridge/http/request_assembler.h"
#include "tests/fuzz/fuzz_check.h"

namespace ssebridge {
namespace {

RequestLimits Limits() {
  RequestLimits l;
  l.max_request_line_bytes = 256;
  l.max_header_bytes = 512;
  l.max_header_count = 16;
  l.max_body_bytes = 256;
  return l;
}

struct Outcome {
  RequestAssembler::State state = RequestAssembler::State::kNeedHead;
  int status = 0;
  std::string message;
  std::string request;
  std::string rest;
};

Outcome Finish(RequestAssembler& a) {
  Outcome o;
  o.state = a.state();
  if (o.state == RequestAssembler::State::kRejected) {
    o.status = a.reject_status();
    o.message = a.reject_message();
  } else if (o.state == RequestAssembler::State::kComplete) {
    o.request = a.TakeRequest();
    o.rest = a.TakeRest();
  }
  return o;
}

Outcome FeedInPieces(absl::string_view wire, uint8_t seed) {
  RequestAssembler a(Limits());
  size_t at = 0;
  for (size_t i = 0; at < wire.size(); ++i) {
    const size_t piece = 1 + (seed + i * 7) % (1 + seed % 31);
    const size_t n = std::min(piece, wire.size() - at);
    a.Feed(wire.substr(at, n));
    at += n;
  }
  return Finish(a);
}

void CheckChunkedBody(absl::string_view wire, uint8_t seed) {
  ChunkedBody whole(64, 64);
  std::string whole_body;
  const size_t whole_used = whole.Feed(wire, &whole_body);
  FUZZ_CHECK(whole_used <= wire.size());
  FUZZ_CHECK(whole_body.size() <= 64);
  if (whole.state() == ChunkedBody::State::kNeedMore) FUZZ_CHECK(whole_used == wire.size());

  ChunkedBody split(64, 64);
  std::string split_body;
  size_t used = 0;
  const size_t piece = 1 + seed % 5;
  while (used < wire.size() && split.state() == ChunkedBody::State::kNeedMore) {
    const size_t n = std::min(piece, wire.size() - used);
    const size_t took = split.Feed(wire.substr(used, n), &split_body);
    FUZZ_CHECK(took <= n);
    used += took;
    if (took < n) break;
  }
  FUZZ_CHECK(split.state() == whole.state());
  FUZZ_CHECK(split_body == whole_body);
  if (whole.state() == ChunkedBody::State::kComplete) FUZZ_CHECK(used == whole_used);
  if (whole.state() == ChunkedBody::State::kRejected) {
    FUZZ_CHECK(split.reject_status() == whole.reject_status());
    FUZZ_CHECK(whole.reject_status() == 400 || whole.reject_status() == 413 ||
               whole.reject_status() == 431);
  }
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ssebridge::RequestAssembler;
  if (size < 1) return 0;
  const uint8_t seed = data[0];
  const absl::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);

  RequestAssembler whole(ssebridge::Limits());
  whole.Feed(wire);
  const ssebridge::Outcome a = ssebridge::Finish(whole);
  const ssebridge::Outcome b = ssebridge::FeedInPieces(wire, seed);
  FUZZ_CHECK(a.state == b.state);
  FUZZ_CHECK(a.status == b.status);
  FUZZ_CHECK(a.message == b.message);
  FUZZ_CHECK(a.request == b.request);
  FUZZ_CHECK(a.rest == b.rest);

  if (a.state == RequestAssembler::State::kRejected) {
    FUZZ_CHECK(a.status == 400 || a.status == 413 || a.status == 414 || a.status == 431);
    FUZZ_CHECK(!a.message.empty());
  }
  if (a.state == RequestAssembler::State::kComplete) {
    // The normalized request reads back as itself, whole, nothing left.
    // (Rebuilt header lines may each gain the space after the colon.)
    ssebridge::RequestLimits relaxed = ssebridge::Limits();
    relaxed.max_header_bytes += 2 * relaxed.max_header_count + 32;
    RequestAssembler again(relaxed);
    FUZZ_CHECK(again.Feed(a.request) == RequestAssembler::State::kComplete);
    FUZZ_CHECK(again.TakeRequest() == a.request);
    FUZZ_CHECK(again.rest().empty());
    const size_t head_end = a.request.find("\r\n\r\n");
    FUZZ_CHECK(head_end != std::string::npos);
    FUZZ_CHECK(a.request.size() - (head_end + 4) <= ssebridge::Limits().max_body_bytes);
    FUZZ_CHECK(a.request.size() + a.rest.size() <= wire.size() + 64);
  }
  ssebridge::CheckChunkedBody(wire, seed);
  return 0;
}
