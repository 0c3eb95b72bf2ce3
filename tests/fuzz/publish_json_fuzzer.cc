// Fuzz target: POST /v1/publish's decoder and the publish validation behind
// it. Any body gives a JSON reply, never a crash: 200 exactly when protobuf's
// proto3 JSON parser accepts the body as a PublishRequest and the documented
// validation rules (publish_validation.h) accept it; then the broker gets
// exactly that normalised request once, and its SSE frame reads back, in a
// WHATWG parser, as that one event. Otherwise a 4xx {"error","message"}.
//
// A body opening with '[' is the batch form, and every body is also sent as
// NDJSON (application/x-ndjson): a batch answers 200 with one result per
// event, each exactly what that event alone would get as a single publish
// (so the batch decoder, one protobuf parse for the whole batch, decodes
// as the single door does), the broker gets the valid events in order; or
// 400 / 413 and the broker gets nothing. An array of objects that
// nlohmann::json accepts, within the limits, is never refused whole.
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
#include "bridge/publish/json_batch_body.h"
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

constexpr size_t kMaxBatch = 8;

PublishLimits Limits() {
  PublishLimits limits;
  limits.max_event_bytes = kMaxEventBytes;
  limits.max_batch = kMaxBatch;
  return limits;
}

bool SameSpec(const PublishSpec& a, const PublishSpec& b) {
  return a.channel == b.channel && a.type == b.type && a.data == b.data &&
         a.user_ids == b.user_ids && a.retain == b.retain && a.idempotency_key == b.idempotency_key;
}

// Nesting depth of a parsed value (an array or object counts one).
int Depth(const nlohmann::json& v) {
  int inner = 0;
  if (v.is_structured()) {
    for (const auto& e : v) inner = std::max(inner, Depth(e));
    return inner + 1;
  }
  return 0;
}

// The batch form of `body` as `content_type`: checked event by event
// against the single door.
void CheckBatch(Fixture* fx, const std::string& body, const std::string& content_type,
                BatchFormat format) {
  RecordingBroker broker;
  PublishGate gate(&broker, Limits(), &fx->auth);
  JsonReply reply = JsonPublish(gate, body, "", content_type);
  FUZZ_CHECK(IsValidUtf8(reply.json));
  nlohmann::json answer = nlohmann::json::parse(reply.json, nullptr, false);
  FUZZ_CHECK(answer.is_object());
  std::vector<absl::string_view> items;
  const absl::Status split = SplitBatchBody(body, format, kMaxBatch, &items);
  if (reply.status != 200) {
    FUZZ_CHECK(broker.specs.empty());
    FUZZ_CHECK(answer["error"].is_string() && answer["message"].is_string());
    FUZZ_CHECK(reply.status == (absl::IsOutOfRange(split) ? 413 : 400));
    FUZZ_CHECK(!split.ok());
    if (format == BatchFormat::kJsonArray && reply.status == 400) {
      // Valid JSON (nlohmann also insists on UTF-8) that is a non-empty
      // array of objects, not too deep, is never refused whole. nlohmann's
      // lexer takes a NUL byte for the end of its input, so it would accept
      // "[{}]\0junk"; JSON has no raw NUL anywhere, and we refuse it.
      nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
      bool objects = body.find('\0') == std::string::npos && parsed.is_array() && !parsed.empty();
      if (objects) {
        for (const auto& e : parsed) objects = objects && e.is_object();
      }
      FUZZ_CHECK(!(objects && Depth(parsed) <= kMaxBatchJsonDepth));
    }
    return;
  }
  FUZZ_CHECK(split.ok());
  FUZZ_CHECK(answer["results"].is_array() && answer["results"].size() == items.size());
  // Each event as a single publish: the same outcome, the same spec.
  std::vector<PublishSpec> expected;
  for (size_t i = 0; i < items.size(); ++i) {
    RecordingBroker single_broker;
    PublishGate single_gate(&single_broker, Limits(), &fx->auth);
    JsonReply single = JsonPublish(single_gate, std::string(items[i]), "");
    const nlohmann::json& result = answer["results"][i];
    FUZZ_CHECK(result.is_object());
    if (single.status == 200) {
      FUZZ_CHECK(!result.contains("error"));
      FUZZ_CHECK(result["id"].is_string() && result["publishedAt"].is_string());
      FUZZ_CHECK(single_broker.specs.size() == 1);
      expected.push_back(single_broker.specs[0]);
    } else {
      FUZZ_CHECK(single.status == 400);
      FUZZ_CHECK(result.value("error", "") == "invalid_argument");
      FUZZ_CHECK(result.value("index", -1) == static_cast<int>(i));
      FUZZ_CHECK(result.value("message", "").rfind(absl::StrCat("event ", i, ": "), 0) == 0);
    }
  }
  FUZZ_CHECK(broker.specs.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    FUZZ_CHECK(SameSpec(broker.specs[i], expected[i]));
  }
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  static Fixture* fx = new Fixture();
  const std::string body(reinterpret_cast<const char*>(bytes), size);

  CheckBatch(fx, body, "application/x-ndjson", BatchFormat::kNdjson);
  if (LooksLikeJsonArray(body)) {
    CheckBatch(fx, body, "application/json", BatchFormat::kJsonArray);
    return 0;
  }

  RecordingBroker broker;
  PublishGate gate(&broker, Limits(), &fx->auth);
  JsonReply reply = JsonPublish(gate, body, "");

  FUZZ_CHECK(IsValidUtf8(reply.json));
  nlohmann::json answer = nlohmann::json::parse(reply.json, nullptr, false);
  FUZZ_CHECK(answer.is_object());

  v1::PublishRequest request;
  google::protobuf::util::JsonParseOptions parse;
  const bool decodes = google::protobuf::util::JsonStringToMessage(body, &request, parse).ok();
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
  FUZZ_CHECK(spec.idempotency_key == (request.idempotency_key().empty()
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
