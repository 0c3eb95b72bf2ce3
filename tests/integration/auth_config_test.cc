// Auth configuration at start-up (issue 4): the single-secret flag, and key
// files the bridge must refuse rather than silently run with less auth.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class AuthConfigTest : public AuthTest {
 protected:
  TempDir dir_;
};

TEST_F(AuthConfigTest, SingleSecretFileAcceptsHs256WithoutKid) {
  const std::string secret = RandomHex(24);  // 48 characters
  ASSERT_TRUE(StartWith({absl::StrCat("--jwt_secret_file=", dir_.Write("secret", secret + "\n")),
                         absl::StrCat("--publisher_keys_file=", keys().publisher_keys_file)}));
  const JwtClaims claims = UserClaims("ann", {"tasks"});
  SseClient c;
  ASSERT_TRUE(c.Open(http_port(), EventsTarget({"tasks"}),
                     BearerOptions(SignHmac("HS256", secret, "", claims.Json()))))
      << c.error();
  // The trailing newline of the file is not part of the secret.
  EXPECT_EQ(GetEvents(http_port(), EventsTarget({"tasks"}),
                      BearerHeader(SignHmac("HS256", secret + "\n", "", claims.Json())))
                .status,
            401);
  // Other algorithms are not accepted with it.
  EXPECT_EQ(GetEvents(http_port(), EventsTarget({"tasks"}),
                      BearerHeader(SignHmac("HS512", secret, "", claims.Json())))
                .status,
            401);
  EXPECT_EQ(GetEvents(http_port(), EventsTarget({"tasks"}),
                      BearerHeader(SignRs256(*keys().rsa, "", claims.Json())))
                .status,
            401);
}

TEST_F(AuthConfigTest, BadKeyFilesStopStartup) {
  ExpectRefusesToStart({absl::StrCat("--jwt_secret_file=", dir_.Write("short", RandomHex(15)))},
                       "jwt_secret_file");
  ExpectRefusesToStart({absl::StrCat("--jwt_keys_file=", dir_.path(), "/missing")},
                       "jwt_keys_file");
  ExpectRefusesToStart(
      {absl::StrCat(
          "--jwt_keys_file=",
          dir_.Write("confused", absl::StrCat("k2 RS256 ", keys().dir.path(), "/es1.pem\n")))},
      "jwt_keys_file");
  ExpectRefusesToStart({absl::StrCat("--jwt_keys_file=", dir_.Write("none", "k1 none x\n"))},
                       "jwt_keys_file");
  ExpectRefusesToStart(
      {absl::StrCat("--publisher_keys_file=", dir_.Write("weak", "svc short-key\n"))},
      "publisher_keys_file");
  ExpectRefusesToStart({absl::StrCat("--publisher_keys_file=", dir_.Write("empty", "# none\n"))},
                       "publisher_keys_file");
  // A refusal does not echo the secret.
  const std::string secret = absl::StrCat("s3cr3t", RandomHex(4));
  BridgeOptions o;
  o.flags = {
      absl::StrCat("--admin_keys_file=",
                   dir_.Write("admins", absl::StrCat("ops ", secret, " too many fields\n")))};
  BridgeProcess p(o);
  std::string error;
  EXPECT_FALSE(p.Start(&error));
  ExitInfo info;
  p.WaitExit(kWait, &info);
  EXPECT_FALSE(absl::StrContains(p.LogText(), secret)) << p.LogText();
}

}  // namespace
}  // namespace ssebridge_it
