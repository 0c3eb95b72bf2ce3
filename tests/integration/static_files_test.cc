// --static_dir: files served by the real bridge, with content types, index
// pages, JSON 4xx errors, and no way out of the directory (.., encoded ..,
// symlinks). The API routes keep winning over files of the same name.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/http_request.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

namespace fs = std::filesystem;

// base/
//   secret.txt             outside the served root
//   www/index.html, app.js, style.css, data.json, blob.bin, healthz
//   www/sub/index.html
//   www/escape -> ../secret.txt   (symlink leaving the root)
class StaticTree {
 public:
  StaticTree() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/ssebridge-static-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    base_ = tmpl;
    fs::create_directories(www() + "/sub");
    Write(base_ + "/secret.txt", "TOP-SECRET");
    Write(www() + "/index.html", "<!doctype html><title>dash</title>");
    Write(www() + "/app.js", "console.log('hi');");
    Write(www() + "/style.css", "body{}");
    Write(www() + "/data.json", "{\"a\":1}");
    Write(www() + "/blob.bin", std::string("\x00\x01\x02", 3));
    Write(www() + "/healthz", "a file that must not shadow the route");
    Write(www() + "/sub/index.html", "<p>sub</p>");
    fs::create_symlink("../secret.txt", www() + "/escape");
  }
  ~StaticTree() {
    std::error_code ec;
    if (!base_.empty()) fs::remove_all(base_, ec);
  }
  std::string www() const { return base_ + "/www"; }
  std::string base() const { return base_; }

 private:
  static void Write(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }
  std::string base_;
};

void ExpectJsonError(const HttpResponse& r, int status) {
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_TRUE(absl::StartsWith(r.Header("Content-Type").value_or(""), "application/json"))
      << r.Header("Content-Type").value_or("<none>");
  EXPECT_TRUE(absl::StrContains(r.body, "\"error\":")) << r.body;
  EXPECT_FALSE(absl::StrContains(r.body, "TOP-SECRET")) << r.body;
}

TEST(StaticFilesTest, ServesFilesWithTheirContentTypes) {
  StaticTree tree;
  auto bridge = StartBridge({"--static_dir=" + tree.www()});
  ASSERT_NE(bridge, nullptr);
  struct Case {
    const char* path;
    const char* type;
    std::string body;
  } cases[] = {
      {"/", "text/html; charset=utf-8", "<!doctype html><title>dash</title>"},
      {"/index.html", "text/html; charset=utf-8", "<!doctype html><title>dash</title>"},
      {"/app.js", "text/javascript; charset=utf-8", "console.log('hi');"},
      {"/style.css", "text/css; charset=utf-8", "body{}"},
      {"/data.json", "application/json", "{\"a\":1}"},
      {"/blob.bin", "application/octet-stream", std::string("\x00\x01\x02", 3)},
      {"/sub/", "text/html; charset=utf-8", "<p>sub</p>"},
      {"/sub", "text/html; charset=utf-8", "<p>sub</p>"},
      {"/app.js?v=3", "text/javascript; charset=utf-8", "console.log('hi');"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    HttpResponse r = HttpGet(bridge->http_port(), c.path);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("Content-Type").value_or(""), c.type);
    EXPECT_EQ(r.Header("X-Content-Type-Options").value_or(""), "nosniff");
    EXPECT_EQ(r.body, c.body);
  }
}

TEST(StaticFilesTest, ApiRoutesWinOverFiles) {
  StaticTree tree;
  auto bridge = StartBridge({"--static_dir=" + tree.www()});
  ASSERT_NE(bridge, nullptr);
  HttpResponse health = HttpGet(bridge->http_port(), "/healthz");
  ASSERT_TRUE(health.ok()) << health.error;
  EXPECT_EQ(health.status, 200);
  EXPECT_TRUE(absl::StrContains(health.body, "\"ok\"")) << health.body;
  // The stream route still validates as before.
  ExpectJsonError(HttpGet(bridge->http_port(), "/v1/events"), 400);
}

TEST(StaticFilesTest, NeverLeavesTheDirectory) {
  StaticTree tree;
  auto bridge = StartBridge({"--static_dir=" + tree.www()});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt", "/./index.html", "/sub//index.html", "/..%5csecret.txt",
        "/index.html%00.js"}) {
    SCOPED_TRACE(target);
    HttpResponse r = HttpGet(port, target);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_GE(r.status, 400) << r.body;
    EXPECT_LT(r.status, 500) << r.body;
    ExpectJsonError(r, r.status);
  }
  ExpectJsonError(HttpGet(port, "/../secret.txt"), 400);
  // A symlink out of the root is not served.
  ExpectJsonError(HttpGet(port, "/escape"), 404);
  ExpectJsonError(HttpGet(port, "/missing.html"), 404);
  ExpectJsonError(HttpGet(port, "/sub/missing/"), 404);
}

TEST(StaticFilesTest, OnlyGet) {
  StaticTree tree;
  auto bridge = StartBridge({"--static_dir=" + tree.www()});
  ASSERT_NE(bridge, nullptr);
  ExpectJsonError(HttpRequest(bridge->http_port(), "POST", "/index.html", "x"), 404);
  ExpectJsonError(HttpRequest(bridge->http_port(), "DELETE", "/index.html"), 404);
}

TEST(StaticFilesTest, OffByDefault) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  ExpectJsonError(HttpGet(bridge->http_port(), "/"), 404);
  ExpectJsonError(HttpGet(bridge->http_port(), "/index.html"), 404);
}

TEST(StaticFilesTest, RefusesToStartWithoutTheDirectory) {
  StaticTree tree;
  for (const std::string& dir : {tree.base() + "/nope", tree.base() + "/secret.txt"}) {
    SCOPED_TRACE(dir);
    BridgeOptions options;
    options.flags = {"--static_dir=" + dir};
    BridgeProcess bridge(options);
    std::string error;
    EXPECT_FALSE(bridge.Start(&error));
    ExitInfo info;
    ASSERT_TRUE(bridge.WaitExit(kWait, &info));
    EXPECT_EQ(info.exit_code, 2) << info.Describe();
    EXPECT_TRUE(absl::StrContains(bridge.LogText(), "--static_dir")) << bridge.LogText();
  }
}

}  // namespace
}  // namespace ssebridge_it
