#include "bridge/broker/redis/redis_codec.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ssebridge {

namespace {

constexpr absl::string_view kVersion = "1|";

void Put(std::string* out, absl::string_view field) {
  absl::StrAppend(out, field.size(), ":", field);
}

bool Take(absl::string_view* in, absl::string_view* field) {
  size_t colon = in->find(':');
  if (colon == absl::string_view::npos || colon == 0 || colon > 10) return false;
  uint64_t n = 0;
  if (!absl::SimpleAtoi(in->substr(0, colon), &n)) return false;
  if (n > in->size() - colon - 1) return false;
  *field = in->substr(colon + 1, n);
  in->remove_prefix(colon + 1 + n);
  return true;
}

}  // namespace

std::string EncodeStoredEvent(const PublishSpec& spec, absl::Time published_at) {
  std::string out(kVersion);
  out.reserve(spec.data.size() + spec.type.size() + 48);
  Put(&out, spec.type);
  Put(&out, spec.data);
  Put(&out, absl::StrCat(absl::ToUnixMicros(published_at)));
  Put(&out, spec.retain ? "1" : "0");
  Put(&out, absl::StrCat(spec.user_ids.size()));
  for (const auto& user : spec.user_ids) Put(&out, user);
  return out;
}

absl::StatusOr<StoredEvent> DecodeStoredEvent(absl::string_view in) {
  auto bad = [] { return absl::DataLossError("malformed event payload in Redis"); };
  if (!absl::ConsumePrefix(&in, kVersion)) return bad();
  StoredEvent ev;
  absl::string_view type, data, micros, retain, count;
  if (!Take(&in, &type) || !Take(&in, &data) || !Take(&in, &micros) || !Take(&in, &retain) ||
      !Take(&in, &count)) {
    return bad();
  }
  int64_t us = 0;
  size_t n = 0;
  if (!absl::SimpleAtoi(micros, &us) || !absl::SimpleAtoi(count, &n)) return bad();
  if (n > in.size()) return bad();
  ev.type = std::string(type);
  ev.data = std::string(data);
  ev.published_at = absl::FromUnixMicros(us);
  ev.retain = retain == "1";
  ev.user_ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    absl::string_view user;
    if (!Take(&in, &user)) return bad();
    ev.user_ids.emplace_back(user);
  }
  if (!in.empty()) return bad();
  return ev;
}

bool ParseLiveMessage(absl::string_view text, LiveMessage* out) {
  size_t space = text.find(' ');
  size_t nl = text.find('\n');
  if (space == absl::string_view::npos || nl == absl::string_view::npos || space > nl ||
      space == 0) {
    return false;
  }
  out->epoch = std::string(text.substr(0, space));
  if (!absl::SimpleAtoi(text.substr(space + 1, nl - space - 1), &out->seq)) {
    return false;
  }
  out->payload = text.substr(nl + 1);
  return true;
}

bool ParseSeqPrefixed(absl::string_view text, uint64_t* seq, absl::string_view* payload) {
  size_t nl = text.find('\n');
  if (nl == absl::string_view::npos) return false;
  if (!absl::SimpleAtoi(text.substr(0, nl), seq)) return false;
  *payload = text.substr(nl + 1);
  return true;
}

bool ParseStreamId(absl::string_view id, uint64_t* seq) {
  size_t dash = id.find('-');
  if (dash == absl::string_view::npos) return false;
  return absl::SimpleAtoi(id.substr(0, dash), seq);
}

EventPtr BuildEvent(absl::string_view epoch, uint64_t seq, absl::string_view channel,
                    StoredEvent stored, const EventEncoder& encoder) {
  auto ev = std::make_shared<Event>();
  ev->seq = seq;
  ev->id = absl::StrCat(epoch, "-", seq);
  ev->channel = std::string(channel);
  ev->type = std::move(stored.type);
  ev->data = std::move(stored.data);
  ev->user_ids = std::move(stored.user_ids);
  ev->retain = stored.retain;
  ev->published_at = stored.published_at;
  ev->frame = encoder.Encode(*ev);
  return ev;
}

}  // namespace ssebridge
