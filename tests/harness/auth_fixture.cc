#include "tests/harness/auth_fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/harness/json_util.h"

namespace ssebridge_it {

AuthKeys::AuthKeys() {
  hs1_secret = RandomHex(32);  // 64 characters, above the 32-byte minimum
  hs2_secret = RandomHex(32);
  rsa = TestKeyPair::Rsa(2048);
  ec = TestKeyPair::EcP256();
  backend_key = absl::StrCat("pk_backend_", RandomHex(16));
  tasks_key = absl::StrCat("pk_tasks_", RandomHex(16));
  hashed_key = absl::StrCat("pk_hashed_", RandomHex(16));
  admin_key = absl::StrCat("ak_ops_", RandomHex(16));
  if (!rsa || !ec) return;
  dir.Write("hs1.secret", hs1_secret + "\n");
  dir.Write("hs2.secret", hs2_secret);
  dir.Write("rs1.pem", rsa->PublicPem());
  dir.Write("es1.pem", ec->PublicPem());
  jwt_keys_file = dir.Write("jwt_keys",
                            "# kid alg path\n"
                            "hs1 HS256 hs1.secret\n"
                            "hs2 HS256 hs2.secret\n"
                            "rs1 RS256 rs1.pem\n"
                            "es1 ES256 es1.pem\n");
  publisher_keys_file = dir.Write(
      "publishers", absl::StrCat("backend ", backend_key, "\n", "tasks_only ", tasks_key,
                                 " tasks*\n", "hashed sha256:", Sha256Hex(hashed_key), "\n"));
  admin_keys_file = dir.Write("admins", absl::StrCat("ops ", admin_key, "\n"));
}

const AuthKeys& AuthKeys::Get() {
  static const AuthKeys keys;  // one RSA keygen per process; files go at exit
  return keys;
}

std::vector<std::string> AuthKeys::Flags() const {
  return {absl::StrCat("--jwt_keys_file=", jwt_keys_file),
          absl::StrCat("--publisher_keys_file=", publisher_keys_file),
          absl::StrCat("--admin_keys_file=", admin_keys_file)};
}

std::string AuthKeys::UserToken(const std::string& sub, std::vector<std::string> channels,
                                absl::Duration ttl) const {
  return Hs1(UserClaims(sub, std::move(channels), ttl));
}

std::string AuthKeys::Hs1(const JwtClaims& claims) const {
  return SignHmac("HS256", hs1_secret, "hs1", claims.Json());
}

HeaderList BearerHeader(const std::string& token) {
  return {{"Authorization", absl::StrCat("Bearer ", token)}};
}

SseClientOptions WithHeaders(HeaderList headers) {
  SseClientOptions o;
  o.headers = std::move(headers);
  return o;
}

SseClientOptions BearerOptions(const std::string& token, const std::string& last_event_id) {
  SseClientOptions o = WithHeaders(BearerHeader(token));
  if (!last_event_id.empty()) o.headers.emplace_back("Last-Event-ID", last_event_id);
  return o;
}

std::string TicketTarget(const std::vector<std::string>& channels, const std::string& ticket) {
  return absl::StrCat(EventsTarget(channels), "&ticket=", ticket);
}

HttpResponse GetEvents(int port, const std::string& target, const HeaderList& headers,
                       absl::Duration timeout) {
  HeaderList h = headers;
  h.emplace_back("Accept", "text/event-stream");
  return HttpRequest(port, "GET", target, "", h, timeout);
}

void ExpectJsonError(const HttpResponse& r, int status, const std::string& error,
                     const std::string& needle) {
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_TRUE(absl::StartsWith(r.Header("Content-Type").value_or(""), "application/json"))
      << r.Header("Content-Type").value_or("(none)");
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJsonObject(r.body, &json)) << "not a JSON object: " << r.body;
  EXPECT_EQ(JsonString(json, "error"), error) << r.body;
  EXPECT_TRUE(HasJsonString(json, "message")) << r.body;
  if (!needle.empty()) {
    EXPECT_TRUE(absl::StrContains(JsonString(json, "message"), needle))
        << "message should mention \"" << needle << "\": " << r.body;
  }
}

v1::PublishRequest Targeted(const std::string& channel, const std::string& data,
                            const std::vector<std::string>& users) {
  v1::PublishRequest r = MakePublish(channel, data);
  for (const auto& u : users) r.add_user_ids(u);
  return r;
}

std::string StatusText(const grpc::Status& s) {
  return absl::StrCat("code ", s.error_code(), ": ", s.error_message());
}

PublishStreamer::PublishStreamer(v1::Publisher::Stub* stub, const std::string& credential) {
  context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  context_.set_wait_for_ready(true);
  if (!credential.empty()) {
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", credential));
  }
  stream_ = stub->PublishStream(&context_);
}

bool PublishStreamer::Send(const v1::PublishRequest& request, v1::PublishResponse* response) {
  if (finished_ || !stream_->Write(request)) return false;
  return stream_->Read(response);
}

std::string PublishStreamer::MustSend(const v1::PublishRequest& request) {
  v1::PublishResponse resp;
  if (!Send(request, &resp)) {
    ADD_FAILURE() << "PublishStream broke on " << request.ShortDebugString() << ": "
                  << StatusText(Finish());
    return "";
  }
  if (resp.has_error()) {
    ADD_FAILURE() << "PublishStream refused " << request.ShortDebugString() << ": "
                  << resp.error().ShortDebugString();
  }
  return resp.id();
}

grpc::Status PublishStreamer::Finish() {
  if (!finished_) {
    stream_->WritesDone();
    status_ = stream_->Finish();
    finished_ = true;
  }
  return status_;
}

AuthedGrpc::AuthedGrpc(std::shared_ptr<grpc::Channel> channel, std::string credential)
    : channel_(std::move(channel)),
      credential_(std::move(credential)),
      publisher_(v1::Publisher::NewStub(channel_)),
      subscriber_(v1::Subscriber::NewStub(channel_)),
      tickets_(v1::Tickets::NewStub(channel_)),
      admin_(v1::Admin::NewStub(channel_)) {}

void AuthedGrpc::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  ctx->set_wait_for_ready(true);
  if (!credential_.empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", credential_));
  }
}

grpc::Status AuthedGrpc::Publish(const v1::PublishRequest& request, v1::PublishResponse* response) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  return publisher_->Publish(&ctx, request, response);
}

grpc::Status AuthedGrpc::IssueTicket(const std::string& user,
                                     const std::vector<std::string>& channels, uint32_t ttl_seconds,
                                     v1::IssueTicketResponse* response) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::IssueTicketRequest req;
  req.set_user_id(user);
  for (const auto& c : channels) req.add_channels(c);
  req.set_ttl_seconds(ttl_seconds);
  return tickets_->IssueTicket(&ctx, req, response);
}

std::string AuthedGrpc::MustIssueTicket(const std::string& user,
                                        const std::vector<std::string>& channels,
                                        uint32_t ttl_seconds) {
  v1::IssueTicketResponse resp;
  grpc::Status s = IssueTicket(user, channels, ttl_seconds, &resp);
  if (!s.ok()) {
    ADD_FAILURE() << "IssueTicket(" << user << ") failed: " << StatusText(s);
    return "";
  }
  if (resp.ticket().empty()) ADD_FAILURE() << "IssueTicket returned an empty ticket";
  return resp.ticket();
}

grpc::Status AuthedGrpc::DisconnectUser(const std::string& user,
                                        v1::DisconnectUserResponse* response) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::DisconnectUserRequest req;
  req.set_user_id(user);
  return admin_->DisconnectUser(&ctx, req, response);
}

grpc::Status AuthedGrpc::GetStats(v1::Stats* stats, uint32_t max_channels) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::GetStatsRequest req;
  req.set_max_channels(max_channels);
  return admin_->GetStats(&ctx, req, stats);
}

std::unique_ptr<PublishStreamer> AuthedGrpc::Stream() {
  return std::make_unique<PublishStreamer>(publisher_.get(), credential_);
}

grpc::Status AuthedGrpc::SubscribeStatus(const std::vector<std::string>& channels) {
  // A refused call ends at once; an accepted one is cut by the short
  // deadline, after its first message (the head cursor).
  grpc::ClientContext ctx;
  Prepare(&ctx);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::SubscribeRequest req;
  for (const auto& c : channels) req.add_channels(c);
  auto reader = subscriber_->Subscribe(&ctx, req);
  v1::Event ev;
  if (reader->Read(&ev)) {
    ctx.TryCancel();
    while (reader->Read(&ev)) {
    }
    reader->Finish();
    return grpc::Status::OK;  // it delivered: accepted
  }
  return reader->Finish();
}

std::shared_ptr<grpc::Channel> InsecureChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

bool AuthTest::Start(std::vector<std::string> extra) {
  std::vector<std::string> flags = keys().Flags();
  for (auto& f : extra) flags.push_back(std::move(f));
  return StartWith(std::move(flags));
}

void AuthTest::StopBridge() {
  if (!bridge_) return;
  channel_.reset();
  admin_channel_.reset();
  ExitInfo info;
  EXPECT_TRUE(bridge_->Stop(absl::Seconds(30), &info)) << info.Describe();
  EXPECT_TRUE(info.exited && info.exit_code == 0) << info.Describe();
  for (const std::string& line : bridge_->LogLines()) {
    EXPECT_FALSE(absl::StrContains(line, "Sanitizer") || absl::StrContains(line, "runtime error:"))
        << bridge_->LogText();
  }
  bridge_.reset();
}

bool AuthTest::StartWith(std::vector<std::string> flags) {
  StopBridge();
  bridge_ = StartBridge(std::move(flags));
  if (!bridge_) return false;
  channel_ = InsecureChannel(bridge_->grpc_port());
  admin_channel_ = InsecureChannel(bridge_->admin_port());
  return true;
}

}  // namespace ssebridge_it
