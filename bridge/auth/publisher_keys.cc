#include "bridge/auth/publisher_keys.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/auth/jwt_keys.h"

namespace ssebridge {
namespace {

constexpr size_t kDigestBytes = 32;
constexpr size_t kMaxNameLength = 128;

std::string Sha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1 ||
      len != kDigestBytes) {
    ERR_clear_error();
    return std::string();
  }
  return std::string(reinterpret_cast<char*>(digest), len);
}

bool IsPrintableNoSpace(absl::string_view s) {
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

absl::Status PublisherKeys::Add(std::string name, absl::string_view secret,
                                absl::string_view patterns) {
  if (name.empty() || name.size() > kMaxNameLength || !IsPrintableNoSpace(name)) {
    return absl::InvalidArgumentError(absl::StrCat("publisher name must be 1-", kMaxNameLength,
                                                   " printable characters without spaces"));
  }
  // Names a key file cannot take: the principals the bridge names itself
  // (a JWT publisher is "jwt:<sub>", an unauthenticated one "anonymous").
  // Sharing one would share per-principal state: idempotency keys, shares.
  if (absl::StartsWith(name, "jwt:") || name == "anonymous") {
    return absl::InvalidArgumentError(
        absl::StrCat("publisher name '", name,
                     "' is reserved (\"jwt:...\" and \"anonymous\" name "
                     "JWT and unauthenticated publishers)"));
  }
  for (const Entry& e : entries_) {
    if (e.identity.name == name) {
      return absl::InvalidArgumentError(absl::StrCat("publisher '", name, "': name used twice"));
    }
  }
  std::string digest;
  absl::string_view hex = secret;
  if (absl::ConsumePrefix(&hex, "sha256:")) {
    bool hex_ok = hex.size() == 2 * kDigestBytes && std::all_of(hex.begin(), hex.end(), [](char c) {
                    return absl::ascii_isxdigit(static_cast<unsigned char>(c));
                  });
    if (!hex_ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("publisher '", name, "': sha256: must be followed by 64 hex digits"));
    }
    digest = absl::HexStringToBytes(hex);
  } else {
    if (secret.size() < kMinSecretLength || secret.size() > kMaxSecretLength ||
        !IsPrintableNoSpace(secret)) {
      return absl::InvalidArgumentError(absl::StrCat("publisher '", name, "': key must be ",
                                                     kMinSecretLength, "-", kMaxSecretLength,
                                                     " printable characters without spaces"));
    }
    digest = Sha256(secret);
    if (digest.empty()) return absl::InternalError("SHA-256 failed");
  }
  for (const Entry& e : entries_) {
    if (e.digest == digest) {
      return absl::InvalidArgumentError(
          absl::StrCat("publisher '", name, "': same key as publisher '", e.identity.name, "'"));
    }
  }
  Entry entry;
  entry.digest = std::move(digest);
  entry.identity.name = std::move(name);
  if (absl::StripAsciiWhitespace(patterns).empty()) {
    entry.identity.all_channels = true;
    entry.identity.channels = *ChannelPatterns::FromList({"*"});
  } else {
    absl::StatusOr<ChannelPatterns> parsed = ChannelPatterns::Parse(patterns);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("publisher '", entry.identity.name, "': ", parsed.status().message()));
    }
    entry.identity.channels = std::move(*parsed);
    entry.identity.all_channels = entry.identity.channels.matches_all();
  }
  entries_.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status PublisherKeys::LoadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  size_t added = 0;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    line = StripKeyFileComment(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 2 || fields.size() > 3) {
      // Deliberately no echo of the line: it holds a secret.
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line_no, ": expected 'name key [patterns]', got ", fields.size(), " fields"));
    }
    absl::Status ok = Add(std::string(fields[0]), std::string(fields[1]),
                          fields.size() == 3 ? std::string(fields[2]) : std::string());
    if (!ok.ok()) {
      return absl::Status(ok.code(), absl::StrCat(path, ":", line_no, ": ", ok.message()));
    }
    ++added;
  }
  if (added == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no publisher keys (the file must list at least one)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PublisherIdentity> PublisherKeys::Authenticate(
    absl::string_view presented_key) const {
  if (presented_key.empty() || presented_key.size() > kMaxSecretLength) {
    return absl::UnauthenticatedError("unknown publisher key");
  }
  const std::string digest = Sha256(presented_key);
  if (digest.empty()) return absl::UnauthenticatedError("unknown publisher key");
  // Compare against every entry so the time taken does not say which
  // position (if any) matched.
  const Entry* match = nullptr;
  for (const Entry& e : entries_) {
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), kDigestBytes) == 0) {
      match = &e;
    }
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown publisher key");
  return match->identity;
}

}  // namespace ssebridge
