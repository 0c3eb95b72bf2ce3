// Fuzz target: channel names, channel patterns and the UTF-8 check under
// them, each against a reference written here from the documented rules
// (names.h, channel_pattern.h, Unicode's table of well-formed UTF-8), not
// from the bridge's code:
//   - a pattern list parses iff the reference says so, to the same patterns;
//   - Matches agrees with a general glob matcher for every valid channel;
//   - a valid channel name is a valid pattern that matches itself, and
//     "<name>*" matches it too;
//   - IsValidUtf8 agrees with the table; ValidateEventType/UserId keep their
//     promises.
// Input: a channel candidate, then the rest as a comma-separated list.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/names.h"
#include "tests/fuzz/fuzz_check.h"

namespace ssebridge {
namespace {

bool RefNameChar(char c) {
  static const std::string kAllowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-";
  return c != '\0' && kAllowed.find(c) != std::string::npos;
}

bool RefValidName(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), RefNameChar);
}

bool RefValidPattern(const std::string& p) {
  if (p == "*") return true;
  if (!p.empty() && p.back() == '*') return RefValidName(p.substr(0, p.size() - 1));
  return RefValidName(p);
}

// A general glob: '*' is any run of characters, anywhere.
bool Glob(const char* p, const char* pe, const char* s, const char* se) {
  if (p == pe) return s == se;
  if (*p == '*') {
    for (const char* t = s;; ++t) {
      if (Glob(p + 1, pe, t, se)) return true;
      if (t == se) return false;
    }
  }
  return s != se && *p == *s && Glob(p + 1, pe, s + 1, se);
}

bool RefMatches(const std::vector<std::string>& patterns, const std::string& c) {
  for (const std::string& p : patterns) {
    if (Glob(p.data(), p.data() + p.size(), c.data(), c.data() + c.size())) {
      return true;
    }
  }
  return false;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string Strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Parse's documented rules: "" or only whitespace is the empty set; items
// are comma-separated, trimmed, non-empty, valid; duplicates dropped.
bool RefParse(const std::string& text, std::vector<std::string>* out) {
  out->clear();
  if (Strip(text).empty()) return true;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item =
        Strip(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty() || !RefValidPattern(item)) return false;
    if (std::find(out->begin(), out->end(), item) == out->end()) out->push_back(item);
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

// Unicode 15, table 3-7: the well-formed byte sequences.
bool RefUtf8(const std::string& s) {
  auto in = [](int c, int lo, int hi) { return c >= lo && c <= hi; };
  for (size_t i = 0; i < s.size();) {
    const auto b = [&](size_t k) {
      return i + k < s.size() ? static_cast<int>(static_cast<unsigned char>(s[i + k])) : 0xFF;
    };
    const int c = b(0);
    size_t n;
    if (c <= 0x7F) {
      n = 1;
    } else if (in(c, 0xC2, 0xDF)) {
      n = 2;
      if (!in(b(1), 0x80, 0xBF)) return false;
    } else if (c == 0xE0) {
      n = 3;
      if (!in(b(1), 0xA0, 0xBF) || !in(b(2), 0x80, 0xBF)) return false;
    } else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) {
      n = 3;
      if (!in(b(1), 0x80, 0xBF) || !in(b(2), 0x80, 0xBF)) return false;
    } else if (c == 0xED) {
      n = 3;
      if (!in(b(1), 0x80, 0x9F) || !in(b(2), 0x80, 0xBF)) return false;
    } else if (c == 0xF0) {
      n = 4;
      if (!in(b(1), 0x90, 0xBF) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
    } else if (in(c, 0xF1, 0xF3)) {
      n = 4;
      if (!in(b(1), 0x80, 0xBF) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
    } else if (c == 0xF4) {
      n = 4;
      if (!in(b(1), 0x80, 0x8F) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    i += n;
  }
  return true;
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  FuzzedDataProvider in(bytes, size);
  const std::string channel = in.ConsumeRandomLengthString(160);
  const std::string list = in.ConsumeRemainingBytesAsString();

  const bool name_ok = ValidateChannelName(channel, "channel").ok();
  FUZZ_CHECK(name_ok == RefValidName(channel));
  FUZZ_CHECK(ChannelPatterns::Validate(channel).ok() == RefValidPattern(channel));
  if (name_ok) {
    absl::StatusOr<ChannelPatterns> self = ChannelPatterns::FromList({channel});
    FUZZ_CHECK(self.ok() && self->Matches(channel));
    absl::StatusOr<ChannelPatterns> prefix = ChannelPatterns::FromList({channel + "*"});
    FUZZ_CHECK(prefix.ok() && prefix->Matches(channel));
    FUZZ_CHECK(!self->Matches(channel + "x") && prefix->Matches(channel + "x"));
  }

  std::vector<std::string> want;
  const bool ref_ok = RefParse(list, &want);
  absl::StatusOr<ChannelPatterns> got = ChannelPatterns::Parse(list);
  FUZZ_CHECK(got.ok() == ref_ok);
  if (got.ok()) {
    FUZZ_CHECK(got->patterns() == want);
    FUZZ_CHECK(got->empty() == want.empty());
    FUZZ_CHECK(got->matches_all() == (std::find(want.begin(), want.end(), "*") != want.end()));
    if (name_ok) FUZZ_CHECK(got->Matches(channel) == RefMatches(want, channel));
    // Every pattern's own prefix is a channel it must match.
    for (const std::string& p : want) {
      std::string stem = absl::StripSuffix(p, "*").empty() ? std::string("x")
                                                           : std::string(absl::StripSuffix(p, "*"));
      FUZZ_CHECK(got->Matches(stem));
    }
  }

  const bool utf8 = IsValidUtf8(list);
  FUZZ_CHECK(utf8 == RefUtf8(list));
  if (ValidateEventType(list, "event").ok()) {
    FUZZ_CHECK(utf8 && list.size() <= kMaxEventTypeLength);
    FUZZ_CHECK(list.find_first_of(std::string("\r\n\0", 3)) == std::string::npos);
    FUZZ_CHECK(!absl::StartsWith(list, "ssebridge."));
  }
  FUZZ_CHECK(ValidateUserId(list, "sub").ok() ==
             (utf8 && !list.empty() && list.size() <= kMaxUserIdLength));
  return 0;
}
