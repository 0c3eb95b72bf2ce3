#include "bridge/auth/cors_policy.h"

#include <gtest/gtest.h>

namespace ssebridge {
namespace {

std::string Header(const CorsPolicy::Headers& h, const std::string& key) {
  for (const auto& [k, v] : h) {
    if (k == key) return v;
  }
  return "";
}

TEST(CorsPolicy, EmptyAllowsNobody) {
  auto p = CorsPolicy::Parse("");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->ForOrigin("https://a.example").empty());
  EXPECT_TRUE(p->ForPreflight("https://a.example").empty());
}

TEST(CorsPolicy, ListedOriginIsEchoedWithCredentials) {
  auto p = CorsPolicy::Parse("https://a.example, https://b.example/");
  ASSERT_TRUE(p.ok());
  auto h = p->ForOrigin("https://b.example");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Origin"), "https://b.example");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(Header(h, "Vary"), "Origin");
  // Another origin is never echoed, but the answer still varies by Origin.
  auto other = p->ForOrigin("https://c.example");
  EXPECT_EQ(Header(other, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(Header(other, "Access-Control-Allow-Credentials"), "");
  EXPECT_EQ(Header(other, "Vary"), "Origin");
  EXPECT_EQ(Header(p->ForPreflight("https://c.example"), "Access-Control-Allow-Methods"), "");
  EXPECT_TRUE(p->ForOrigin("").empty());
}

TEST(CorsPolicy, StarAllowsAnyWithoutCredentials) {
  auto p = CorsPolicy::Parse("*");
  ASSERT_TRUE(p.ok());
  auto h = p->ForOrigin("https://x.example");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Credentials"), "");
}

TEST(CorsPolicy, PreflightNamesMethodsAndHeaders) {
  auto p = CorsPolicy::Parse("https://a.example");
  ASSERT_TRUE(p.ok());
  auto h = p->ForPreflight("https://a.example");
  EXPECT_NE(Header(h, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(Header(h, "Access-Control-Allow-Headers").find("Last-Event-ID"), std::string::npos);
}

TEST(CorsPolicy, RejectsNonOrigins) {
  auto p = CorsPolicy::Parse("a.example");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("--cors_origins"), std::string::npos);
}

}  // namespace
}  // namespace ssebridge
