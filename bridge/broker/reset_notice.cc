#include "bridge/broker/reset_notice.h"

#include "absl/strings/str_cat.h"
#include "bridge/core/json_text.h"
#include "bridge/core/names.h"

namespace ssebridge {

EventPtr MakeResetNotice(absl::string_view epoch, uint64_t head_seq, absl::string_view reason,
                         absl::string_view cursor, absl::Time now, const EventEncoder& encoder) {
  auto ev = std::make_shared<Event>();
  ev->seq = head_seq;
  ev->id = absl::StrCat(epoch, "-", head_seq);
  ev->type = std::string(kResetEventType);
  // The cursor came from a client: keep it short and valid in JSON.
  absl::string_view shown = cursor.substr(0, 64);
  std::string safe;
  for (char c : shown) safe += (c >= 0x20 && c < 0x7f) ? c : '?';
  ev->data = absl::StrCat("{\"reason\":", JsonQuote(reason), ",\"cursor\":", JsonQuote(safe),
                          ",\"head\":", JsonQuote(ev->id), "}");
  ev->published_at = now;
  ev->frame = encoder.Encode(*ev);
  return ev;
}

}  // namespace ssebridge
