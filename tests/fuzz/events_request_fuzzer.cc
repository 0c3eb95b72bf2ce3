// Fuzz target: the GET /v1/events request path the bridge adds on top of
// cpp-httplib. The raw query string goes through httplib's own query parser
// (as the server does), header lines through a simple "Name: value" split,
// then ParseEventsRequest (bridge/http/events_request.h) and, with what it
// returns, SubscriberAuth (bearer header, cookie, ticket, query token)
// against one HS256 key and a ticket store. Checked against the rules
// events_request.h documents: which requests are refused, the channel list,
// the cursor and the credentials; Authenticate/Authorize never grant a
// private channel to an anonymous reader.
//
// Input: flags byte, the query string, then header lines separated by '\n'.
#include <fuzzer/FuzzedDataProvider.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/auth/memory_ticket_store.h"
#include "bridge/auth/subscriber_auth.h"
#include "bridge/core/event_id.h"
#include "bridge/core/names.h"
#include "bridge/http/events_request.h"
#include "tests/fuzz/fuzz_check.h"

namespace ssebridge {
namespace {

constexpr size_t kMaxChannels = 4;
const absl::Time kNow = absl::FromUnixSeconds(1700000000);

struct Fixture {
  Fixture() {
    auto keys = std::make_shared<JwtKeySet>();
    FUZZ_CHECK(keys->AddHmacSecret("k1", JwtAlgorithm::kHS256, std::string(32, 's')).ok());
    verifier = std::make_unique<JwtVerifier>(JwtVerifier::Options{}, keys);
    TicketStore::Options t;
    t.max_tickets = 64;
    tickets = std::make_unique<MemoryTicketStore>(t);
    SubscriberAuth::Options a;
    a.public_channels = *ChannelPatterns::Parse("public.*");
    auth = std::make_unique<SubscriberAuth>(a, verifier.get(), tickets.get());
    SubscriberAuth::Options q = a;
    q.allow_query_token = true;
    query_auth = std::make_unique<SubscriberAuth>(q, verifier.get(), tickets.get());
  }
  std::unique_ptr<JwtVerifier> verifier;
  std::unique_ptr<TicketStore> tickets;
  std::unique_ptr<SubscriberAuth> auth;
  std::unique_ptr<SubscriberAuth> query_auth;
};

const std::string* First(const RequestFields& f, absl::string_view name, bool ignore_case) {
  for (const auto& kv : f) {
    if (ignore_case ? absl::EqualsIgnoreCase(kv.first, name) : kv.first == name) {
      return &kv.second;
    }
  }
  return nullptr;
}

std::string Or(const std::string* v) { return v ? *v : std::string(); }

void CheckParsed(const EventsRequest& r, absl::string_view method, const RequestFields& params,
                 const RequestFields& headers) {
  std::vector<std::string> want;
  for (const auto& [k, v] : params) {
    if (k == "channel" && std::find(want.begin(), want.end(), v) == want.end()) {
      want.push_back(v);
    }
  }
  FUZZ_CHECK(r.channels == want);
  FUZZ_CHECK(!r.channels.empty() && r.channels.size() <= kMaxChannels);
  for (const std::string& c : r.channels) {
    FUZZ_CHECK(ValidateChannelName(c, "channel").ok());
  }
  if (const std::string* h = First(headers, "last-event-id", true)) {
    FUZZ_CHECK(r.cursor == *h);
  } else if (const std::string* p = First(params, "lastEventId", false)) {
    FUZZ_CHECK(r.cursor == *p && ParseEventId(*p, "lastEventId").ok());
  } else {
    FUZZ_CHECK(r.cursor.empty());
  }
  const SubscriberCredentials& c = r.credentials;
  FUZZ_CHECK(c.authorization == Or(First(headers, "AUTHORIZATION", true)));
  FUZZ_CHECK(c.cookie_header == Or(First(headers, "cookie", true)));
  FUZZ_CHECK(c.ticket == Or(First(params, "ticket", false)));
  FUZZ_CHECK(c.access_token == Or(First(params, "access_token", false)));
  FUZZ_CHECK(c.keep_ticket == (method == "HEAD"));
  FUZZ_CHECK(r.stream_key == Or(First(params, "stream", false)));
  FUZZ_CHECK(r.credential_sent ==
             (!c.authorization.empty() || !c.ticket.empty() || !c.access_token.empty()));
}

// Whether the documented rules refuse the request.
bool RefRefused(const RequestFields& params, const RequestFields& headers) {
  size_t count = 0;
  for (const auto& [k, v] : params) {
    if (k != "channel") continue;
    ++count;
    if (!ValidateChannelName(v, "channel").ok()) return true;
  }
  if (count == 0 || count > kMaxChannels) return true;
  if (First(headers, "Last-Event-ID", true) == nullptr) {
    const std::string* p = First(params, "lastEventId", false);
    if (p != nullptr && !ParseEventId(*p, "lastEventId").ok()) return true;
  }
  if (const std::string* key = First(params, "stream", false)) {
    if (key->empty() || key->size() > 64) return true;
    for (char ch : *key) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') return true;
    }
  }
  return false;
}

void CheckAuth(const Fixture& fx, const SubscriberAuth& auth, const EventsRequest& r) {
  absl::StatusOr<SubscriberIdentity> id = auth.Authenticate(r.credentials, kNow);
  if (!id.ok()) {
    FUZZ_CHECK(absl::IsUnauthenticated(id.status()));
    return;
  }
  if (!id->user_id.empty()) {
    FUZZ_CHECK(id->method != "anonymous");
  } else {
    FUZZ_CHECK(id->method == "anonymous");
    FUZZ_CHECK(!id->all_channels);  // keys are configured: not dev mode
  }
  absl::Status allowed = auth.Authorize(*id, r.channels);
  if (allowed.ok() && id->user_id.empty()) {
    for (const std::string& c : r.channels) {
      FUZZ_CHECK(absl::StartsWith(c, "public."));
    }
  }
  (void)fx;
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  static Fixture* fx = new Fixture();
  FuzzedDataProvider in(bytes, size);
  const uint8_t flags = in.ConsumeIntegral<uint8_t>();
  const absl::string_view method = (flags & 1) ? "HEAD" : "GET";
  const std::string query = in.ConsumeRandomLengthString(4096);
  const std::string header_block = in.ConsumeRemainingBytesAsString();

  httplib::Params parsed_query;
  httplib::detail::parse_query_text(query, parsed_query);
  RequestFields params(parsed_query.begin(), parsed_query.end());
  RequestFields headers;
  for (absl::string_view line : absl::StrSplit(header_block, '\n')) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) continue;
    headers.emplace_back(std::string(line.substr(0, colon)),
                         std::string(absl::StripLeadingAsciiWhitespace(
                             absl::StripSuffix(line.substr(colon + 1), "\r"))));
  }
  if (flags & 2) {
    // A real ticket, so redemption (and HEAD's peek) is reached too.
    absl::StatusOr<std::string> ticket =
        fx->tickets->Issue("user-1", {"private.*"}, absl::Seconds(30), kNow);
    if (ticket.ok()) params.emplace_back("ticket", *ticket);
  }

  absl::StatusOr<EventsRequest> r = ParseEventsRequest({method, &params, &headers}, kMaxChannels);
  FUZZ_CHECK(r.ok() == !RefRefused(params, headers));
  if (!r.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(r.status()));
    FUZZ_CHECK(absl::StartsWith(r.status().message(), "channel:") ||
               absl::StartsWith(r.status().message(), "lastEventId:") ||
               absl::StartsWith(r.status().message(), "stream:"));
    return 0;
  }
  CheckParsed(*r, method, params, headers);
  CheckAuth(*fx, (flags & 4) ? *fx->query_auth : *fx->auth, *r);

  // The cookie and bearer readers under Authenticate.
  const std::string token = BearerToken(r->credentials.authorization);
  if (!token.empty()) {
    FUZZ_CHECK(absl::StripAsciiWhitespace(token) == token);
    FUZZ_CHECK(absl::StartsWithIgnoreCase(
        absl::StripLeadingAsciiWhitespace(r->credentials.authorization), "bearer "));
  }
  const std::string& value = r->credentials.cookie_header;
  if (value.find(';') == std::string::npos && !value.empty() &&
      absl::StripAsciiWhitespace(value) == value && value.front() != '"') {
    FUZZ_CHECK(CookieValue("a=1; ssebridge_token=" + value + "; b=2", "ssebridge_token") == value);
  }
  fx->tickets->Sweep(kNow + absl::Minutes(2));
  return 0;
}
