// PublisherKeys: plain and sha256: keys, wrong keys, channel restrictions,
// duplicates, and key-file errors that never echo a secret.
#include "bridge/auth/publisher_keys.h"

#include <openssl/evp.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

std::string Sha256Hex(const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(d), n));
}

const char kBillingKey[] = "billing-0123456789abcdef";
const char kTasksKey[] = "tasks-key-fedcba9876543210";

TEST(PublisherKeysTest, PlainKeyWithoutPatternsMayPublishEverywhere) {
  PublisherKeys keys;
  ASSERT_TRUE(keys.Add("billing", kBillingKey, "").ok());
  absl::StatusOr<PublisherIdentity> id = keys.Authenticate(kBillingKey);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "billing");
  EXPECT_TRUE(id->all_channels);
  EXPECT_TRUE(id->channels.Matches("anything"));
}

TEST(PublisherKeysTest, PatternsRestrictChannels) {
  PublisherKeys keys;
  ASSERT_TRUE(keys.Add("tasks", kTasksKey, "tasks,user.*").ok());
  absl::StatusOr<PublisherIdentity> id = keys.Authenticate(kTasksKey);
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(id->all_channels);
  EXPECT_TRUE(id->channels.Matches("tasks"));
  EXPECT_TRUE(id->channels.Matches("user.7"));
  EXPECT_FALSE(id->channels.Matches("billing"));
  EXPECT_FALSE(keys.Add("bad", "another-key-0123456789", "a*b").ok());
}

TEST(PublisherKeysTest, Sha256Form) {
  PublisherKeys keys;
  ASSERT_TRUE(keys.Add("hashed", "sha256:" + Sha256Hex(kTasksKey), "tasks").ok());
  absl::StatusOr<PublisherIdentity> id = keys.Authenticate(kTasksKey);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "hashed");
  // The hash itself is not a key.
  EXPECT_FALSE(keys.Authenticate("sha256:" + Sha256Hex(kTasksKey)).ok());
  EXPECT_FALSE(keys.Authenticate(Sha256Hex(kTasksKey)).ok());
  // Upper-case hex is fine; wrong lengths and non-hex are not.
  PublisherKeys upper;
  std::string hex = Sha256Hex(kBillingKey);
  for (char& c : hex) c = static_cast<char>(toupper(c));
  ASSERT_TRUE(upper.Add("b", "sha256:" + hex, "").ok());
  EXPECT_TRUE(upper.Authenticate(kBillingKey).ok());
  EXPECT_FALSE(keys.Add("x", "sha256:" + hex.substr(1), "").ok());
  EXPECT_FALSE(keys.Add("x", "sha256:" + hex.substr(1) + "g", "").ok());
}

TEST(PublisherKeysTest, WrongKeysAreUnknown) {
  PublisherKeys keys;
  ASSERT_TRUE(keys.Add("billing", kBillingKey, "").ok());
  ASSERT_TRUE(keys.Add("tasks", kTasksKey, "tasks").ok());
  for (const std::string& wrong :
       {std::string(), std::string("billing"), std::string(kBillingKey) + "x",
        std::string(kBillingKey).substr(1), std::string(100000, 'k')}) {
    absl::StatusOr<PublisherIdentity> id = keys.Authenticate(wrong);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(id.status().message(), "unknown publisher key");
  }
  EXPECT_FALSE(PublisherKeys().Authenticate(kBillingKey).ok());
}

TEST(PublisherKeysTest, AddRejectsBadEntries) {
  PublisherKeys keys;
  ASSERT_TRUE(keys.Add("billing", kBillingKey, "").ok());
  auto message = [&](std::string name, std::string secret) {
    absl::Status s = keys.Add(std::move(name), std::move(secret), "");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_TRUE(absl::StrContains(message("billing", kTasksKey), "name used twice"));
  EXPECT_TRUE(absl::StrContains(message("other", kBillingKey), "same key as publisher 'billing'"));
  EXPECT_TRUE(absl::StrContains(message("short", "fifteen-chars!!"), "key must be 16-"));
  EXPECT_TRUE(absl::StrContains(message("spaced", "has a space in it ok"), "without spaces"));
  EXPECT_TRUE(absl::StrContains(message("", kTasksKey), "publisher name"));
  EXPECT_TRUE(absl::StrContains(message("a b", kTasksKey), "publisher name"));
  // The bridge's own principals: a key named so would share their state.
  EXPECT_TRUE(absl::StrContains(message("jwt:alice", kTasksKey), "reserved"));
  EXPECT_TRUE(absl::StrContains(message("anonymous", kTasksKey), "reserved"));
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys.Add("short-ok", "sixteen-chars!!!", "").ok());
}

class PublisherKeysFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "pubkeys.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl + "/publishers.txt";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(path_).parent_path(), ignored);
  }
  absl::Status Load(const std::string& content, PublisherKeys* keys) {
    std::ofstream(path_, std::ios::binary) << content;
    return keys->LoadFile(path_);
  }
  std::string path_;
};

TEST_F(PublisherKeysFileTest, LoadsAGoodFile) {
  PublisherKeys keys;
  absl::Status s =
      Load(std::string("# name key [patterns]\n\n") + "billing " + kBillingKey + "\n" +
               "tasks\tsha256:" + Sha256Hex(kTasksKey) + "  tasks,user.*   # backend B\n" +
               "hashy key#with#hashes-0123 # '#' inside a key is kept\n",
           &keys);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_TRUE(keys.Authenticate("key#with#hashes-0123").ok());
  EXPECT_FALSE(keys.Authenticate("key").ok());
  EXPECT_TRUE(keys.Authenticate(kBillingKey)->all_channels);
  absl::StatusOr<PublisherIdentity> t = keys.Authenticate(kTasksKey);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->name, "tasks");
  EXPECT_FALSE(t->channels.Matches("billing"));
}

TEST_F(PublisherKeysFileTest, ErrorsNameTheLineButNeverTheSecret) {
  const std::string secret = "topsecret-0123456789";
  struct Case {
    std::string content;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"a " + secret + "\nb " + secret + "\n", ":2: publisher 'b': same key"},
           {"a " + secret + "\na other-secret-0123456789\n", ":2: publisher 'a': name used"},
           {"\n\n" + secret + "\n", ":3: expected 'name key [patterns]', got 1"},
           {"a " + secret + " tasks extra\n", ":1: expected 'name key [patterns]', got 4"},
           {"a topsecret\n", ":1: publisher 'a': key must be 16-"},
           {"a " + secret + " a*b\n", ":1: publisher 'a': channel pattern \"a*b\""},
           {"# only comments\n", "no publisher keys"},
       }) {
    PublisherKeys keys;
    absl::Status s = Load(c.content, &keys);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.want)) << s << " / wanted " << c.want;
    EXPECT_FALSE(absl::StrContains(s.message(), "topsecret")) << s;
  }
  PublisherKeys keys;
  absl::Status missing = keys.LoadFile(path_ + ".absent");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

}  // namespace
}  // namespace ssebridge
