#include "bridge/publish/json_publish.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/json_text.h"
#include "bridge/publish/json_batch_body.h"

namespace ssebridge {
namespace {

JsonReply Error(int status, absl::string_view code, absl::string_view message) {
  return {status,
          absl::StrCat("{\"error\":", JsonQuote(code), ",\"message\":", JsonQuote(message), "}\n")};
}

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;  // not stored
    case absl::StatusCode::kDeadlineExceeded:
      return 504;  // outcome unknown
    default:
      return 500;
  }
}

std::string SnakeCase(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);  // "INVALID_ARGUMENT"
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  return name;
}

// Proto3 JSON, strict: an unknown field is an error, not ignored.
google::protobuf::util::Status ParseStrict(absl::string_view json,
                                           google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  return google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, parse);
}

// Decodes every event of `items` into `batch` in one parse; false when any
// of them is not a PublishRequest.
bool ParseBatch(const std::vector<absl::string_view>& items, v1::PublishBatchRequest* batch) {
  size_t bytes = 16;
  for (absl::string_view item : items) bytes += item.size() + 1;
  std::string json;
  json.reserve(bytes);
  json += "{\"requests\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) json += ',';
    json.append(items[i].data(), items[i].size());
  }
  json += "]}";
  return ParseStrict(json, batch).ok() &&
         static_cast<size_t>(batch->requests_size()) == items.size();
}

void AppendItemError(size_t index, absl::StatusCode code, absl::string_view message,
                     std::string* out) {
  absl::StrAppend(out, "{\"index\":", index, ",\"error\":", JsonQuote(SnakeCase(code)),
                  ",\"message\":", JsonQuote(absl::StrCat("event ", index, ": ", message)), "}");
}

// The batch form: split, decode each event, one gate batch, one answer.
JsonReply PublishBatchBody(PublishGate& gate, absl::string_view body, BatchFormat format,
                           const PublisherIdentity& who) {
  std::vector<absl::string_view> items;
  absl::Status split = SplitBatchBody(body, format, gate.max_batch(), &items);
  if (absl::IsOutOfRange(split)) {
    return Error(413, "payload_too_large",
                 absl::StrCat(split.message(), " in one batch; at most ", gate.max_batch(),
                              " (--max_publish_batch)"));
  }
  if (!split.ok()) return Error(400, "invalid_json", split.message());

  // One arena for the decoded requests: no allocation per event or field.
  google::protobuf::Arena arena;
  auto* batch = google::protobuf::Arena::CreateMessage<v1::PublishBatchRequest>(&arena);
  // Events protobuf could not decode, in order; the others went to `batch`.
  std::vector<std::pair<size_t, std::string>> undecodable;
  // protobuf resolves the message's type afresh on every JSON parse (more
  // than half of the cost of a small event), so the whole batch is decoded
  // in one parse, as a PublishBatchRequest; only when that fails is each
  // event decoded on its own, to find the ones that fail.
  if (!ParseBatch(items, batch)) {
    batch->Clear();
    batch->mutable_requests()->Reserve(static_cast<int>(items.size()));
    for (size_t i = 0; i < items.size(); ++i) {
      v1::PublishRequest* request = batch->add_requests();
      google::protobuf::util::Status parsed = ParseStrict(items[i], request);
      if (parsed.ok()) continue;
      batch->mutable_requests()->RemoveLast();
      undecodable.emplace_back(
          i, absl::StrCat("not a PublishRequest in proto3 JSON: ", std::string(parsed.message())));
    }
  }
  v1::PublishBatchResponse published;
  if (batch->requests_size() > 0) {
    absl::StatusOr<v1::PublishBatchResponse> result = gate.PublishBatch(*batch, who);
    if (!result.ok()) {
      return Error(HttpStatusFor(result.status().code()), SnakeCase(result.status().code()),
                   result.status().message());
    }
    published = std::move(*result);
  }

  std::string json;
  json.reserve(32 + items.size() * 112);
  json += "{\"results\":[";
  PublishResponseJson answer;
  auto bad = undecodable.begin();
  int next = 0;  // the next of `published`'s responses
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) json += ',';
    if (bad != undecodable.end() && bad->first == i) {
      AppendItemError(i, absl::StatusCode::kInvalidArgument, bad->second, &json);
      ++bad;
      continue;
    }
    const v1::PublishResponse& r = published.responses(next++);
    if (r.has_error()) {
      AppendItemError(i, static_cast<absl::StatusCode>(r.error().code()), r.error().message(),
                      &json);
    } else {
      answer.Append(r, &json);
    }
  }
  json += "]}\n";
  return {200, std::move(json)};
}

}  // namespace

void PublishResponseJson::Append(const v1::PublishResponse& response, std::string* out) {
  // protobuf's order (checked by the unit test): publishedAt comes last.
  absl::StrAppend(out, "{\"id\":", JsonQuote(response.id()),
                  ",\"subscribers\":", response.subscribers(),
                  ",\"replayed\":", response.replayed() ? "true" : "false");
  if (response.has_published_at()) {
    const google::protobuf::Timestamp& at = response.published_at();
    if (at.seconds() != seconds_ || seconds_ < 0) {
      google::protobuf::Timestamp whole;
      whole.set_seconds(at.seconds());
      seconds_text_ = google::protobuf::util::TimeUtil::ToString(whole);
      seconds_text_.pop_back();  // the 'Z'
      seconds_ = at.seconds();
    }
    absl::StrAppend(out, ",\"publishedAt\":\"", seconds_text_);
    // protobuf's fraction: none, or 3, 6 or 9 digits, the fewest that hold it.
    const int32_t nanos = at.nanos();
    if (nanos % 1000000 == 0) {
      if (nanos != 0) absl::StrAppend(out, ".", absl::Dec(nanos / 1000000, absl::kZeroPad3));
    } else if (nanos % 1000 == 0) {
      absl::StrAppend(out, ".", absl::Dec(nanos / 1000, absl::kZeroPad6));
    } else {
      absl::StrAppend(out, ".", absl::Dec(nanos, absl::kZeroPad9));
    }
    absl::StrAppend(out, "Z\"");
  }
  out->push_back('}');
}

JsonReply JsonPublish(PublishGate& gate, absl::string_view body, absl::string_view authorization,
                      absl::string_view content_type) {
  ScopedLatency timed(gate.latency(PublishDoor::kHttp));
  absl::StatusOr<PublisherIdentity> who = gate.auth().Authenticate(authorization, absl::Now());
  if (!who.ok()) {
    return Error(HttpStatusFor(who.status().code()), SnakeCase(who.status().code()),
                 who.status().message());
  }
  if (IsNdjsonContentType(content_type)) {
    return PublishBatchBody(gate, body, BatchFormat::kNdjson, *who);
  }
  if (LooksLikeJsonArray(body)) return PublishBatchBody(gate, body, BatchFormat::kJsonArray, *who);
  v1::PublishRequest request;
  auto parsed = ParseStrict(body, &request);
  if (!parsed.ok()) {
    return Error(
        400, "invalid_json",
        absl::StrCat("body: not a PublishRequest in proto3 JSON: ", std::string(parsed.message())));
  }
  absl::StatusOr<v1::PublishResponse> result = gate.Publish(request, *who);
  if (!result.ok()) {
    return Error(HttpStatusFor(result.status().code()), SnakeCase(result.status().code()),
                 result.status().message());
  }
  // The batch answer's writer (the same text as protobuf's JSON printer,
  // checked by its unit test): protobuf's printer resolves the message's
  // type on every call, a fifth of a trickle publish's CPU over HTTP.
  thread_local PublishResponseJson answer;
  std::string json;
  json.reserve(112);
  answer.Append(*result, &json);
  json += "\n";
  return {200, std::move(json)};
}

}  // namespace ssebridge
