#include "bridge/broker/redis/redis_url.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ssebridge {

namespace {

absl::Status BadUrl(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--redis_url: ", why, " (expected redis[s]://[[user]:password@]host:port/db)"));
}

// %XX escapes, so a password may hold ':' or '@'.
bool Unescape(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int v = 0;
    for (int k = 1; k <= 2; ++k) {
      char c = in[i + k];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return false;
    }
    out->push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

}  // namespace

std::string RedisUrl::Describe() const {
  return absl::StrCat(host, ":", port, "/", db, tls ? " (TLS)" : "");
}

absl::StatusOr<RedisUrl> ParseRedisUrl(absl::string_view url) {
  RedisUrl out;
  if (absl::ConsumePrefix(&url, "rediss://")) {
    out.tls = true;
  } else if (!absl::ConsumePrefix(&url, "redis://")) {
    return BadUrl("scheme must be redis:// or rediss:// (TLS)");
  }
  absl::string_view path;
  if (size_t slash = url.find('/'); slash != absl::string_view::npos) {
    path = url.substr(slash + 1);
    url = url.substr(0, slash);
  }
  if (size_t at = url.rfind('@'); at != absl::string_view::npos) {
    absl::string_view auth = url.substr(0, at);
    url = url.substr(at + 1);
    size_t colon = auth.find(':');
    absl::string_view user = colon == absl::string_view::npos ? "" : auth.substr(0, colon);
    absl::string_view pass = colon == absl::string_view::npos ? auth : auth.substr(colon + 1);
    if (!Unescape(user, &out.user) || !Unescape(pass, &out.password)) {
      return BadUrl("bad %-escape in the credentials");
    }
  }
  absl::string_view host = url;
  if (!url.empty() && url.front() == '[') {  // [::1]:6379
    size_t close = url.find(']');
    if (close == absl::string_view::npos) return BadUrl("unclosed '[' in host");
    host = url.substr(1, close - 1);
    url = url.substr(close + 1);
    if (!url.empty() && !absl::ConsumePrefix(&url, ":")) return BadUrl("junk after ']'");
    if (url.empty()) url = "6379";
  } else if (size_t colon = url.rfind(':'); colon != absl::string_view::npos) {
    host = url.substr(0, colon);
    url = url.substr(colon + 1);
  } else {
    url = "";
  }
  if (host.empty()) return BadUrl("missing host");
  out.host = std::string(host);
  if (!url.empty()) {
    if (!absl::SimpleAtoi(url, &out.port) || out.port < 1 || out.port > 65535) {
      return BadUrl("port must be 1-65535");
    }
  }
  if (!path.empty()) {
    if (!absl::SimpleAtoi(path, &out.db) || out.db < 0 || out.db > 1000000) {
      return BadUrl("db must be a non-negative number");
    }
  }
  return out;
}

}  // namespace ssebridge
