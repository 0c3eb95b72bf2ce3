#include "bridge/auth/ticket_request.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {
namespace {

// A JWT publisher whose `publish` claim is "*" covers everything without
// all_channels being set.
bool Unrestricted(const PublisherIdentity& who) {
  return who.all_channels || who.channels.matches_all();
}

}  // namespace

bool PublisherCovers(const PublisherIdentity& who, absl::string_view pattern, size_t* work) {
  if (Unrestricted(who)) return true;
  size_t ignored = 0;
  if (work == nullptr) work = &ignored;
  const bool wildcard = absl::EndsWith(pattern, "*");
  const absl::string_view prefix = wildcard ? pattern.substr(0, pattern.size() - 1) : pattern;
  for (const std::string& mine : who.channels.patterns()) {
    ++*work;
    if (mine == pattern) return true;
    if (absl::EndsWith(mine, "*") &&
        absl::StartsWith(prefix, absl::string_view(mine).substr(0, mine.size() - 1))) {
      return true;
    }
  }
  return !wildcard && who.channels.Matches(pattern);
}

absl::StatusOr<TicketGrant> BuildTicketGrant(const PublisherIdentity& minter, std::string user_id,
                                             const std::vector<std::string>& channels,
                                             const TicketStore::Options& limits, size_t* work) {
  size_t ignored = 0;
  if (work == nullptr) work = &ignored;
  if (channels.size() > limits.max_channels_per_ticket) {
    return absl::InvalidArgumentError(
        absl::StrCat("channels: ", channels.size(), " patterns; at most ",
                     limits.max_channels_per_ticket, " per ticket (--max_ticket_channels)"));
  }
  for (size_t i = 0; i < channels.size(); ++i) {
    if (channels[i].size() > limits.max_pattern_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("channels[", i, "]: ", channels[i].size(),
                                                     " bytes; at most ", limits.max_pattern_bytes,
                                                     " (--max_ticket_pattern_bytes)"));
    }
  }
  absl::StatusOr<ChannelPatterns> patterns = ChannelPatterns::FromList(channels, work);
  if (!patterns.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("channels: ", patterns.status().message()));
  }
  for (const std::string& pattern : patterns->patterns()) {
    if (!PublisherCovers(minter, pattern, work)) {
      return absl::PermissionDeniedError(absl::StrCat("channels: '", pattern,
                                                      "' is not granted to publisher '",
                                                      minter.name, "', so it cannot grant it"));
    }
  }
  TicketGrant grant;
  grant.user_id = std::move(user_id);
  grant.minted_by = minter.name;
  if (Unrestricted(minter)) {
    grant.channels = std::move(*patterns);
  } else {
    // Never "everything": a limited minter's empty list is its own patterns.
    if (patterns->empty()) {
      grant.channels = minter.channels;
    } else {
      grant.channels = std::move(*patterns);
    }
    grant.confined_to = minter.channels;
  }
  return grant;
}

}  // namespace ssebridge
