#include "bridge/auth/ticket_codec.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {
namespace {

constexpr absl::string_view kVersion = "t1";
// More patterns than any flag allows; only guards the reserve below
// against a corrupted count.
constexpr uint64_t kMaxPatterns = 1 << 16;

void PutField(std::string& out, absl::string_view field) {
  absl::StrAppend(&out, field.size(), ":", field);
}

void PutPatterns(std::string& out, const ChannelPatterns& patterns) {
  PutField(out, absl::StrCat(patterns.patterns().size()));
  for (const std::string& p : patterns.patterns()) PutField(out, p);
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("ticket record: ", what));
}

// Reads the fields of a record in order.
class FieldReader {
 public:
  explicit FieldReader(absl::string_view rest) : rest_(rest) {}

  absl::StatusOr<absl::string_view> Next(absl::string_view name) {
    const size_t colon = rest_.find(':');
    uint64_t len = 0;
    if (colon == absl::string_view::npos || colon == 0 || colon > 10 ||
        !absl::SimpleAtoi(rest_.substr(0, colon), &len) || len > rest_.size() - colon - 1) {
      return Corrupt(absl::StrCat(name, " is truncated"));
    }
    absl::string_view field = rest_.substr(colon + 1, len);
    rest_.remove_prefix(colon + 1 + len);
    return field;
  }

  absl::StatusOr<uint64_t> Count(absl::string_view name) {
    absl::StatusOr<absl::string_view> field = Next(name);
    if (!field.ok()) return field.status();
    uint64_t n = 0;
    if (!absl::SimpleAtoi(*field, &n) || n > kMaxPatterns) {
      return Corrupt(absl::StrCat(name, " is not a count"));
    }
    return n;
  }

  absl::StatusOr<ChannelPatterns> Patterns(absl::string_view name) {
    absl::StatusOr<uint64_t> n = Count(name);
    if (!n.ok()) return n.status();
    std::vector<std::string> list;
    list.reserve(*n);
    for (uint64_t i = 0; i < *n; ++i) {
      absl::StatusOr<absl::string_view> p = Next(name);
      if (!p.ok()) return p.status();
      list.emplace_back(*p);
    }
    absl::StatusOr<ChannelPatterns> patterns = ChannelPatterns::FromList(list);
    if (!patterns.ok()) return Corrupt(absl::StrCat(name, ": ", patterns.status().message()));
    return patterns;
  }

  bool done() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

}  // namespace

std::string EncodeTicketGrant(const TicketGrant& grant) {
  std::string out(kVersion);
  PutField(out, grant.user_id);
  PutField(out, grant.minted_by);
  PutField(out, absl::StrCat(absl::ToUnixMicros(grant.expires_at)));
  PutPatterns(out, grant.channels);
  if (grant.confined_to.has_value()) {
    PutPatterns(out, *grant.confined_to);
  } else {
    PutField(out, "-");
  }
  return out;
}

absl::StatusOr<TicketGrant> DecodeTicketGrant(absl::string_view record) {
  if (record.substr(0, kVersion.size()) != kVersion) {
    return Corrupt("unknown version (written by a newer bridge?)");
  }
  FieldReader in(record.substr(kVersion.size()));
  TicketGrant grant;
  absl::StatusOr<absl::string_view> field = in.Next("user id");
  if (!field.ok()) return field.status();
  grant.user_id = std::string(*field);
  field = in.Next("minter");
  if (!field.ok()) return field.status();
  grant.minted_by = std::string(*field);
  field = in.Next("expiry");
  if (!field.ok()) return field.status();
  int64_t micros = 0;
  if (!absl::SimpleAtoi(*field, &micros)) return Corrupt("expiry is not a number");
  grant.expires_at = absl::FromUnixMicros(micros);
  absl::StatusOr<ChannelPatterns> channels = in.Patterns("channels");
  if (!channels.ok()) return channels.status();
  grant.channels = std::move(*channels);
  // "-" (1 byte) or a count: peek by reading it as a field.
  FieldReader probe = in;
  field = probe.Next("confinement");
  if (!field.ok()) return field.status();
  if (*field == "-") {
    in = probe;
  } else {
    absl::StatusOr<ChannelPatterns> confined = in.Patterns("confinement");
    if (!confined.ok()) return confined.status();
    grant.confined_to = std::move(*confined);
  }
  if (!in.done()) return Corrupt("trailing bytes");
  return grant;
}

}  // namespace ssebridge
