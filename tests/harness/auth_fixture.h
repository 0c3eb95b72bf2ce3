// auth_fixture: shared pieces of the auth integration tests (issue 4): keys
// generated at test start and written to a temp dir for the bridge's key
// files, gRPC calls carrying `authorization: Bearer ...`, and checks of the
// HTTP door's JSON errors.
#ifndef SSEBRIDGE_TESTS_HARNESS_AUTH_FIXTURE_H_
#define SSEBRIDGE_TESTS_HARNESS_AUTH_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ssebridge/v1/bridge.grpc.pb.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/jwt_signer.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/temp_dir.h"

namespace ssebridge_it {

// Every key a bridge with auth on is given, generated once per process.
//   JWT kids: hs1, hs2 (HS256; two kids = rotation), rs1 (RS256), es1 (ES256).
//   Publishers: "backend" (every channel), "tasks_only" (tasks*),
//   "hashed" (stored as sha256:<hex>, every channel). Admin: "ops".
struct AuthKeys {
  AuthKeys();
  static const AuthKeys& Get();

  TempDir dir;
  std::string hs1_secret, hs2_secret;
  std::unique_ptr<TestKeyPair> rsa, ec;
  std::string backend_key, tasks_key, hashed_key, admin_key;
  std::string jwt_keys_file, publisher_keys_file, admin_keys_file;

  // --jwt_keys_file, --publisher_keys_file, --admin_keys_file.
  std::vector<std::string> Flags() const;
  // An HS256 (kid hs1) subscriber token.
  std::string UserToken(const std::string& sub, std::vector<std::string> channels,
                        absl::Duration ttl = absl::Minutes(10)) const;
  std::string Hs1(const JwtClaims& claims) const;
};

HeaderList BearerHeader(const std::string& token);
SseClientOptions WithHeaders(HeaderList headers);
// Bearer token, plus Last-Event-ID when `last_event_id` is non-empty.
SseClientOptions BearerOptions(const std::string& token, const std::string& last_event_id = "");
// "/v1/events?channel=..&ticket=.."
std::string TicketTarget(const std::vector<std::string>& channels, const std::string& ticket);

// A GET /v1/events that is expected to be refused (a 200 would be read
// until the timeout: keep it short).
HttpResponse GetEvents(int port, const std::string& target, const HeaderList& headers = {},
                       absl::Duration timeout = absl::Seconds(10));
// status, JSON body {"error": error, "message": ...} with `needle` in the
// message (when non-empty), Content-Type application/json.
void ExpectJsonError(const HttpResponse& r, int status, const std::string& error,
                     const std::string& needle = "");

v1::PublishRequest Targeted(const std::string& channel, const std::string& data,
                            const std::vector<std::string>& users);

// A PublishStream call: one request, then its response.
class PublishStreamer {
 public:
  PublishStreamer(v1::Publisher::Stub* stub, const std::string& credential);
  // False when the stream broke (then Finish() tells why).
  bool Send(const v1::PublishRequest& request, v1::PublishResponse* response);
  // Sends `request` and records a failure unless it was accepted; the id.
  std::string MustSend(const v1::PublishRequest& request);
  grpc::Status Finish();

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PublishRequest, v1::PublishResponse>> stream_;
  bool finished_ = false;
  grpc::Status status_;
};

// Calls on any of the bridge's services with `credential` ("" = none).
class AuthedGrpc {
 public:
  AuthedGrpc(std::shared_ptr<grpc::Channel> channel, std::string credential);
  grpc::Status Publish(const v1::PublishRequest& request, v1::PublishResponse* response);
  grpc::Status IssueTicket(const std::string& user, const std::vector<std::string>& channels,
                           uint32_t ttl_seconds, v1::IssueTicketResponse* response);
  // The ticket, or "" with a test failure.
  std::string MustIssueTicket(const std::string& user, const std::vector<std::string>& channels,
                              uint32_t ttl_seconds = 30);
  grpc::Status DisconnectUser(const std::string& user, v1::DisconnectUserResponse* response);
  grpc::Status GetStats(v1::Stats* stats, uint32_t max_channels = 0);
  std::unique_ptr<PublishStreamer> Stream();
  // OK when Subscribe delivers its first message; else the call's status.
  grpc::Status SubscribeStatus(const std::vector<std::string>& channels);

 private:
  void Prepare(grpc::ClientContext* ctx) const;
  std::shared_ptr<grpc::Channel> channel_;
  std::string credential_;
  std::unique_ptr<v1::Publisher::Stub> publisher_;
  std::unique_ptr<v1::Subscriber::Stub> subscriber_;
  std::unique_ptr<v1::Tickets::Stub> tickets_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

std::shared_ptr<grpc::Channel> InsecureChannel(int port);

std::string StatusText(const grpc::Status& s);

// Starts bridges and hands out credentials.
class AuthTest : public ::testing::Test {
 protected:
  const AuthKeys& keys() const { return AuthKeys::Get(); }
  // A bridge with every key of AuthKeys plus `extra` flags.
  bool Start(std::vector<std::string> extra = {});
  // A bridge with exactly `flags` (dev mode unless they add keys).
  bool StartWith(std::vector<std::string> flags);
  // Stops the bridge and checks it exited cleanly: status 0 and no
  // sanitizer report (leaks show only at exit).
  void StopBridge();
  void TearDown() override { StopBridge(); }
  int http_port() const { return bridge_->http_port(); }
  AuthedGrpc As(const std::string& credential) const { return AuthedGrpc(channel_, credential); }
  // gRPC on the internal port (--admin_port), where Admin is served.
  AuthedGrpc OnAdminPort(const std::string& credential) const {
    return AuthedGrpc(admin_channel_, credential);
  }
  AuthedGrpc Backend() const { return As(keys().backend_key); }
  AuthedGrpc Admin() const { return OnAdminPort(keys().admin_key); }

  std::unique_ptr<BridgeProcess> bridge_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<grpc::Channel> admin_channel_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_AUTH_FIXTURE_H_
