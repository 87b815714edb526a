// Feeds, sitemap, Open Graph and the official-account export: each document is parsed back with
// libxml2 and checked for the elements its format requires, with hostile titles escaped.

#include <gtest/gtest.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <functional>
#include <map>

#include "content/publishing.h"

namespace tph::content {
namespace {

constexpr const char* kBase = "https://tph.example.gov.cn";

Article article(std::int64_t id, const std::string& slug, const std::string& title,
                const std::string& kind = "knowledge") {
  Article a;
  a.id = id;
  a.slug = slug;
  a.kind = kind;
  a.region_code = "440300";
  a.state = "published";
  a.title_zh = title;
  a.body_md_zh = "乘坐**地铁**出行。\n\n![图](/media/covers/abc-400.jpg)";
  a.body_html_zh =
      "<p>乘坐<strong>地铁</strong>出行。</p>\n<p><img src=\"/media/covers/abc-400.jpg\" "
      "alt=\"图\" /></p>\n";
  a.tags = {"出行", "A&B"};
  a.cover_sha256 = std::string(64, 'a');
  a.created_at = a.updated_at = *parseIso8601("2026-03-02T08:00:00.000Z");
  a.published_at = *parseIso8601("2026-03-02T09:30:00Z");
  return a;
}

struct XmlDoc {
  explicit XmlDoc(const std::string& text)
      : doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "feed.xml", "UTF-8",
                          XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) {}
  ~XmlDoc() {
    if (doc) xmlFreeDoc(doc);
  }
  xmlDocPtr doc;
};

std::string name(xmlNodePtr node) {
  return reinterpret_cast<const char*>(node->name);
}

std::string text(xmlNodePtr node) {
  xmlChar* content = xmlNodeGetContent(node);
  std::string out = content ? reinterpret_cast<const char*>(content) : "";
  xmlFree(content);
  return out;
}

std::string attribute(xmlNodePtr node, const char* key) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(key));
  std::string out = value ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return out;
}

std::vector<xmlNodePtr> children(xmlNodePtr node, const std::string& wanted) {
  std::vector<xmlNodePtr> out;
  for (xmlNodePtr c = node->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && name(c) == wanted) out.push_back(c);
  }
  return out;
}

xmlNodePtr child(xmlNodePtr node, const std::string& wanted) {
  auto all = children(node, wanted);
  EXPECT_FALSE(all.empty()) << "<" << name(node) << "> has no <" << wanted << ">";
  return all.empty() ? nullptr : all.front();
}

TEST(Feeds, RssIsWellFormedWithTheRequiredElements) {
  std::vector<Article> articles = {article(2, "metro-tips", "地铁 <出行> & \"减碳\""),
                                   article(1, "recycling", "垃圾分类")};
  FeedScope scope{"knowledge", "440300", kBase,
                  std::string(kBase) + "/api/v1/content/feeds/rss?kind=knowledge&region=440300"};
  auto xml = rssFeed(articles, scope, *parseIso8601("2026-03-03T00:00:00Z"));
  XmlDoc parsed(xml);
  ASSERT_NE(parsed.doc, nullptr) << xml;
  xmlNodePtr rss = xmlDocGetRootElement(parsed.doc);
  EXPECT_EQ(name(rss), "rss");
  EXPECT_EQ(attribute(rss, "version"), "2.0");
  xmlNodePtr channel = child(rss, "channel");
  ASSERT_NE(channel, nullptr);
  for (const char* required : {"title", "link", "description"}) {
    ASSERT_NE(child(channel, required), nullptr);
  }
  EXPECT_EQ(text(child(channel, "link")), std::string(kBase) + "/");
  EXPECT_NE(text(child(channel, "title")).find("低碳知识"), std::string::npos);
  auto items = children(channel, "item");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(text(child(items[0], "title")), "地铁 <出行> & \"减碳\"");  // escaped, read back
  EXPECT_EQ(text(child(items[0], "link")), std::string(kBase) + "/articles/metro-tips");
  EXPECT_EQ(text(child(items[0], "guid")), std::string(kBase) + "/articles/metro-tips");
  EXPECT_EQ(text(child(items[0], "pubDate")), "Mon, 02 Mar 2026 09:30:00 GMT");
  EXPECT_EQ(text(child(items[0], "description")), "乘坐地铁出行。 图");
  EXPECT_EQ(children(items[0], "category").size(), 3u);
  EXPECT_EQ(attribute(child(items[0], "enclosure"), "url"),
            std::string(kBase) + "/media/covers/" + std::string(64, 'a') + "-1200.jpg");
}

TEST(Feeds, AtomIsWellFormedWithTheRequiredElements) {
  std::vector<Article> articles = {article(2, "metro-tips", "地铁 <script>x</script>")};
  FeedScope scope{"", "", kBase, std::string(kBase) + "/api/v1/content/feeds/atom"};
  auto xml = atomFeed(articles, scope, *parseIso8601("2026-03-03T00:00:00Z"));
  XmlDoc parsed(xml);
  ASSERT_NE(parsed.doc, nullptr) << xml;
  xmlNodePtr feed = xmlDocGetRootElement(parsed.doc);
  EXPECT_EQ(name(feed), "feed");
  ASSERT_NE(feed->ns, nullptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(feed->ns->href), "http://www.w3.org/2005/Atom");
  for (const char* required : {"id", "title", "updated", "author"}) {
    ASSERT_NE(child(feed, required), nullptr);
  }
  EXPECT_EQ(text(child(feed, "updated")), "2026-03-02T08:00:00.000Z");
  auto entries = children(feed, "entry");
  ASSERT_EQ(entries.size(), 1u);
  for (const char* required : {"id", "title", "updated", "link", "summary", "content"}) {
    ASSERT_NE(child(entries[0], required), nullptr);
  }
  EXPECT_EQ(text(child(entries[0], "title")), "地铁 <script>x</script>");
  EXPECT_EQ(attribute(child(entries[0], "content"), "type"), "html");
  EXPECT_NE(text(child(entries[0], "content")).find("<strong>地铁</strong>"), std::string::npos);
  // An empty feed is still valid and says when it was built.
  XmlDoc empty(atomFeed({}, scope, *parseIso8601("2026-03-03T00:00:00Z")));
  ASSERT_NE(empty.doc, nullptr);
  EXPECT_EQ(text(child(xmlDocGetRootElement(empty.doc), "updated")), "2026-03-03T00:00:00.000Z");
}

TEST(Feeds, SitemapListsEveryArticle) {
  std::vector<Article> articles = {article(2, "metro-tips", "地铁"),
                                   article(1, "recycling", "回收")};
  XmlDoc parsed(sitemapXml(articles, kBase));
  ASSERT_NE(parsed.doc, nullptr);
  xmlNodePtr urlset = xmlDocGetRootElement(parsed.doc);
  EXPECT_EQ(name(urlset), "urlset");
  auto urls = children(urlset, "url");
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(text(child(urls[1], "loc")), std::string(kBase) + "/articles/recycling");
  EXPECT_EQ(text(child(urls[1], "lastmod")), "2026-03-02T08:00:00.000Z");
}

TEST(OpenGraph, TagsAreCompleteAndEscaped) {
  auto a = article(7, "pv", "屋顶\"光伏\"<b>");
  a.summary_zh = "分布式 & 绿色";
  auto og = openGraph(a, kBase);
  EXPECT_EQ(og.url, std::string(kBase) + "/articles/pv");
  EXPECT_EQ(og.description, "分布式 & 绿色");
  EXPECT_EQ(og.section, "低碳知识");
  auto meta = openGraphMeta(og);
  EXPECT_NE(meta.find("<meta property=\"og:title\" content=\"屋顶&quot;光伏&quot;&lt;b&gt;\">"),
            std::string::npos)
      << meta;
  EXPECT_NE(
      meta.find("<meta property=\"og:image\" content=\"" + std::string(kBase) + "/media/covers/"),
      std::string::npos);
  EXPECT_NE(meta.find("content=\"A&amp;B\""), std::string::npos);
  auto page = sharePage(a, kBase);
  EXPECT_NE(page.find(meta), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
}

TEST(ExportHtml, IsSelfContainedWithInlineStylesAndAbsoluteImages) {
  auto a = article(3, "metro-tips", "地铁出行");
  a.body_html_zh +=
      "<h2>数据</h2>\n<table>\n<thead>\n<tr>\n<th>方式</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
      "<td>地铁</td>\n</tr>\n</tbody>\n</table>\n<blockquote>\n<p>引用</p>\n</blockquote>\n";
  auto html = exportHtml(a, kBase);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("class="), std::string::npos);
  EXPECT_EQ(html.find("src=\"/"), std::string::npos);  // every image absolute
  EXPECT_NE(html.find("src=\"" + std::string(kBase) + "/media/covers/abc-400.jpg\""),
            std::string::npos);
  // Every element of the body carries its own style.
  htmlDocPtr doc = htmlReadMemory(html.data(), static_cast<int>(html.size()), "export.html",
                                  "UTF-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
  ASSERT_NE(doc, nullptr);
  std::map<std::string, int> unstyled;
  std::function<void(xmlNodePtr)> walk = [&](xmlNodePtr node) {
    for (xmlNodePtr c = node->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      std::string n = name(c);
      bool structural = n == "html" || n == "head" || n == "meta" || n == "title" || n == "thead" ||
                        n == "tbody" || n == "tr";
      if (!structural && attribute(c, "style").empty()) ++unstyled[n];
      walk(c);
    }
  };
  walk(reinterpret_cast<xmlNodePtr>(doc));
  xmlFreeDoc(doc);
  EXPECT_TRUE(unstyled.empty()) << "unstyled: " << unstyled.begin()->first;
}

}  // namespace
}  // namespace tph::content
