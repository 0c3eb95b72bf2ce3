#include "bridge/broker/redis/redis_sentinel.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ssebridge {

namespace {

absl::string_view StringOf(const redisReply& r) {
  if (r.type != REDIS_REPLY_STRING && r.type != REDIS_REPLY_STATUS) return {};
  return absl::string_view(r.str, r.len);
}

bool ParsePort(absl::string_view text, int* port) {
  int p = 0;
  if (!absl::SimpleAtoi(text, &p) || p < 1 || p > 65535) return false;
  *port = p;
  return true;
}

}  // namespace

std::string SentinelAddress::Describe() const {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                             : absl::StrCat(host, ":", port);
}

absl::StatusOr<std::vector<SentinelAddress>> ParseSentinelList(absl::string_view list) {
  auto bad = [](absl::string_view entry, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--redis_sentinels: \"", entry, "\" ", why,
                                                   " (expected host:port[,host:port...])"));
  };
  std::vector<SentinelAddress> out;
  std::set<std::string> seen;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    SentinelAddress a;
    absl::string_view host = entry;
    absl::string_view port;
    if (absl::ConsumePrefix(&host, "[")) {
      const size_t close = host.find(']');
      if (close == absl::string_view::npos) return bad(entry, "has an unclosed [");
      absl::string_view rest = host.substr(close + 1);
      host = host.substr(0, close);
      if (!rest.empty()) {
        if (!absl::ConsumePrefix(&rest, ":")) return bad(entry, "has text after ]");
        port = rest;
      }
    } else if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
      if (host.find(':') != colon) return bad(entry, "is IPv6 without [brackets]");
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (host.empty()) return bad(entry, "has no host");
    a.host = std::string(host);
    if (!port.empty() || absl::EndsWith(entry, ":")) {
      if (!ParsePort(port, &a.port)) return bad(entry, "has a bad port (1-65535)");
    }
    if (!seen.insert(a.Describe()).second) return bad(entry, "is listed twice");
    out.push_back(std::move(a));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("--redis_sentinels: no address given (host:port,...)");
  }
  return out;
}

absl::StatusOr<RedisPrimaryAddress> ParseMasterAddrReply(const redisReply& reply,
                                                         absl::string_view master) {
  if (reply.type == REDIS_REPLY_NIL) {
    return absl::NotFoundError(absl::StrCat("sentinel does not monitor a master named \"", master,
                                            "\" (--redis_sentinel_master)"));
  }
  if (reply.type == REDIS_REPLY_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("sentinel: ", absl::string_view(reply.str, reply.len)));
  }
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 ||
      StringOf(*reply.element[0]).empty()) {
    return absl::InternalError("sentinel: malformed get-master-addr-by-name reply");
  }
  RedisPrimaryAddress a;
  a.host = std::string(StringOf(*reply.element[0]));
  if (!ParsePort(StringOf(*reply.element[1]), &a.port)) {
    return absl::InternalError("sentinel: bad port in get-master-addr-by-name reply");
  }
  return a;
}

bool ParseSwitchMaster(absl::string_view payload, absl::string_view master,
                       RedisPrimaryAddress* to) {
  std::vector<absl::string_view> f = absl::StrSplit(payload, ' ', absl::SkipEmpty());
  if (f.size() != 5 || f[0] != master) return false;
  RedisPrimaryAddress a;
  int old_port = 0;
  if (!ParsePort(f[2], &old_port) || !ParsePort(f[4], &a.port)) return false;
  a.host = std::string(f[3]);
  *to = std::move(a);
  return true;
}

bool SwitchMasterPayload(const redisReply& reply, std::string* payload) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3) return false;
  if (StringOf(*reply.element[0]) != "message" || StringOf(*reply.element[1]) != "+switch-master" ||
      reply.element[2]->type != REDIS_REPLY_STRING) {
    return false;
  }
  *payload = std::string(StringOf(*reply.element[2]));
  return true;
}

bool RoleIsMaster(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ARRAY && reply.elements >= 1 &&
         StringOf(*reply.element[0]) == "master";
}

}  // namespace ssebridge
