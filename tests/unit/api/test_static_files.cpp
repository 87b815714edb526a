#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/static_files.h"
#include "core/crypto.h"

namespace tph::api {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  StaticFilesTest() : root_(fs::temp_directory_path() / ("tph_web_" + randomHex(6))) {
    fs::create_directories(root_ / "assets");
    std::ofstream(root_ / "index.html") << "<!doctype html><title>碳普惠</title>";
    std::ofstream(root_ / "assets" / "app-3f9a1c.js") << "console.log(1)";
    std::ofstream(root_ / "manifest.webmanifest") << "{}";
    std::ofstream(root_.parent_path() / "tph_secret.txt") << "secret";
  }
  ~StaticFilesTest() override {
    fs::remove_all(root_);
    fs::remove(root_.parent_path() / "tph_secret.txt");
  }
  HttpRequest get(const std::string& path, HttpHeaders headers = {}) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.target = path;
    r.headers = std::move(headers);
    return r;
  }
  fs::path root_;
};

TEST_F(StaticFilesTest, ServesFilesWithTypesAndCaching) {
  StaticFiles files(root_);
  auto index = files.serve(get("/"));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->header("cache-control"), "no-cache");
  EXPECT_NE(index->body.find("碳普惠"), std::string::npos);

  auto js = files.serve(get("/assets/app-3f9a1c.js"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->header("cache-control"), "public, max-age=31536000, immutable");

  auto manifest = files.serve(get("/manifest.webmanifest"));
  EXPECT_EQ(manifest->header("content-type"), "application/manifest+json");
}

TEST_F(StaticFilesTest, AnswersRevalidationWith304) {
  StaticFiles files(root_);
  auto first = files.serve(get("/assets/app-3f9a1c.js"));
  std::string etag(first->header("etag"));
  ASSERT_FALSE(etag.empty());
  auto again = files.serve(get("/assets/app-3f9a1c.js", {{"if-none-match", etag}}));
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
}

TEST_F(StaticFilesTest, AppRoutesGetTheShellButMissingFilesDoNot) {
  StaticFiles files(root_);
  auto route = files.serve(get("/account/history"));
  ASSERT_TRUE(route);
  EXPECT_NE(route->body.find("<!doctype html>"), std::string::npos);
  EXPECT_FALSE(files.serve(get("/assets/missing.js")));
  EXPECT_FALSE(files.serve(get("/api/v1/anything")));
  // A route with a dot in it gets the shell when a browser navigates to it.
  HttpHeaders html = {{"accept", "text/html,application/xhtml+xml"}};
  auto dotted = files.serve(get("/methodologies/travel.metro", html));
  ASSERT_TRUE(dotted);
  EXPECT_NE(dotted->body.find("<!doctype html>"), std::string::npos);
  EXPECT_FALSE(files.serve(get("/api/v1/methodologies/travel.metro", html)));
}

TEST_F(StaticFilesTest, NeverLeavesTheRoot) {
  StaticFiles files(root_);
  auto escaped = files.serve(get("/../tph_secret.txt"));
  EXPECT_FALSE(escaped && escaped->body == "secret");
  auto dotted = files.serve(get("/assets/../../tph_secret.txt"));
  EXPECT_FALSE(dotted && dotted->body == "secret");
}

TEST_F(StaticFilesTest, ServesNothingWithoutABuiltApp) {
  StaticFiles files(root_ / "nope");
  EXPECT_FALSE(files.serve(get("/")));
}

}  // namespace
}  // namespace tph::api
