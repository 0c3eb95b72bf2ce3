// PublisherKeys: static API keys that backends present to publish
// (`authorization: Bearer <key>` on gRPC, the same header on POST
// /v1/publish), each optionally restricted to channel patterns.
//
// Only the SHA-256 of each key is kept, so the loaded set holds no usable
// secret; an operator may even store only the hash (`sha256:<hex>`) in the
// key file. Authenticate hashes the presented key and compares it with every
// stored digest in constant time (all of them, without stopping early).
//
// Filled at start-up, then read-only: Authenticate may be called from any
// number of threads concurrently; Add/LoadFile may not run alongside it.
#ifndef SSEBRIDGE_AUTH_PUBLISHER_KEYS_H_
#define SSEBRIDGE_AUTH_PUBLISHER_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/channel_pattern.h"

namespace ssebridge {

struct PublisherIdentity {
  std::string name;
  // What this publisher may publish to. For a key without patterns this is
  // {"*"} and all_channels is true, so channels.Matches works either way.
  ChannelPatterns channels;
  bool all_channels = false;
  // A JWT publisher's credential runs out then (static keys never do);
  // long-lived streams check it per message.
  absl::Time expires_at = absl::InfiniteFuture();
};

class PublisherKeys {
 public:
  inline static constexpr size_t kMinSecretLength = 16;
  inline static constexpr size_t kMaxSecretLength = 4096;

  // One key per line: `name secret [patterns]` or `name sha256:<64 hex>
  // [patterns]`; patterns comma-separated without spaces (absent: every
  // channel). A '#' at the start of a line or after whitespace starts a
  // comment ('#' inside a key is part of it); blank lines are skipped. Errors name the
  // file and line, never the secret. A file without any key is an error: it
  // would silently leave publishing open.
  absl::Status LoadFile(const std::string& path);

  // `secret`: a plain key of kMinSecretLength..kMaxSecretLength printable
  // ASCII characters without spaces, or "sha256:" and the 64 hex digits of
  // a key's SHA-256. `patterns`: "" for every channel, else comma-separated
  // channel patterns. INVALID_ARGUMENT for a bad or duplicate name, a short
  // or malformed secret, a secret already used by another name, or a bad
  // pattern.
  absl::Status Add(std::string name, absl::string_view secret, absl::string_view patterns);

  // UNAUTHENTICATED "unknown publisher key" unless `presented_key` is one of
  // the loaded keys.
  absl::StatusOr<PublisherIdentity> Authenticate(absl::string_view presented_key) const;

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string digest;  // SHA-256 of the key, 32 raw bytes
    PublisherIdentity identity;
  };
  std::vector<Entry> entries_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_PUBLISHER_KEYS_H_
