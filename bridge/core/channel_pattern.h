// ChannelPatterns: a set of channel patterns, used wherever a credential says
// which channels it may read or publish to (JWT `channels` / `publish`
// claims, tickets, publisher keys, --public_channels).
//
// A pattern is either an exact channel name ("tasks", see names.h) or a
// channel-name prefix followed by one trailing '*' ("user.42.*"). The '*'
// matches zero or more characters, so "tasks*" matches "tasks" itself as
// well as "tasks.7" and "tasksXYZ": end a prefix with a separator ('.' or
// ':') when only sub-channels are meant. A lone "*" matches every channel.
// '*' anywhere else is invalid, and there is no other wildcard syntax:
// matching is a byte-wise, case-sensitive comparison, never a regex.
//
// A default-constructed set matches nothing. Immutable once built; copies
// are independent values, safe to share between threads for reading.
#ifndef SSEBRIDGE_CORE_CHANNEL_PATTERN_H_
#define SSEBRIDGE_CORE_CHANNEL_PATTERN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

// The one matching rule, for a single valid pattern: exact, prefix + '*',
// or "*". No pattern matches the empty string (no channel is empty). Every
// pattern list of the bridge (credentials, --channel_policies,
// --metrics_channels) matches through this.
bool MatchesPattern(absl::string_view pattern, absl::string_view channel);

class ChannelPatterns {
 public:
  ChannelPatterns() = default;  // matches nothing

  // INVALID_ARGUMENT naming the first bad pattern. Duplicates are dropped
  // (a hash set, so the work is linear in the list: lists come from
  // clients); an empty list gives a set that matches nothing. `work`, when
  // given, is increased by the hash and equality operations the de-dup did
  // (a deterministic cost measure for tests).
  static absl::StatusOr<ChannelPatterns> FromList(const std::vector<std::string>& patterns,
                                                  size_t* work = nullptr);
  // "a,b*,*"; whitespace around items is ignored; "" (or only whitespace)
  // is the empty set; an empty item ("a,,b", "a,") is an error.
  static absl::StatusOr<ChannelPatterns> Parse(absl::string_view comma_separated);

  // OK when `pattern` is a valid single pattern; INVALID_ARGUMENT naming it
  // otherwise.
  static absl::Status Validate(absl::string_view pattern);

  bool Matches(absl::string_view channel) const;
  bool empty() const { return patterns_.empty(); }
  bool matches_all() const { return matches_all_; }
  // The patterns as given (deduplicated, in first-seen order).
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
  bool matches_all_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_CHANNEL_PATTERN_H_
