// Fuzz target: POST /v1/publish's decoder and the publish validation behind
// it. Any body gives a JSON reply, never a crash: 200 exactly when protobuf's
// proto3 JSON parser accepts the body as a PublishRequest and the documented
// validation rules (publish_validation.h) accept it; then the broker gets
// exactly that normalised request once, and its SSE frame reads back, in a
// WHATWG parser, as that one event. Otherwise a 4xx {"error","message"}.
//
// The broker here records what it is given (the gate's contract ends at
// Broker::Publish); auth is open, as in dev mode.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/auth/rate_limiter.h"
#include "bridge/core/idempotency_window.h"
#include "bridge/core/names.h"
#include "bridge/publish/json_publish.h"
#include "bridge/publish/publish_gate.h"
#include "bridge/sse/sse_encoder.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/harness/sse_parser.h"

namespace ssebridge {
namespace {

class RecordingBroker : public Broker {
 public:
  absl::StatusOr<PublishOutcome> Publish(const PublishSpec& spec) override {
    specs.push_back(spec);
    PublishOutcome out;
    out.id = absl::StrCat("fuzz-", specs.size());
    out.published_at = absl::UnixEpoch();
    return out;
  }
  absl::Status Attach(std::shared_ptr<Subscription>, absl::string_view) override {
    return absl::OkStatus();
  }
  void Sweep(absl::Time) override {}
  std::string epoch() const override { return "fuzz"; }

  std::vector<PublishSpec> specs;
};

struct Fixture {
  Fixture()
      : verifier(JwtVerifier::Options{}, nullptr),
        limiter(0, 0),
        auth(PublisherAuth::Options{}, &keys, &verifier, &limiter) {}
  PublisherKeys keys;
  JwtVerifier verifier;
  RateLimiter limiter;
  PublisherAuth auth;
};

constexpr size_t kMaxEventBytes = 4096;

// publish_validation.h's rules, restated.
bool RefValid(const v1::PublishRequest& r) {
  if (!ValidateChannelName(r.channel(), "channel").ok()) return false;
  const std::string& type = r.event();
  if (type.size() > kMaxEventTypeLength || !IsValidUtf8(type) ||
      type.find_first_of(std::string("\r\n\0", 3)) != std::string::npos ||
      type.rfind("ssebridge.", 0) == 0) {
    return false;
  }
  if (r.data().empty() || r.data().size() > kMaxEventBytes || !IsValidUtf8(r.data())) {
    return false;
  }
  if (r.user_ids_size() > 1000) return false;
  for (const std::string& u : r.user_ids()) {
    if (u.empty() || u.size() > kMaxUserIdLength || !IsValidUtf8(u)) return false;
  }
  return r.idempotency_key().size() <= 256;
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  static Fixture* fx = new Fixture();
  const std::string body(reinterpret_cast<const char*>(bytes), size);

  RecordingBroker broker;
  PublishLimits limits;
  limits.max_event_bytes = kMaxEventBytes;
  PublishGate gate(&broker, limits, &fx->auth);
  JsonReply reply = JsonPublish(gate, body, "");

  FUZZ_CHECK(IsValidUtf8(reply.json));
  nlohmann::json answer = nlohmann::json::parse(reply.json, nullptr, false);
  FUZZ_CHECK(answer.is_object());

  v1::PublishRequest request;
  google::protobuf::util::JsonParseOptions parse;
  const bool decodes =
      google::protobuf::util::JsonStringToMessage(body, &request, parse).ok();
  const bool valid = decodes && RefValid(request);
  FUZZ_CHECK((reply.status == 200) == valid);
  if (!valid) {
    FUZZ_CHECK(reply.status == 400);
    FUZZ_CHECK(broker.specs.empty());
    FUZZ_CHECK(answer.contains("error") && answer["error"].is_string());
    FUZZ_CHECK(answer.contains("message") && answer["message"].is_string());
    return 0;
  }

  FUZZ_CHECK(broker.specs.size() == 1);
  const PublishSpec& spec = broker.specs[0];
  FUZZ_CHECK(answer.value("id", "") == "fuzz-1");
  FUZZ_CHECK(spec.channel == request.channel());
  FUZZ_CHECK(spec.type == (request.event().empty() ? "message" : request.event()));
  FUZZ_CHECK(spec.data == request.data());
  FUZZ_CHECK(spec.retain == request.retain());
  // Keys are scoped to the publisher (auth off: "anonymous") and channel.
  FUZZ_CHECK(spec.idempotency_key ==
             (request.idempotency_key().empty()
                  ? std::string()
                  : ScopedIdempotencyKey("anonymous", request.channel(),
                                         request.idempotency_key())));
  std::vector<std::string> users(request.user_ids().begin(), request.user_ids().end());
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  FUZZ_CHECK(spec.user_ids == users);

  Event event;
  event.id = "fuzz-1";
  event.type = spec.type;
  event.data = spec.data;
  ssebridge_it::SseParser reader;
  reader.Feed(SseEncoder().Encode(event));
  FUZZ_CHECK(reader.events().size() == 1);
  FUZZ_CHECK(reader.events()[0].event == spec.type);
  FUZZ_CHECK(reader.events()[0].id == "fuzz-1");
  FUZZ_CHECK(!reader.has_pending_line() && !reader.has_pending_event());
  return 0;
}
