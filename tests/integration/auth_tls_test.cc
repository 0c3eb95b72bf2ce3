// TLS and mTLS on the gRPC port (issue 4), with a CA and certificates made
// at test start.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/test_certs.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class AuthTlsTest : public AuthTest {
 protected:
  void SetUp() override {
    ca_ = TestCa::Create("ssebridge test CA");
    ASSERT_NE(ca_, nullptr);
    server_ = ca_->Issue("ssebridge", {"DNS:localhost", "IP:127.0.0.1"}, true);
    client_ = ca_->Issue("backend-1", {}, false);
    ASSERT_FALSE(server_.cert.empty());
    ASSERT_FALSE(client_.cert.empty());
    ca_file_ = dir_.Write("ca.pem", ca_->cert_pem());
    cert_file_ = dir_.Write("server.pem", server_.cert);
    key_file_ = dir_.Write("server.key", server_.key);
  }

  std::vector<std::string> TlsFlags(bool mtls) const {
    std::vector<std::string> f = {absl::StrCat("--grpc_tls_cert_file=", cert_file_),
                                  absl::StrCat("--grpc_tls_key_file=", key_file_)};
    if (mtls) f.push_back(absl::StrCat("--grpc_tls_client_ca_file=", ca_file_));
    return f;
  }

  // A TLS channel trusting `root` (the test CA unless given), presenting
  // `client` when it has a certificate.
  std::shared_ptr<grpc::Channel> TlsChannel(const PemPair& client = {},
                                            const std::string& root = "") const {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = root.empty() ? ca_->cert_pem() : root;
    o.pem_private_key = client.key;
    o.pem_cert_chain = client.cert;
    grpc::ChannelArguments args;
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", bridge_->grpc_port()),
                                     grpc::SslCredentials(o), args);
  }

  // A publish that must not hang: fails fast instead of waiting for ready.
  grpc::Status QuickPublish(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& data) {
    auto stub = v1::Publisher::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", keys().backend_key));
    v1::PublishResponse r;
    return stub->Publish(&ctx, MakePublish("tasks", data), &r);
  }

  TempDir dir_;
  std::unique_ptr<TestCa> ca_;
  PemPair server_, client_;
  std::string ca_file_, cert_file_, key_file_;
};

TEST_F(AuthTlsTest, TlsClientPublishesPlaintextClientFails) {
  ASSERT_TRUE(Start(TlsFlags(false)));
  EXPECT_TRUE(bridge_->WaitForLog("\"grpc_tls\":\"tls\"", absl::Seconds(1)));
  SseClient sub;
  ASSERT_TRUE(sub.Open(http_port(), EventsTarget({"tasks"}),
                       BearerOptions(keys().UserToken("ann", {"tasks"}))))
      << sub.error();
  grpc::Status s = QuickPublish(TlsChannel(), "over-tls");
  ASSERT_TRUE(s.ok()) << StatusText(s);
  ASSERT_TRUE(sub.WaitForData("over-tls", kWait)) << sub.Describe();
  // Also with a client certificate nobody asked for.
  EXPECT_TRUE(QuickPublish(TlsChannel(client_), "with-cert").ok());

  s = QuickPublish(InsecureChannel(bridge_->grpc_port()), "plaintext");
  EXPECT_FALSE(s.ok());
  // A client that does not trust the server's CA refuses it.
  std::unique_ptr<TestCa> other = TestCa::Create("other CA");
  ASSERT_NE(other, nullptr);
  s = QuickPublish(TlsChannel({}, other->cert_pem()), "untrusted");
  EXPECT_FALSE(s.ok());
  // Auth still applies over TLS.
  {
    auto stub = v1::Publisher::NewStub(TlsChannel());
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::PublishResponse r;
    EXPECT_EQ(stub->Publish(&ctx, MakePublish("tasks", "anon"), &r).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  ASSERT_TRUE(QuickPublish(TlsChannel(), "marker").ok());
  ASSERT_TRUE(sub.WaitForData("marker", kWait)) << sub.Describe();
  EXPECT_EQ(EventDatas(sub.events()),
            (std::vector<std::string>{"over-tls", "with-cert", "marker"}));
}

TEST_F(AuthTlsTest, MutualTlsNeedsAClientCertificateFromTheConfiguredCa) {
  ASSERT_TRUE(Start(TlsFlags(true)));
  EXPECT_TRUE(bridge_->WaitForLog("\"grpc_tls\":\"mtls\"", absl::Seconds(1)));
  grpc::Status s = QuickPublish(TlsChannel(client_), "with-cert");
  EXPECT_TRUE(s.ok()) << StatusText(s);
  s = QuickPublish(TlsChannel(), "no-cert");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(QuickPublish(InsecureChannel(bridge_->grpc_port()), "plaintext").ok());
  // A certificate from another CA is refused.
  std::unique_ptr<TestCa> other = TestCa::Create("other CA");
  ASSERT_NE(other, nullptr);
  s = QuickPublish(TlsChannel(other->Issue("intruder", {}, false)), "foreign-cert");
  EXPECT_FALSE(s.ok());
  // And a bridge given no readable certificate does not start.
  BridgeOptions bad;
  bad.flags = {absl::StrCat("--grpc_tls_cert_file=", dir_.path(), "/missing.pem"),
               absl::StrCat("--grpc_tls_key_file=", key_file_)};
  BridgeProcess p(bad);
  std::string error;
  EXPECT_FALSE(p.Start(&error));
}

}  // namespace
}  // namespace ssebridge_it
