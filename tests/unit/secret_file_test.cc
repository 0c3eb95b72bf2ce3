#include "bridge/auth/secret_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace ssebridge {
namespace {

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ssebridge-secret-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/s").c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& contents) {
    const std::string path = dir_ + "/s";
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::string dir_;
};

TEST_F(SecretFileTest, DropsOnlyTrailingLineEnds) {
  absl::StatusOr<std::string> s = ReadSecretFile(Write("s3cr\ret \n\r\n"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "s3cr\ret ");
}

TEST_F(SecretFileTest, KeepsEveryOtherByteIncludingNul) {
  const std::string raw("a\0b\xff", 4);
  absl::StatusOr<std::string> s = ReadSecretFile(Write(raw));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, raw);
}

TEST_F(SecretFileTest, EmptyFileIsAnEmptySecret) {
  absl::StatusOr<std::string> s = ReadSecretFile(Write("\n"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "");
}

TEST_F(SecretFileTest, MissingFileAndDirectoryAreRefusedNamingThePath) {
  for (const std::string& path : {dir_ + "/absent", dir_}) {
    absl::StatusOr<std::string> s = ReadSecretFile(path);
    ASSERT_FALSE(s.ok()) << path;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status();
  }
}

}  // namespace
}  // namespace ssebridge
