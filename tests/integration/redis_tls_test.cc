// Redis over TLS (issue 21, item 7): a real redis-server listening with
// --tls-port and a certificate from a throwaway CA; the bridge connects with
// rediss:// through its own TLS layer under hiredis' RESP codec. Publishes,
// the pub/sub fan-out and history all go through it; a certificate that
// does not verify, a wrong name or a missing client certificate leave the
// bridge unready with the reason in its log, never connected in the clear.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_certs.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class RedisTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FindRedisServer().empty()) {
      GTEST_SKIP() << "redis-server is not installed; scripts/setup-deps.sh installs it";
    }
    ca_ = TestCa::Create("redis test CA");
    ASSERT_NE(ca_, nullptr);
    const PemPair server = ca_->Issue("redis", {"DNS:redis.internal", "IP:127.0.0.1"}, true);
    const PemPair client = ca_->Issue("bridge", {}, false);
    ca_file_ = dir_.Write("ca.pem", ca_->cert_pem());
    server_cert_ = dir_.Write("redis.crt", server.cert);
    server_key_ = dir_.Write("redis.key", server.key);
    client_cert_ = dir_.Write("client.crt", client.cert);
    client_key_ = dir_.Write("client.key", client.key);
  }

  void StartRedis(bool require_client_cert) {
    StartRedisWith(server_cert_, server_key_, require_client_cert);
  }
  void StartRedisWith(const std::string& cert, const std::string& key, bool require_client_cert) {
    redis_.EnableTls(cert, key, ca_file_, require_client_cert);
    std::string error;
    ASSERT_TRUE(redis_.Start(&error)) << error;
  }

  std::vector<std::string> Flags(std::vector<std::string> extra) const {
    std::vector<std::string> f = {"--broker=redis", "--redis_url=" + redis_.tls_url(),
                                  "--redis_reconnect_min=50ms", "--redis_reconnect_max=200ms"};
    f.insert(f.end(), extra.begin(), extra.end());
    return f;
  }

  // A bridge that must never become ready; its log names `needle`.
  void ExpectUnready(std::vector<std::string> flags, const std::string& needle) {
    auto bridge = StartBridge(Flags(std::move(flags)));
    ASSERT_NE(bridge, nullptr);
    EXPECT_TRUE(bridge->WaitForLog(needle, kWait)) << bridge->LogText();
    EXPECT_EQ(ReadyStatus(bridge->http_port()), 503);
    GrpcClient grpc(bridge->grpc_port());
    v1::PublishResponse response;
    const grpc::Status s = grpc.Publish(MakePublish("c", "x"), &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }

  // Ready, then 100 events of 8 KiB (each a few TLS records) published and
  // read back over SSE in order: the command pool and the fan-out's
  // subscription both speak TLS.
  void ExpectWorks(std::vector<std::string> flags) {
    auto bridge = StartBridge(Flags(std::move(flags)));
    ASSERT_NE(bridge, nullptr);
    const absl::Time end = absl::Now() + kWait;
    while (ReadyStatus(bridge->http_port()) != 200) {
      ASSERT_LT(absl::Now(), end) << bridge->LogText();
      absl::SleepFor(absl::Milliseconds(20));
    }
    SseClient reader;
    ASSERT_TRUE(OpenAttached(&reader, bridge->http_port(), EventsTarget({"tls"})));
    GrpcClient grpc(bridge->grpc_port());
    std::vector<std::string> sent;
    for (int i = 0; i < 100; ++i) {
      sent.push_back(absl::StrCat(i, ":", std::string(8 * 1024, static_cast<char>('a' + i % 26))));
      grpc.MustPublish("tls", sent.back());
    }
    ASSERT_TRUE(reader.WaitForEvents(sent.size(), kWait)) << reader.Describe();
    EXPECT_EQ(EventDatas(reader.events()), sent);
    // History comes back through TLS too: a resume from the first event.
    SseClient resumed;
    SseClientOptions o;
    o.headers.emplace_back("Last-Event-ID", reader.events()[0].id);
    ASSERT_TRUE(resumed.Open(bridge->http_port(), EventsTarget({"tls"}), o));
    ASSERT_TRUE(resumed.WaitForEvents(sent.size() - 1, kWait)) << resumed.Describe();
    EXPECT_EQ(resumed.events().back().data, sent.back());
  }

  std::unique_ptr<TestCa> ca_;
  TempDir dir_;
  RedisServer redis_;
  std::string ca_file_, server_cert_, server_key_, client_cert_, client_key_;
};

TEST_F(RedisTlsTest, PublishFanOutAndHistoryGoThroughTls) {
  StartRedis(/*require_client_cert=*/false);
  ExpectWorks({"--redis_tls_ca_file=" + ca_file_});
}

TEST_F(RedisTlsTest, ClientCertificateForARedisThatRequiresOne) {
  StartRedis(/*require_client_cert=*/true);
  ExpectWorks({"--redis_tls_ca_file=" + ca_file_, "--redis_tls_cert_file=" + client_cert_,
               "--redis_tls_key_file=" + client_key_});
  // Without one Redis ends the session; the bridge says so and stays unready.
  ExpectUnready({"--redis_tls_ca_file=" + ca_file_}, "redis_unavailable");
}

TEST_F(RedisTlsTest, ACertificateThatDoesNotVerifyIsNeverUsed) {
  StartRedis(/*require_client_cert=*/false);
  std::unique_ptr<TestCa> other = TestCa::Create("other CA");
  ASSERT_NE(other, nullptr);
  const std::string other_ca = dir_.Write("other-ca.pem", other->cert_pem());
  ExpectUnready({"--redis_tls_ca_file=" + other_ca}, "certificate does not verify");
}

TEST_F(RedisTlsTest, TheServerNameIsChecked) {
  StartRedis(/*require_client_cert=*/false);
  ExpectUnready({"--redis_tls_ca_file=" + ca_file_, "--redis_tls_server_name=cache.example"},
                "certificate does not verify for cache.example");
  ExpectWorks({"--redis_tls_ca_file=" + ca_file_, "--redis_tls_server_name=redis.internal"});
}

TEST_F(RedisTlsTest, AnAddressMustBeInTheCertificateItself) {
  // Issued for a name only: reached by its IP address it does not verify,
  // and a certificate that names its host only in the subject's CN does not
  // either (only subjectAltName counts).
  const PemPair dns_only = ca_->Issue("127.0.0.1", {"DNS:redis.internal"}, true);
  StartRedisWith(dir_.Write("dns.crt", dns_only.cert), dir_.Write("dns.key", dns_only.key),
                 /*require_client_cert=*/false);
  ExpectUnready({"--redis_tls_ca_file=" + ca_file_}, "certificate does not verify for 127.0.0.1");
  ExpectWorks({"--redis_tls_ca_file=" + ca_file_, "--redis_tls_server_name=redis.internal"});
}

TEST_F(RedisTlsTest, AFrozenRedisTimesOutOverTlsAsOverTcp) {
  StartRedis(/*require_client_cert=*/false);
  auto bridge =
      StartBridge(Flags({"--redis_tls_ca_file=" + ca_file_, "--redis_command_timeout=1500ms"}));
  ASSERT_NE(bridge, nullptr);
  auto ready = [&] { return ReadyStatus(bridge->http_port()) == 200; };
  const absl::Time end = absl::Now() + kWait;
  while (!ready()) {
    ASSERT_LT(absl::Now(), end) << bridge->LogText();
    absl::SleepFor(absl::Milliseconds(20));
  }
  GrpcClient grpc(bridge->grpc_port());
  grpc.MustPublish("c", "before");
  redis_.Freeze();
  v1::PublishResponse response;
  const grpc::Status s = grpc.Publish(MakePublish("c", "during"), &response);
  redis_.Thaw();
  // Sent and unanswered: outcome unknown, and the message says it timed out.
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "timed out after 1.5s")) << s.error_message();
  const absl::Time back = absl::Now() + kWait;
  while (!ready()) {
    ASSERT_LT(absl::Now(), back) << bridge->LogText();
    absl::SleepFor(absl::Milliseconds(20));
  }
  grpc.MustPublish("c", "after");
}

TEST_F(RedisTlsTest, BadTlsSettingsStopStartupNamingTheFlag) {
  struct Case {
    std::vector<std::string> flags;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"--broker=redis", "--redis_url=rediss://127.0.0.1:1/0",
        "--redis_tls_ca_file=/nonexistent/ca.pem"},
       "--redis_tls_ca_file"},
      {{"--broker=redis", "--redis_url=rediss://127.0.0.1:1/0",
        "--redis_tls_cert_file=" + client_cert_},
       "--redis_tls_key_file"},
      {{"--broker=redis", "--redis_url=rediss://127.0.0.1:1/0",
        "--redis_tls_cert_file=" + client_cert_, "--redis_tls_key_file=" + ca_file_},
       "--redis_tls_key_file"},
      {{"--broker=redis", "--redis_url=redis://127.0.0.1:1/0", "--redis_tls_ca_file=" + ca_file_},
       "not rediss://"},
  };
  for (const Case& c : cases) ExpectRefusesToStart(c.flags, c.needle);
}

}  // namespace
}  // namespace ssebridge_it
