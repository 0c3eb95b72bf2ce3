// Issue 16, beyond the list: gRPC receives a whole request message before
// any handler checks its credential, so --grpc_max_message_bytes bounds what
// an unauthenticated call can make the bridge hold, on the public gRPC port
// and on the internal one (Admin) alike.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr int kLimit = 256 * 1024;

// A batch whose encoded size is about `bytes`.
v1::PublishBatchRequest BatchOf(size_t bytes) {
  v1::PublishBatchRequest batch;
  const size_t per = 32 * 1024;
  for (size_t sent = 0; sent < bytes; sent += per) {
    v1::PublishRequest* r = batch.add_requests();
    r->set_channel("tasks");
    r->set_data(std::string(per, 'x'));
  }
  return batch;
}

grpc::Status SendBatch(const std::shared_ptr<grpc::Channel>& channel, const std::string& credential,
                       const v1::PublishBatchRequest& batch, v1::PublishBatchResponse* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  if (!credential.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", credential));
  return v1::BatchPublisher::NewStub(channel)->PublishBatch(&ctx, batch, response);
}

TEST(HostileGrpcTest, OversizedMessagesAreRefusedBeforeTheirCredential) {
  std::vector<std::string> flags = AuthKeys::Get().Flags();
  flags.push_back(absl::StrCat("--grpc_max_message_bytes=", kLimit));
  auto bridge = StartBridge(flags);
  ASSERT_NE(bridge, nullptr);
  auto channel = InsecureChannel(bridge->grpc_port());
  v1::PublishBatchResponse response;

  // Over the limit: refused whatever the credential, nothing published.
  for (const std::string& credential : {std::string(), AuthKeys::Get().backend_key}) {
    grpc::Status s = SendBatch(channel, credential, BatchOf(4 * kLimit), &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  }
  // Under it: the credential decides.
  grpc::Status s = SendBatch(channel, "", BatchOf(kLimit / 2), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << StatusText(s);
  s = SendBatch(channel, AuthKeys::Get().backend_key, BatchOf(kLimit / 2), &response);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  EXPECT_EQ(response.responses_size(), BatchOf(kLimit / 2).requests_size());

  // The internal port's gRPC (Admin) has the same bound.
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  v1::DisconnectUserRequest huge;
  huge.set_user_id(std::string(4 * kLimit, 'u'));
  v1::DisconnectUserResponse ended;
  s = v1::Admin::NewStub(InsecureChannel(bridge->admin_port()))->DisconnectUser(&ctx, huge, &ended);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
}

}  // namespace
}  // namespace ssebridge_it
