// The status page, on the internal (admin) listener: GET /ui serves one
// self-contained HTML page, both /ui and /ui/events ask for an admin key when
// admin keys are configured (Bearer or Basic) and are closed when auth is on
// without admin keys, its streams count against the connection limits,
// /ui/events delivers snapshots naming the channels that have readers and
// the recent events (never their payloads), and the internal channel cannot
// be read through /v1/events.
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/temp_dir.h"

namespace ssebridge_it {
namespace {

constexpr char kAdminKey[] = "status-admin-key-0123456789";

class StatusPageTest : public ::testing::Test {
 protected:
  void StartWithAdminKeys(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {
        "--admin_keys_file=" + dir_.Write("admin.keys", absl::StrCat("ops ", kAdminKey, "\n"))};
    flags.insert(flags.end(), extra.begin(), extra.end());
    bridge_ = StartBridge(flags);
    ASSERT_NE(bridge_, nullptr);
  }
  int port() const { return bridge_->http_port(); }
  int admin() const { return bridge_->admin_port(); }  // where /ui is served

  TempDir dir_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(StatusPageTest, PageIsSelfContainedAndNeedsAnAdminKey) {
  StartWithAdminKeys();
  HttpResponse none = HttpGet(admin(), "/ui");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(absl::StrContains(none.body, "\"error\":\"unauthenticated\"")) << none.body;
  int challenges = 0;
  for (const auto& [k, v] : none.headers) {
    if (absl::EqualsIgnoreCase(k, "WWW-Authenticate")) ++challenges;
  }
  EXPECT_EQ(challenges, 2);  // Bearer and Basic

  HttpResponse wrong =
      HttpRequest(admin(), "GET", "/ui", "", {{"Authorization", "Bearer not-the-admin-key-000"}});
  EXPECT_EQ(wrong.status, 401);
  HttpResponse events_none = HttpGet(admin(), "/ui/events");
  EXPECT_EQ(events_none.status, 401);

  HttpResponse page = HttpRequest(admin(), "GET", "/ui", "",
                                  {{"Authorization", absl::StrCat("Bearer ", kAdminKey)}});
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(absl::StartsWith(page.Header("Content-Type").value_or(""), "text/html"));
  EXPECT_TRUE(absl::StartsWith(page.body, "<!doctype html>"));
  EXPECT_TRUE(absl::StrContains(page.body, "new EventSource(\"ui/events\")")) << page.body;
  // No external asset: no URL with a scheme or a protocol-relative one.
  for (const char* external : {"http://", "https://", "src=\"//", "href=\"//", "@import"}) {
    EXPECT_FALSE(absl::StrContains(page.body, external)) << external;
  }

  // A browser's way in: Basic, with the key as the password.
  HttpResponse basic = HttpRequest(
      admin(), "GET", "/ui", "",
      {{"Authorization", "Basic " + absl::Base64Escape(absl::StrCat("admin:", kAdminKey))}});
  EXPECT_EQ(basic.status, 200);
}

TEST_F(StatusPageTest, FeedNamesChannelsWithReadersAndRecentEvents) {
  StartWithAdminKeys({"--status_recent_events=2"});
  SseClient reader;
  ASSERT_TRUE(reader.Open(port(), "/v1/events?channel=dash.orders")) << reader.Describe();
  GrpcClient grpc(bridge_->grpc_port());
  const std::string secret_payload = "payload-that-must-not-show";
  std::string last_id;
  for (int i = 0; i < 3; ++i) {
    last_id = grpc.MustPublish(MakePublish("dash.orders", secret_payload, "order")).id();
  }

  SseClientOptions auth;
  auth.headers = {{"Authorization", absl::StrCat("Bearer ", kAdminKey)}};
  SseClient viewer;
  ASSERT_TRUE(viewer.Open(admin(), "/ui/events", auth)) << viewer.Describe();
  // The first snapshot comes at once (the catch-up); the next within ~1 s.
  ASSERT_TRUE(viewer.WaitForEvents(2, absl::Seconds(10))) << viewer.Describe();
  for (const SseEvent& e : viewer.events()) {
    EXPECT_EQ(e.event, "snapshot");
    EXPECT_TRUE(absl::StrContains(e.data, "{\"channel\":\"dash.orders\",\"subscribers\":1}"))
        << e.data;
    EXPECT_TRUE(absl::StrContains(e.data, absl::StrCat("\"id\":\"", last_id, "\""))) << e.data;
    EXPECT_TRUE(absl::StrContains(e.data, "\"type\":\"order\"")) << e.data;
    EXPECT_TRUE(absl::StrContains(e.data, absl::StrCat("\"size\":", secret_payload.size())))
        << e.data;
    EXPECT_FALSE(absl::StrContains(e.data, secret_payload)) << e.data;
    EXPECT_TRUE(absl::StrContains(e.data, "\"broker_ready\":true")) << e.data;
  }
  // --status_recent_events=2: only the last two of the three.
  const std::string& data = viewer.events().back().data;
  size_t recent = data.find("\"recent\":[");
  ASSERT_NE(recent, std::string::npos);
  int listed = 0;
  for (size_t at = data.find("\"id\":", recent); at != std::string::npos;
       at = data.find("\"id\":", at + 1)) {
    ++listed;
  }
  EXPECT_EQ(listed, 2) << data;
}

TEST_F(StatusPageTest, InternalChannelIsNotSubscribable) {
  StartWithAdminKeys();
  HttpResponse r = HttpGet(port(), "/v1/events?channel=%24ssebridge.status");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "\"error\":\"invalid_argument\"")) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, "channel")) << r.body;
}

TEST(StatusPageOpenTest, OpenWithoutAdminKeysAndOffWithTheFlag) {
  auto open = StartBridge();
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(HttpGet(open->admin_port(), "/ui").status, 200);
  SseClient viewer;
  ASSERT_TRUE(viewer.Open(open->admin_port(), "/ui/events")) << viewer.Describe();
  ASSERT_TRUE(viewer.WaitForEvents(1, absl::Seconds(10))) << viewer.Describe();
  EXPECT_EQ(viewer.events()[0].event, "snapshot");

  auto off = StartBridge({"--status_page=false"});
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(HttpGet(off->admin_port(), "/ui").status, 404);
  EXPECT_EQ(HttpGet(off->admin_port(), "/ui/events").status, 404);
}

// Issue 16, finding 7: with auth on, an anonymous reader must not see the
// bridge's channel names and rates. Without an admin key to ask for, the page
// is closed, and says which flag opens it.
TEST(StatusPageAuthTest, ClosedWhenAuthIsOnWithoutAdminKeys) {
  TempDir dir;
  auto bridge = StartBridge({"--jwt_secret_file=" + dir.Write("hs.secret", std::string(40, 'k'))});
  ASSERT_NE(bridge, nullptr);
  for (const char* path : {"/ui", "/ui/events"}) {
    HttpResponse r = HttpRequest(bridge->admin_port(), "GET", path, "", {}, absl::Seconds(10));
    EXPECT_EQ(r.status, 403) << path << ": " << r.error << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "\"error\":\"permission_denied\"")) << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "--admin_keys_file")) << r.body;
    // Not even a key-shaped guess gets in.
    HttpResponse guess =
        HttpRequest(bridge->admin_port(), "GET", path, "",
                    {{"Authorization", "Bearer anything-at-all-000"}}, absl::Seconds(10));
    EXPECT_EQ(guess.status, 403) << path << ": " << guess.error << guess.body;
  }
}

// Connects to `target` and reads the response head; the status (0: none).
int HeadStatus(SseClient* c, int port, const std::string& target, const SseClientOptions& options) {
  if (!c->Connect(port, target, options) || !c->ReadHead(absl::Seconds(20))) return 0;
  return c->status();
}

// Issue 16, finding 7: viewers of the status feed are streams like any other
// and are charged to their address and to --max_connections.
TEST_F(StatusPageTest, FeedStreamsCountAgainstThePerAddressLimit) {
  StartWithAdminKeys({"--max_connections_per_ip=2"});
  SseClientOptions auth;
  auth.headers = {{"Authorization", absl::StrCat("Bearer ", kAdminKey)}};
  SseClient v1, v2, v3, reader;
  ASSERT_TRUE(v1.Open(admin(), "/ui/events", auth)) << v1.Describe();
  ASSERT_TRUE(v2.Open(admin(), "/ui/events", auth)) << v2.Describe();
  EXPECT_EQ(HeadStatus(&v3, admin(), "/ui/events", auth), 429) << v3.Describe();
  EXPECT_TRUE(v3.Header("Retry-After").has_value()) << v3.Describe();
  // The address's budget is shared with /v1/events.
  EXPECT_EQ(HeadStatus(&reader, port(), "/v1/events?channel=news", {}), 429) << reader.Describe();
  // A viewer that leaves gives its slot back.
  v1.Close();
  const absl::Time end = absl::Now() + absl::Seconds(20);
  bool reopened = false;
  while (!reopened && absl::Now() < end) {
    SseClient again;
    reopened = HeadStatus(&again, admin(), "/ui/events", auth) == 200;
    if (!reopened) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(reopened);
}

TEST_F(StatusPageTest, FeedStreamsCountAgainstMaxConnections) {
  StartWithAdminKeys({"--max_connections=2"});
  SseClientOptions auth;
  auth.headers = {{"Authorization", absl::StrCat("Bearer ", kAdminKey)}};
  SseClient v1, v2, v3, reader;
  ASSERT_TRUE(v1.Open(admin(), "/ui/events", auth)) << v1.Describe();
  ASSERT_TRUE(v2.Open(admin(), "/ui/events", auth)) << v2.Describe();
  EXPECT_EQ(HeadStatus(&v3, admin(), "/ui/events", auth), 503) << v3.Describe();
  EXPECT_TRUE(v3.Header("Retry-After").has_value()) << v3.Describe();
  EXPECT_EQ(HeadStatus(&reader, port(), "/v1/events?channel=news", {}), 503) << reader.Describe();
  EXPECT_TRUE(reader.Header("Retry-After").has_value()) << reader.Describe();
}

}  // namespace
}  // namespace ssebridge_it
