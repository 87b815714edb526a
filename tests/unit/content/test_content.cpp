// Content: Markdown sanitising against hostile inputs, cover uploads checked by their bytes and
// resized, and the editorial flow with right and wrong roles, on SQLite and PostgreSQL.

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <set>
#include <sstream>

#include "audit/audit_log.h"
#include "content/catalogue_service.h"
#include "content/content_service.h"
#include "content/cover_image.h"
#include "content/markdown.h"
#include "content/search_snippet.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::content {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

//! Reads every tag of the rendered HTML (text is escaped by the renderer, so '<' opens a tag)
//! and checks it against the allow-list: known elements, known attributes, safe URLs.
void expectSafe(const std::string& html, const std::string& input) {
  static const std::set<std::string> elements = {
      "p",     "h1",    "h2",    "h3",   "h4",  "h5",         "h6", "strong", "em",
      "del",   "a",     "img",   "code", "pre", "blockquote", "ul", "ol",     "li",
      "table", "thead", "tbody", "tr",   "th",  "td",         "hr", "br"};
  static const std::set<std::string> attributes = {"href",  "src",   "alt",  "title",
                                                   "align", "start", "class"};
  std::size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    auto close = html.find('>', pos);
    ASSERT_NE(close, std::string::npos) << html;
    std::string tag = html.substr(pos + 1, close - pos - 1);
    pos = close + 1;
    if (!tag.empty() && tag[0] == '/') tag.erase(0, 1);
    if (!tag.empty() && tag.back() == '/') tag.pop_back();
    std::istringstream words(tag);
    std::string name;
    words >> name;
    EXPECT_TRUE(elements.count(name)) << "element <" << name << "> from " << input << "\n" << html;
    // Attributes: name="value", values with no raw quote inside.
    std::size_t at = name.size();
    while (at < tag.size()) {
      while (at < tag.size() && tag[at] == ' ') ++at;
      if (at >= tag.size()) break;
      auto eq = tag.find('=', at);
      ASSERT_NE(eq, std::string::npos) << tag;
      std::string attribute = tag.substr(at, eq - at);
      ASSERT_EQ(tag[eq + 1], '"') << tag;
      auto end = tag.find('"', eq + 2);
      ASSERT_NE(end, std::string::npos) << tag;
      std::string value = tag.substr(eq + 2, end - eq - 2);
      at = end + 1;
      EXPECT_TRUE(attributes.count(attribute))
          << "attribute " << attribute << " from " << input << "\n"
          << html;
      if (attribute == "href") {
        EXPECT_TRUE(isAllowedLinkUrl(value)) << value << " from " << input;
      }
      if (attribute == "src") {
        EXPECT_TRUE(isAllowedImageUrl(value)) << value << " from " << input;
      }
    }
  }
}

TEST(Markdown, RendersOrdinaryArticlesWithTablesAndLinks) {
  auto r = renderMarkdown(
      "# 低碳出行\n\n乘坐**地铁**减少排放，见 [广东省生态环境厅](https://gdee.gd.gov.cn/)。\n\n"
      "| 方式 | 克/公里 |\n|---|---|\n| 地铁 | 30 |\n\n![封面](/media/covers/abc-400.jpg)\n\n"
      "联系 <mailto:editor@example.org>");
  EXPECT_NE(r.html.find("<h1>低碳出行</h1>"), std::string::npos) << r.html;
  EXPECT_NE(r.html.find("<strong>地铁</strong>"), std::string::npos);
  EXPECT_NE(r.html.find("<a href=\"https://gdee.gd.gov.cn/\">"), std::string::npos);
  EXPECT_NE(r.html.find("<table>"), std::string::npos);
  EXPECT_NE(r.html.find("<img src=\"/media/covers/abc-400.jpg\" alt=\"封面\""), std::string::npos);
  EXPECT_NE(r.html.find("href=\"mailto:editor@example.org\""), std::string::npos);
  EXPECT_EQ(r.removed_html, 0);
  EXPECT_EQ(r.removed_links, 0);
  EXPECT_NE(r.plain_text.find("乘坐地铁减少排放"), std::string::npos) << r.plain_text;
}

TEST(Markdown, RemovesEveryHostileConstruct) {
  const std::vector<std::string> hostile = {
      "<script>alert(1)</script>",
      "Hello <script src=\"https://evil.example/x.js\"></script> world",
      "<SCRIPT>alert(1)</SCRIPT>",
      "<style>body{display:none}</style>",
      "<iframe src=\"https://evil.example\"></iframe>",
      "<img src=x onerror=alert(1)>",
      "<a href=\"#\" onclick=\"alert(1)\">click</a>",
      "<div onmouseover=\"alert(1)\">hover</div>",
      "<svg><script>alert(1)</script></svg>",
      "<svg onload=alert(1)>",
      "<object data=\"javascript:alert(1)\"></object>",
      "<embed src=\"javascript:alert(1)\">",
      "<form action=\"https://evil.example\"><input name=p></form>",
      "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
      "[click](javascript:alert(1))",
      "[click](JavaScript:alert(1))",
      "[click](  javascript:alert(1))",
      "[click](java&#x09;script:alert(1))",
      "[click](jav&#97;script:alert(1))",
      "[click](vbscript:msgbox(1))",
      "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "[click](file:///etc/passwd)",
      "[click](//evil.example/x)",
      "<javascript:alert(1)>",
      "![x](javascript:alert(1))",
      "![x](data:image/png;base64,iVBORw0KGgo=)",
      "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
      "![x](http://insecure.example/a.png)",
      "![x](/media/../etc/passwd)",
      "[![x](javascript:alert(1))](javascript:alert(2))",
      "[ref]\n\n[ref]: javascript:alert(1)",
      "<a href=\"javascript:alert(1)\">x</a>",
      "```html\n<script>alert(1)</script>\n```",  // shown as code, escaped
      "`<img src=x onerror=alert(1)>`",
      "<!-- <script>alert(1)</script> -->",
      "<![CDATA[<script>alert(1)</script>]]>",
      "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
      "[x](https://example.org \"title\\\" onmouseover=\\\"alert(1)\")",
  };
  for (const auto& input : hostile) {
    auto r = renderMarkdown(input);
    expectSafe(r.html, input);
  }
  // Refused links keep their words; code blocks show the markup as text.
  EXPECT_EQ(renderMarkdown("[click](javascript:alert(1))").html, "<p>click</p>\n");
  EXPECT_EQ(renderMarkdown("[click](javascript:alert(1))").removed_links, 1);
  EXPECT_EQ(renderMarkdown("<script>alert(1)</script>").removed_html, 1);
  EXPECT_NE(renderMarkdown("`<b>`").html.find("&lt;b&gt;"), std::string::npos);
}

TEST(Markdown, AllowsOnlyTheListedSchemes) {
  EXPECT_TRUE(isAllowedLinkUrl("https://example.org/a?b#c"));
  EXPECT_TRUE(isAllowedLinkUrl("http://example.org"));
  EXPECT_TRUE(isAllowedLinkUrl("mailto:a@example.org"));
  EXPECT_FALSE(isAllowedLinkUrl("/articles/x"));
  EXPECT_FALSE(isAllowedLinkUrl("javascript:alert(1)"));
  EXPECT_FALSE(isAllowedLinkUrl("https:evil"));
  EXPECT_FALSE(isAllowedLinkUrl("ht\ttps://example.org"));
  EXPECT_TRUE(isAllowedImageUrl("https://example.org/a.png"));
  EXPECT_TRUE(isAllowedImageUrl("/media/covers/a-400.jpg"));
  EXPECT_FALSE(isAllowedImageUrl("http://example.org/a.png"));
  EXPECT_FALSE(isAllowedImageUrl("/etc/passwd"));
  EXPECT_FALSE(isAllowedImageUrl("data:image/png;base64,AAAA"));
}

std::string makeImage(int width, int height, const char* suffix, int bands = 3) {
  if (VIPS_INIT("test") != 0) throw std::runtime_error("vips");
  VipsImage* black = nullptr;
  EXPECT_EQ(vips_black(&black, width, height, "bands", bands, NULL), 0);
  VipsImage* image = nullptr;
  EXPECT_EQ(vips_linear1(black, &image, 1.0, 120.0, "uchar", TRUE, NULL), 0);
  void* buffer = nullptr;
  std::size_t length = 0;
  EXPECT_EQ(vips_image_write_to_buffer(image, suffix, &buffer, &length, NULL), 0);
  std::string bytes(static_cast<const char*>(buffer), length);
  g_free(buffer);
  g_object_unref(image);
  g_object_unref(black);
  return bytes;
}

TEST(CoverImage, ResizesPngJpegAndWebpToTheWebSizes) {
  for (const char* suffix : {".png", ".jpg", ".webp"}) {
    auto bytes = makeImage(1600, 900, suffix);
    auto sizes = resizeCover(bytes, "");
    ASSERT_TRUE(sizes.ok()) << suffix << ": " << sizes.error().message;
    ASSERT_EQ(sizes->size(), 2u);
    EXPECT_EQ((*sizes)[0].width_px, 1200);
    EXPECT_EQ((*sizes)[0].height_px, 675);
    EXPECT_EQ((*sizes)[1].width_px, 400);
    EXPECT_EQ((*sizes)[1].height_px, 225);
    EXPECT_EQ(sniffImageType((*sizes)[1].jpeg), ImageType::kJpeg);
  }
  // A transparent PNG narrower than the large size is not enlarged.
  auto small = resizeCover(makeImage(600, 300, ".png", 4), "image/png");
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ((*small)[0].width_px, 600);
  EXPECT_EQ((*small)[1].width_px, 400);
}

TEST(CoverImage, RefusesNonImagesOversizeFilesAndWrongDeclaredTypes) {
  // A text file renamed cover.png and sent as image/png.
  auto text = resizeCover("<svg onload=alert(1)>not a picture</svg>", "image/png");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(text.error().field, "body");
  // A GIF is an image, but not one of the accepted types.
  EXPECT_FALSE(resizeCover("GIF89a\x01\x00\x01\x00", "image/png").ok());
  // Right signature, broken content.
  auto truncated = resizeCover(std::string("\x89PNG\r\n\x1a\n", 8) + "garbage", "image/png");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().field, "body");
  // Over 5 MiB, refused before decoding.
  std::string big = makeImage(64, 64, ".png");
  big.resize(kMaxCoverBytes + 1, '\0');
  auto oversize = resizeCover(big, "image/png");
  ASSERT_FALSE(oversize.ok());
  EXPECT_EQ(oversize.error().code, ErrorCode::kPayloadTooLarge);
  // A PNG declared as JPEG.
  auto mislabelled = resizeCover(makeImage(64, 64, ".png"), "image/jpeg");
  ASSERT_FALSE(mislabelled.ok());
  EXPECT_EQ(mislabelled.error().field, "content-type");
  // Huge declared dimensions in a small file.
  auto wide = resizeCover(makeImage(kMaxCoverSourcePx + 1, 1, ".png"), "image/png");
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.error().field, "body");
}

class ContentTest : public ::testing::Test {
 protected:
  ContentTest() : clock_(testing::testEpoch()), content_(t_.db(), clock_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
  }

  ArticleInput input(const std::string& title, const std::string& body,
                     const std::string& region = "440300") {
    auto parsed = articleInputFromJson({{"kind", "knowledge"},
                                        {"region", region},
                                        {"title_zh", title},
                                        {"body_zh", body},
                                        {"tags", {"出行", "地铁"}}});
    EXPECT_TRUE(parsed.ok()) << parsed.error().field << ": " << parsed.error().message;
    return *parsed;
  }

  //! Drafts, submits and has a second editor publish.
  Article publish(const std::string& title, const std::string& body,
                  const std::string& region = "440300") {
    auto a = content_.createArticle(province_editor_, input(title, body, region));
    EXPECT_TRUE(a.ok()) << a.error().message;
    EXPECT_TRUE(content_.submitArticle(province_editor_, a->id).ok());
    auto p = content_.reviewArticle(reviewer_, a->id, true, "");
    EXPECT_TRUE(p.ok()) << p.error().message;
    return *p;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  ContentService content_;
  Principal province_editor_{1, "ed", "ed", {{Role::kEditor, "440000"}}, {}};
  Principal reviewer_{2, "rv", "rv", {{Role::kEditor, "440000"}}, {}};
  Principal shenzhen_editor_{3, "sz", "sz", {{Role::kEditor, "440300"}}, {}};
  Principal guangzhou_editor_{4, "gz", "gz", {{Role::kEditor, "440100"}}, {}};
  Principal admin_{5, "pa", "pa", {{Role::kProvinceAdmin, "440000"}}, {}};
  Principal resident_{6, "r", "r", {{Role::kResident, ""}}, {}};
};

TEST_F(ContentTest, ValidatesArticleInputNamingTheField) {
  auto check = [](json body, const std::string& field) {
    auto r = articleInputFromJson(body);
    ASSERT_FALSE(r.ok()) << body.dump();
    EXPECT_EQ(r.error().field, field) << body.dump() << ": " << r.error().message;
  };
  json good = {{"kind", "news"}, {"region", "440000"}, {"title_zh", "标题"}, {"body_zh", "正文"}};
  EXPECT_TRUE(articleInputFromJson(good).ok());
  auto with = [&](const std::string& key, json value) {
    json b = good;
    b[key] = value;
    return b;
  };
  check(with("kind", "blog"), "kind");
  check(with("region", "44"), "region");
  check(with("title_zh", "  "), "title_zh");
  check(with("body_zh", 3), "body_zh");
  check(with("body_zh", std::string(kMaxBodyBytes + 1, 'x')), "body_zh");
  check(with("slug", "Bad Slug"), "slug");
  check(with("title_en", "Title only"), "body_en");
  check(with("tags", json::array({"a", 1})), "tags[1]");
  check(with("tags", json::array({"a", "a"})), "tags[1]");
  check(with("tags", json::array({"<b>"})), "tags[0]");
  check(with("title_zh", std::string("\xff\xfe")), "title_zh");
  json missing = good;
  missing.erase("title_zh");
  check(missing, "title_zh");
}

TEST_F(ContentTest, EditorialFlowWithRightAndWrongRoles) {
  // Only an editor of the region drafts.
  EXPECT_EQ(content_.createArticle(resident_, input("标题", "正文")).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(content_.createArticle(admin_, input("标题", "正文")).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(content_.createArticle(guangzhou_editor_, input("标题", "正文")).error().code,
            ErrorCode::kForbidden);
  auto draft = content_.createArticle(
      shenzhen_editor_, input("垃圾分类小知识", "<script>x</script>\n\n**可回收物**"));
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  EXPECT_EQ(draft->state, "draft");
  EXPECT_EQ(draft->slug, "knowledge-" + std::to_string(draft->id));
  EXPECT_EQ(draft->body_html_zh, "<p><strong>可回收物</strong></p>\n");
  EXPECT_EQ(draft->author, "user:3");

  // Not published yet: the public does not see it, its editors do.
  EXPECT_FALSE(content_.article(nullptr, draft->slug).ok());
  EXPECT_FALSE(content_.article(&guangzhou_editor_, draft->slug).ok());
  EXPECT_TRUE(content_.article(&province_editor_, draft->slug).ok());
  EXPECT_EQ(content_.published({})->size(), 0u);

  // Review before submission is refused; so is the author reviewing their own article.
  EXPECT_EQ(content_.reviewArticle(reviewer_, draft->id, true, "").error().code,
            ErrorCode::kConflict);
  ASSERT_TRUE(content_.submitArticle(shenzhen_editor_, draft->id).ok());
  EXPECT_EQ(content_.updateArticle(shenzhen_editor_, draft->id, input("改", "改")).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(content_.reviewArticle(shenzhen_editor_, draft->id, true, "").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(content_.reviewArticle(guangzhou_editor_, draft->id, true, "").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(content_.reviewArticle(admin_, draft->id, true, "").error().code,
            ErrorCode::kForbidden);
  // Returned with a comment (a return without one is refused), revised, submitted again.
  EXPECT_EQ(content_.reviewArticle(reviewer_, draft->id, false, " ").error().field, "comment");
  auto returned = content_.reviewArticle(reviewer_, draft->id, false, "请补充数据来源");
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(returned->state, "draft");
  EXPECT_EQ(returned->review_comment, "请补充数据来源");
  auto revised = content_.updateArticle(shenzhen_editor_, draft->id,
                                        input("垃圾分类小知识", "来源：市城管局"));
  ASSERT_TRUE(revised.ok()) << revised.error().message;
  ASSERT_TRUE(content_.submitArticle(shenzhen_editor_, draft->id).ok());
  auto published = content_.reviewArticle(reviewer_, draft->id, true, "可以发布");
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(published->state, "published");
  EXPECT_EQ(published->reviewer, "user:2");
  ASSERT_TRUE(published->published_at);

  EXPECT_TRUE(content_.article(nullptr, draft->slug).ok());
  EXPECT_EQ(content_.published({.region = "440300"})->size(), 1u);
  EXPECT_EQ(content_.published({.region = "440000"})->size(), 1u);
  EXPECT_EQ(content_.published({.region = "440100"})->size(), 0u);
  EXPECT_EQ(content_.published({.kind = "news"})->size(), 0u);
  EXPECT_EQ(content_.published({.tag = "地铁"})->size(), 1u);
  EXPECT_EQ(content_.published({.limit = 0}).error().field, "limit");

  // Archiving: not by a resident nor an editor elsewhere; then gone from the public.
  EXPECT_EQ(content_.archiveArticle(guangzhou_editor_, draft->id).error().code,
            ErrorCode::kForbidden);
  ASSERT_TRUE(content_.archiveArticle(shenzhen_editor_, draft->id).ok());
  EXPECT_EQ(content_.archiveArticle(shenzhen_editor_, draft->id).error().code,
            ErrorCode::kConflict);
  EXPECT_FALSE(content_.article(nullptr, draft->slug).ok());
  EXPECT_EQ(content_.editorial(shenzhen_editor_, "archived", 20, 0)->size(), 1u);
  EXPECT_EQ(content_.editorial(guangzhou_editor_, "archived", 20, 0)->size(), 0u);
  EXPECT_EQ(content_.editorial(resident_, "archived", 20, 0).error().code, ErrorCode::kForbidden);

  // Every change is in the audit chain, which still verifies.
  t_.db().read([&](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM audit_events WHERE subject = :s",
        soci::use("article:" + std::to_string(draft->id)), soci::into(n);
    EXPECT_EQ(n, 7);  // create, submit, return, update, submit, publish, archive
    EXPECT_TRUE(audit::verifyAuditChain(sql).ok);
    return 0;
  });
}

TEST_F(ContentTest, SlugsAreUniqueAndRegionsMustExist) {
  auto in = input("一", "正文");
  in.slug = "metro-tips";
  ASSERT_TRUE(content_.createArticle(province_editor_, in).ok());
  auto again = content_.createArticle(province_editor_, in);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().field, "slug");
  auto nowhere = input("二", "正文", "449999");
  auto r = content_.createArticle(province_editor_, nowhere);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "region");
}

TEST_F(ContentTest, CoverUploadIsStoredInWebSizesAndServed) {
  auto a = content_.createArticle(shenzhen_editor_, input("光伏屋顶", "正文"));
  ASSERT_TRUE(a.ok());
  auto png = makeImage(1600, 800, ".png");
  EXPECT_EQ(content_.setCover(guangzhou_editor_, a->id, "image/png", png).error().code,
            ErrorCode::kForbidden);
  auto fake = content_.setCover(shenzhen_editor_, a->id, "image/png", "not an image at all");
  ASSERT_FALSE(fake.ok());
  EXPECT_EQ(fake.error().field, "body");
  auto with = content_.setCover(shenzhen_editor_, a->id, "image/png", png);
  ASSERT_TRUE(with.ok()) << with.error().message;
  EXPECT_EQ(with->cover_sha256.size(), 64u);
  auto large = content_.coverFile(with->cover_sha256 + "-1200.jpg");
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->content_type, "image/jpeg");
  auto decoded = resizeCover(large->bytes, "image/jpeg");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)[0].width_px, 1200);
  EXPECT_TRUE(content_.coverFile(with->cover_sha256 + "-400.jpg").ok());
  EXPECT_FALSE(content_.coverFile(with->cover_sha256 + "-800.jpg").ok());
  EXPECT_FALSE(content_.coverFile("../../etc/passwd").ok());
}

TEST(SearchSnippet, MarksEveryHitInAWindowWithoutCuttingCharacters) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "低碳";
  text += "地铁<出行>";
  for (int i = 0; i < 60; ++i) text += "生活";
  auto s = highlightSnippet(text, {"地铁", "出行"});
  EXPECT_NE(s.find("<mark>地铁</mark>&lt;<mark>出行</mark>&gt;"), std::string::npos) << s;
  EXPECT_EQ(s.rfind("…", 0), 0u);  // starts inside the text
  EXPECT_LE(utf8Length(s), kSnippetChars + 60);
  EXPECT_EQ(highlightSnippet("Rooftop SOLAR panels", {"solar"}),
            "Rooftop <mark>SOLAR</mark> panels");
  EXPECT_EQ(highlightSnippet("没有命中", {"地铁"}), "没有命中");
}

TEST_F(ContentTest, SearchFindsChineseByTwoAndThreeOrMoreCharacterQueries) {
  auto sorting =
      publish("垃圾分类指南",
              "厨余垃圾要**沥干**水分再投放。可回收物包括纸张、塑料瓶。`<b>`塑料袋不可回收。");
  auto metro = publish("地铁出行减碳", "乘坐地铁每公里比私家车少排放约一百克二氧化碳。", "440100");
  auto pending = content_.createArticle(province_editor_, input("沥干技巧草稿", "沥干沥干"));
  ASSERT_TRUE(pending.ok());
  auto ids = [&](const std::string& q, const std::string& region = "") {
    auto hits = content_.search({q, "", region, 20});
    EXPECT_TRUE(hits.ok()) << q << ": " << hits.error().message;
    std::vector<std::int64_t> out;
    for (const auto& h : *hits) out.push_back(h.article.id);
    return out;
  };
  using Ids = std::vector<std::int64_t>;
  EXPECT_EQ(ids("沥干"), Ids{sorting.id});  // two characters: the LIKE fallback; drafts unseen
  EXPECT_EQ(ids("地铁"), Ids{metro.id});
  EXPECT_EQ(ids("碳"), Ids{metro.id});
  EXPECT_EQ(ids("塑料瓶"), Ids{sorting.id});  // three: the trigram index
  EXPECT_EQ(ids("二氧化碳"), Ids{metro.id});
  EXPECT_EQ(ids("地铁  二氧化碳"), Ids{metro.id});  // every term must occur
  EXPECT_EQ(ids("地铁 塑料瓶"), Ids{});
  EXPECT_EQ(ids("二氧化碳", "440300"), Ids{});
  EXPECT_EQ(ids("二氧化碳", "440000"), Ids{metro.id});
  EXPECT_EQ(ids("100%"), Ids{});      // LIKE wildcards are literal
  EXPECT_EQ(ids("\"塑料瓶"), Ids{});  // FTS5 syntax is literal too

  auto hits = content_.search({"塑料袋", "", "", 20});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_NE((*hits)[0].snippet_html.find("&lt;b&gt;<mark>塑料袋</mark>"), std::string::npos)
      << (*hits)[0].snippet_html;
  hits = content_.search({"沥干", "", "", 20});
  EXPECT_NE((*hits)[0].snippet_html.find("厨余垃圾要<mark>沥干</mark>水分"), std::string::npos)
      << (*hits)[0].snippet_html;

  auto english = input("屋顶光伏", "分布式发电");
  english.title_en = "Rooftop Solar";
  english.body_md_en = "Panels on **public buildings**.";
  auto a = content_.createArticle(province_editor_, english);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(content_.submitArticle(province_editor_, a->id).ok());
  ASSERT_TRUE(content_.reviewArticle(reviewer_, a->id, true, "").ok());
  EXPECT_EQ(ids("rooftop solar"), Ids{a->id});
  EXPECT_EQ(ids("PUBLIC BUILDINGS"), Ids{a->id});

  // Archived articles leave the index.
  ASSERT_TRUE(content_.archiveArticle(province_editor_, sorting.id).ok());
  EXPECT_EQ(ids("塑料瓶"), Ids{});
  EXPECT_EQ(ids("沥干"), Ids{});

  EXPECT_EQ(content_.search({"  ", "", "", 20}).error().field, "q");
  EXPECT_EQ(content_.search({std::string(101, 'a'), "", "", 20}).error().field, "q");
  EXPECT_EQ(content_.search({"a b c d e f", "", "", 20}).error().field, "q");
  EXPECT_EQ(content_.search({"地铁", "blog", "", 20}).error().field, "kind");
  EXPECT_EQ(content_.search({"地铁", "", "", 0}).error().field, "limit");
}

json heatPump(const std::string& region = "440300") {
  return {
      {"kind", "product"},
      {"name_zh", "空气源热泵热水器"},
      {"maker", "某电器有限公司"},
      {"category", "home_appliance"},
      {"region", region},
      {"certification",
       {{"body", "中国质量认证中心"},
        {"certificate", "CQC-LC-2026-0001"},
        {"valid_until", "2027-12-31"}}},
      {"footprint", {{"grams_per_unit", 412000000}, {"unit", "台"}, {"source", "EPD 2025-117"}}}};
}

TEST_F(ContentTest, CatalogueValidatesEveryFieldByName) {
  auto check = [](json body, const std::string& field) {
    auto r = catalogueInputFromJson(body);
    ASSERT_FALSE(r.ok()) << body.dump();
    EXPECT_EQ(r.error().field, field) << body.dump() << ": " << r.error().message;
  };
  ASSERT_TRUE(catalogueInputFromJson(heatPump()).ok());
  auto with = [](const std::string& key, json value) {
    json b = heatPump();
    b[key] = value;
    return b;
  };
  check(with("kind", "service"), "kind");
  check(with("category", "toys"), "category");
  check(with("maker", ""), "maker");
  check(with("region", "4403"), "region");
  json b = heatPump();
  b["certification"].erase("certificate");
  check(b, "certification.certificate");
  b = heatPump();
  b["certification"]["valid_until"] = "2027-02-30";
  check(b, "certification.valid_until");
  b = heatPump();
  b["footprint"]["grams_per_unit"] = 1.5;
  check(b, "footprint.grams_per_unit");
  b = heatPump();
  b["footprint"].erase("source");
  check(b, "footprint.source");
  b = heatPump();
  b["kind"] = "technology";
  check(b, "certification");  // technologies are not certified as products
  check(with("article_id", "x"), "article_id");
}

TEST_F(ContentTest, CatalogueFiltersByCategoryRegionAndCertification) {
  CatalogueService catalogue(t_.db(), clock_);
  auto in = *catalogueInputFromJson(heatPump());
  EXPECT_EQ(catalogue.list(guangzhou_editor_, in).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(catalogue.list(resident_, in).error().code, ErrorCode::kForbidden);
  auto pump = catalogue.list(shenzhen_editor_, in);
  ASSERT_TRUE(pump.ok()) << pump.error().message;
  EXPECT_TRUE(pump->certified_today);
  EXPECT_EQ(pump->fields.footprint->grams_per_unit, Grams(412000000));
  // The same certificate cannot be listed twice.
  auto twice = catalogue.list(shenzhen_editor_, in);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().field, "certification.certificate");

  json expired = heatPump("440100");
  expired["name_zh"] = "LED 灯具";
  expired["category"] = "lighting";
  expired["certification"]["certificate"] = "CQC-LC-2024-0099";
  expired["certification"]["valid_until"] = "2026-02-28";  // the day before the test clock
  ASSERT_TRUE(catalogue.list(guangzhou_editor_, *catalogueInputFromJson(expired)).ok());
  json tech = {{"kind", "technology"},
               {"name_zh", "园区储能调峰"},
               {"maker", "某储能科技"},
               {"category", "energy_storage"},
               {"region", "440300"}};
  // Linking an article: only a published one of the same kind.
  auto article = publish("储能调峰技术", "削峰填谷");
  tech["article_id"] = article.id;
  EXPECT_EQ(catalogue.list(shenzhen_editor_, *catalogueInputFromJson(tech)).error().field,
            "article_id");  // a knowledge article
  tech.erase("article_id");
  auto storage = catalogue.list(shenzhen_editor_, *catalogueInputFromJson(tech));
  ASSERT_TRUE(storage.ok()) << storage.error().message;

  auto names = [&](CatalogueFilter f) {
    std::vector<std::string> out;
    auto r = catalogue.find(f);
    EXPECT_TRUE(r.ok()) << r.error().message;
    for (const auto& e : *r) out.push_back(e.fields.name_zh);
    return out;
  };
  using Names = std::vector<std::string>;
  // Certified first.
  EXPECT_EQ(names({}), (Names{"空气源热泵热水器", "LED 灯具", "园区储能调峰"}));
  EXPECT_EQ(names({.certified = true}), Names{"空气源热泵热水器"});
  EXPECT_EQ(names({.certified = false}), (Names{"LED 灯具", "园区储能调峰"}));
  EXPECT_EQ(names({.category = "lighting"}), Names{"LED 灯具"});
  EXPECT_EQ(names({.region = "440300"}), (Names{"空气源热泵热水器", "园区储能调峰"}));
  EXPECT_EQ(names({.kind = "technology"}), Names{"园区储能调峰"});
  EXPECT_EQ(catalogue.find({.category = "toys"}).error().field, "category");

  EXPECT_EQ(catalogue.withdraw(shenzhen_editor_, storage->id, " ").error().field, "reason");
  EXPECT_EQ(catalogue.withdraw(guangzhou_editor_, storage->id, "停产").error().code,
            ErrorCode::kForbidden);
  ASSERT_TRUE(catalogue.withdraw(shenzhen_editor_, storage->id, "停产").ok());
  EXPECT_EQ(names({.kind = "technology"}), Names{});
  EXPECT_EQ(
      catalogue.revise(shenzhen_editor_, storage->id, *catalogueInputFromJson(tech)).error().code,
      ErrorCode::kConflict);
}

}  // namespace
}  // namespace tph::content
