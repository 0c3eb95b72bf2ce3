// The ssebridge-publish CLI end to end: the real binary, the real bridge,
// the SSE stream read over a real socket.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness/bridge_process.h"
#include "tests/harness/sse_client.h"

namespace {

using ssebridge_client_test::CliResult;
using ssebridge_client_test::RunCli;
using ssebridge_client_test::TempDir;
using ssebridge_it::BridgeProcess;
using ssebridge_it::SseClient;
using ssebridge_it::StartBridge;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge();
    ASSERT_NE(bridge_, nullptr);
    target_ = absl::StrCat("--target=", bridge_->grpc_target());
  }
  std::unique_ptr<BridgeProcess> bridge_;
  std::string target_;
};

TEST_F(CliTest, PublishesOneEventAndPrintsItsAck) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=tasks")) << sse.Describe();
  CliResult r =
      RunCli({target_, "--channel", "tasks", "--event", "taskDone", "--data", R"({"id":1})"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_EQ(r.OutLines().size(), 1u) << r.Describe();
  nlohmann::json ack = nlohmann::json::parse(r.OutLines()[0]);
  ASSERT_TRUE(ack["id"].is_string()) << r.out;
  EXPECT_EQ(ack["subscribers"], 1);
  EXPECT_EQ(ack["replayed"], false);
  ASSERT_TRUE(sse.WaitForEvents(1, absl::Seconds(10))) << sse.Describe();
  EXPECT_EQ(sse.events()[0].id, ack["id"].get<std::string>());
  EXPECT_EQ(sse.events()[0].event, "taskDone");
  EXPECT_EQ(sse.events()[0].data, R"({"id":1})");
}

TEST_F(CliTest, TargetedEventReachesNoAnonymousStream) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=tasks")) << sse.Describe();
  CliResult r = RunCli({target_, "--channel=tasks", "--data=secret", "--user=u1"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  CliResult open = RunCli({target_, "--channel=tasks", "--data=public"});
  ASSERT_EQ(open.exit_code, 0) << open.Describe();
  ASSERT_TRUE(sse.WaitForEvents(1, absl::Seconds(10))) << sse.Describe();
  sse.ReadFor(absl::Milliseconds(200));
  ASSERT_EQ(sse.events().size(), 1u);
  EXPECT_EQ(sse.events()[0].data, "public");
}

TEST_F(CliTest, StdinJsonLinesGoOverOneStreamInOrder) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=tasks&channel=other"))
      << sse.Describe();
  std::string input =
      "{\"data\":{\"id\":1},\"event\":\"taskDone\"}\n"
      "\n"
      "{\"channel\":\"other\",\"data\":\"plain\"}\n"
      "{\"data\":\"[3]\",\"idempotencyKey\":\"k3\"}\n";
  CliResult r = RunCli({target_, "--stdin", "--channel=tasks", "--max_in_flight=2"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), 3u) << r.Describe();
  std::vector<int> numbers;
  std::vector<std::string> ids;
  for (const auto& l : lines) {
    nlohmann::json j = nlohmann::json::parse(l);
    numbers.push_back(j["line"].get<int>());
    ids.push_back(j["id"].get<std::string>());
  }
  EXPECT_EQ(numbers, (std::vector<int>{1, 3, 4}));
  ASSERT_TRUE(sse.WaitForEvents(3, absl::Seconds(10))) << sse.Describe();
  EXPECT_EQ(sse.events()[0].data, R"({"id":1})");
  EXPECT_EQ(sse.events()[0].event, "taskDone");
  EXPECT_EQ(sse.events()[1].data, "plain");
  EXPECT_EQ(sse.events()[2].data, "[3]");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sse.events()[i].id, ids[i]);
}

TEST_F(CliTest, BadLinesAreReportedAndTheRestIsPublished) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=tasks")) << sse.Describe();
  std::string input =
      "{\"data\":\"one\"}\n"
      "{not json\n"
      "{\"channel\":\"bad channel\",\"data\":\"x\"}\n"
      "{\"data\":\"two\",\"colour\":\"red\"}\n"
      "{\"event\":\"e\"}\n"
      "[1,2]\n"
      "{\"data\":\"three\"}\n";
  CliResult r = RunCli({target_, "--stdin", "--channel=tasks"}, input);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "line 2: not valid JSON")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "line 3: INVALID_ARGUMENT: channel")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "line 4: unknown field \"colour\"")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "line 5: \"data\" is missing")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "line 6: not a JSON object")) << r.err;
  EXPECT_EQ(r.OutLines().size(), 2u) << r.Describe();
  ASSERT_TRUE(sse.WaitForEvents(2, absl::Seconds(10))) << sse.Describe();
  EXPECT_EQ(sse.events()[0].data, "one");
  EXPECT_EQ(sse.events()[1].data, "three");
}

TEST_F(CliTest, BatchStreamSendsBatchesOfLinesOverOneStreamInOrder) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=bs")) << sse.Describe();
  std::string input;
  for (int i = 1; i <= 7; ++i) input += absl::StrCat("{\"data\":\"", i, "\"}\n");
  CliResult r = RunCli(
      {target_, "--stdin", "--batch_stream", "--batch_size=3", "--max_in_flight=1", "--channel=bs"},
      input);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), 7u) << r.Describe();
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    nlohmann::json j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j["line"].get<int>(), i + 1);
    ids.push_back(j["id"].get<std::string>());
  }
  ASSERT_TRUE(sse.WaitForEvents(7, absl::Seconds(10))) << sse.Describe();
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(sse.events()[i].id, ids[i]);
    EXPECT_EQ(sse.events()[i].data, absl::StrCat(i + 1));
  }
}

TEST_F(CliTest, BatchStreamReportsARefusedLineAsPublishDoesAndSendsTheRest) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=bs")) << sse.Describe();
  std::string input =
      "{\"data\":\"one\"}\n"
      "{not json\n"
      "{\"channel\":\"bad channel\",\"data\":\"x\"}\n"
      "\n"
      "{\"data\":\"two\"}\n"
      "{\"data\":\"three\"}\n";
  CliResult r =
      RunCli({target_, "--stdin", "--batch_stream", "--batch_size=2", "--channel=bs"}, input);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "line 2: not valid JSON")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "line 3: INVALID_ARGUMENT: channel")) << r.err;
  // The same words as a single publish of that channel.
  CliResult single = RunCli({target_, "--channel=bad channel", "--data=x"});
  const std::string expected = single.err.substr(single.err.find("INVALID_ARGUMENT"));
  EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat("line 3: ", expected))) << r.err;
  std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), 3u) << r.Describe();
  EXPECT_EQ(nlohmann::json::parse(lines[0])["line"], 1);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["line"], 5);
  EXPECT_EQ(nlohmann::json::parse(lines[2])["line"], 6);
  ASSERT_TRUE(sse.WaitForEvents(3, absl::Seconds(10))) << sse.Describe();
  EXPECT_EQ(sse.events()[0].data, "one");
  EXPECT_EQ(sse.events()[1].data, "two");
  EXPECT_EQ(sse.events()[2].data, "three");
}

TEST_F(CliTest, RejectedPublishExitsOneWithTheBridgesMessage) {
  CliResult r = RunCli({target_, "--channel=bad channel", "--data=x"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "INVALID_ARGUMENT: channel")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(CliUsageTest, BadUsageExitsTwoWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--data=x"}, "--channel is required"},
      {{"--channel=a"}, "--data is required"},
      {{"--channel=a", "--data=x", "--stdin"}, "give --data or --stdin, not both"},
      {{"--channel=a", "--data=x", "extra"}, "unexpected argument \"extra\""},
      {{"--channel=a", "--data=x", "--tls_ca_file=/nonexistent"}, "--tls_ca_file needs --tls"},
      {{"--channel=a", "--data=x", "--tls", "--tls_ca_file=/nonexistent/ca.pem"},
       "--tls_ca_file: cannot read /nonexistent/ca.pem"},
      {{"--channel=a", "--data=x", "--token_file=/nonexistent"}, "--token_file: cannot read"},
      {{"--channel=a", "--data=x", "--max_in_flight=0"}, "max_in_flight"},
      {{"--channel=a", "--data=x", "--tls", "--tls_key_file=/dev/null"},
       "give both --tls_cert_file and --tls_key_file"},
      {{"--channel=a", "--data=x", "--batch_stream"}, "--batch_stream needs --stdin"},
      {{"--stdin", "--batch", "--batch_stream"}, "give --batch or --batch_stream, not both"},
      {{"--stdin", "--batch_stream", "--batch_size=1001"}, "--batch_size must be 1 to 1000"},
      {{"--stdin", "--batch_stream", "--batch_size=0"}, "--batch_size must be 1 to 1000"},
  };
  for (const auto& c : cases) {
    CliResult r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message << "\n" << r.Describe();
    EXPECT_TRUE(absl::StrContains(r.err, c.message)) << c.message << "\n" << r.Describe();
  }
  CliResult unknown = RunCli({"--channel=a", "--data=x", "--colour=red"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(unknown.err, "colour")) << unknown.Describe();
}

TEST(CliUsageTest, UnreachableBridgeExitsOne) {
  CliResult r = RunCli({"--target=127.0.0.1:1", "--channel=a", "--data=x", "--timeout=2s"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "UNAVAILABLE") ||
              absl::StrContains(r.err, "DEADLINE_EXCEEDED"))
      << r.err;
}

TEST(CliAuthTest, TokenFileAuthenticatesAndABadTokenFails) {
  TempDir dir;
  const std::string key = "cli-test-key-0123456789";
  auto bridge =
      StartBridge({absl::StrCat("--publisher_keys_file=", dir.Write("keys", "cli " + key + "\n"))});
  ASSERT_NE(bridge, nullptr);
  std::string target = absl::StrCat("--target=", bridge->grpc_target());
  std::string good = dir.Write("good", key + "\n");
  std::string bad = dir.Write("bad", "wrong-key-0123456789\n");

  CliResult ok = RunCli({target, "--channel=a", "--data=x", "--token_file=" + good});
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
  CliResult anon = RunCli({target, "--channel=a", "--data=x"});
  EXPECT_EQ(anon.exit_code, 1) << anon.Describe();
  EXPECT_TRUE(absl::StrContains(anon.err, "UNAUTHENTICATED")) << anon.err;
  CliResult stream = RunCli({target, "--stdin", "--channel=a", "--token_file=" + bad},
                            "{\"data\":\"1\"}\n{\"data\":\"2\"}\n");
  EXPECT_EQ(stream.exit_code, 1) << stream.Describe();
  EXPECT_TRUE(absl::StrContains(stream.err, "stream failed: UNAUTHENTICATED")) << stream.err;
  CliResult stream_ok = RunCli({target, "--stdin", "--channel=a", "--token=" + key},
                               "{\"data\":\"1\"}\n{\"data\":\"2\"}\n");
  EXPECT_EQ(stream_ok.exit_code, 0) << stream_ok.Describe();
  EXPECT_EQ(stream_ok.OutLines().size(), 2u);
}

TEST_F(CliTest, BatchTicketStatsAndDisconnect) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=b")) << sse.Describe();
  CliResult batch = RunCli({target_, "--stdin", "--batch", "--channel=b"},
                           "{\"data\":\"1\"}\n{\"channel\":\"bad channel\",\"data\":\"2\"}\n"
                           "{\"data\":\"3\"}\n");
  EXPECT_EQ(batch.exit_code, 1) << batch.Describe();  // line 2 was refused
  ASSERT_EQ(batch.OutLines().size(), 2u) << batch.Describe();
  EXPECT_EQ(nlohmann::json::parse(batch.OutLines()[0])["line"], 1);
  EXPECT_EQ(nlohmann::json::parse(batch.OutLines()[1])["line"], 3);
  EXPECT_TRUE(absl::StrContains(batch.err, "line 2: INVALID_ARGUMENT")) << batch.err;
  ASSERT_TRUE(sse.WaitForEvents(2, absl::Seconds(10))) << sse.Describe();

  CliResult ticket = RunCli({target_, "--issue_ticket=alice", "--channels=b", "--ttl=20s"});
  ASSERT_EQ(ticket.exit_code, 0) << ticket.Describe();
  const std::string t = nlohmann::json::parse(ticket.out)["ticket"].get<std::string>();
  SseClient alice;
  ASSERT_TRUE(alice.Open(bridge_->http_port(), absl::StrCat("/v1/events?channel=b&ticket=", t)))
      << alice.Describe();

  // Admin is served on the internal port; the public one does not have it.
  const std::string admin_target = absl::StrCat("--target=127.0.0.1:", bridge_->admin_port());
  CliResult missing = RunCli({target_, "--stats"});
  EXPECT_EQ(missing.exit_code, 1) << missing.Describe();
  EXPECT_TRUE(absl::StrContains(missing.err, "UNIMPLEMENTED")) << missing.err;
  CliResult stats = RunCli({admin_target, "--stats", "--max_channels=5"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  nlohmann::json s = nlohmann::json::parse(stats.out);
  EXPECT_EQ(s["connections"], 2);
  EXPECT_EQ(s["published"], 2);
  EXPECT_FALSE(s.contains("fleet")) << stats.out;
  // --fleet: with --broker=memory one replica, whose numbers are the line's.
  CliResult fleet = RunCli({admin_target, "--stats", "--fleet"});
  ASSERT_EQ(fleet.exit_code, 0) << fleet.Describe();
  ASSERT_EQ(fleet.OutLines().size(), 1u) << fleet.Describe();
  nlohmann::json f = nlohmann::json::parse(fleet.out);
  ASSERT_EQ(f["fleet"]["replicas"].size(), 1u) << fleet.out;
  const nlohmann::json& here = f["fleet"]["replicas"][0];
  const nlohmann::json& total = f["fleet"]["total"];
  for (const char* key : {"connections", "grpc_subscribers", "channels", "users", "published"}) {
    EXPECT_EQ(here[key], f[key]) << key << ": " << fleet.out;
    EXPECT_EQ(total[key], f[key]) << key << ": " << fleet.out;
  }
  EXPECT_EQ(here["published"], 2);
  EXPECT_TRUE(here.contains("reported_at")) << fleet.out;
  EXPECT_FALSE(total.contains("reported_at")) << fleet.out;
  EXPECT_EQ(f["fleet"]["error"], "");
  CliResult ended = RunCli({admin_target, "--disconnect_user=alice"});
  ASSERT_EQ(ended.exit_code, 0) << ended.Describe();
  EXPECT_EQ(nlohmann::json::parse(ended.out)["disconnected"], 1);

  CliResult usage = RunCli({target_, "--stats", "--channel=b"});
  EXPECT_EQ(usage.exit_code, 2) << usage.Describe();
  CliResult fleet_alone = RunCli({admin_target, "--fleet"});
  EXPECT_EQ(fleet_alone.exit_code, 2) << fleet_alone.Describe();
  EXPECT_TRUE(absl::StrContains(fleet_alone.err, "--fleet needs --stats")) << fleet_alone.err;
  CliResult down = RunCli({"--target=127.0.0.1:1", "--timeout=2s", "--stats"});
  EXPECT_EQ(down.exit_code, 1) << down.Describe();
  EXPECT_TRUE(absl::StrContains(down.err, "UNAVAILABLE")) << down.err;
}

}  // namespace
