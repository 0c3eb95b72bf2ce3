#include "bridge/core/event_id.h"

#include <random>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ssebridge {

std::string EventId::ToString() const { return absl::StrCat(epoch, "-", seq); }

absl::StatusOr<EventId> ParseEventId(absl::string_view text, absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": malformed event id (", why,
                     "); expected \"<epoch>-<seq>\" as sent in an event's id"));
  };
  if (text.size() > 64) return bad("longer than 64 characters");
  size_t dash = text.rfind('-');
  if (dash == absl::string_view::npos) return bad("no '-'");
  absl::string_view epoch = text.substr(0, dash);
  absl::string_view seq = text.substr(dash + 1);
  if (epoch.empty() || epoch.size() > 32) return bad("epoch length");
  for (char c : epoch) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
      return bad("epoch must be [0-9a-z]");
    }
  }
  if (seq.empty() || seq.size() > 20) return bad("sequence length");
  for (char c : seq) {
    if (c < '0' || c > '9') return bad("sequence must be decimal digits");
  }
  EventId id;
  if (!absl::SimpleAtoi(seq, &id.seq)) return bad("sequence out of range");
  id.epoch = std::string(epoch);
  return id;
}

std::string NewEpoch() {
  // The Redis broker offers a candidate epoch with every publish: opening
  // /dev/urandom each time cost it 14% of its CPU, so seed once per thread.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t v = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()));
  v = (v << 12) ^ (rng() & 0xfff);
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v % 36]);
    v /= 36;
  } while (v != 0);
  return out;
}

}  // namespace ssebridge
