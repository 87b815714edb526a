#include "content/publishing.h"

#include <map>

#include "content/markdown.h"
#include "content/search_snippet.h"
#include "core/clock.h"

namespace tph::content {

namespace {

constexpr const char* kSiteName = "广东碳普惠";
constexpr std::size_t kDescriptionChars = 120;

std::string x(std::string_view text) {
  return escapeHtml(text);
}

//! RFC 822 date for RSS: "Sun, 01 Mar 2026 00:00:00 GMT".
std::string rfc822(Instant t) {
  auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(t);
  std::time_t tt = std::chrono::system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string iso(Instant t) {
  return formatIso8601(t);
}

Instant publishedAt(const Article& a) {
  return a.published_at ? *a.published_at : a.updated_at;
}

//! The summary, or the text's first characters.
std::string description(const Article& a) {
  if (!a.summary_zh.empty()) return a.summary_zh;
  std::string text;
  for (char c : renderMarkdown(a.body_md_zh).plain_text) {
    bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!space) {
      text += c;
    } else if (!text.empty() && text.back() != ' ') {
      text += ' ';
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (utf8Length(text) <= kDescriptionChars) return text;
  std::size_t pos = 0, chars = 0;
  while (pos < text.size() && chars < kDescriptionChars) {
    ++pos;
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xc0) == 0x80) ++pos;
    ++chars;
  }
  return text.substr(0, pos) + "…";
}

std::string feedTitle(const FeedScope& scope) {
  std::string title = kSiteName;
  if (!scope.kind.empty()) title += " · " + kindTitle(scope.kind);
  if (!scope.region.empty()) title += " · " + scope.region;
  return title;
}

std::string coverUrl(const Article& a, const std::string& base_url, int width) {
  return a.cover_sha256.empty() ? "" : base_url + coverPath(a.cover_sha256, width);
}

//! Styles for each element the sanitiser lets through, for editors that drop <style> and classes.
const std::map<std::string, std::string>& inlineStyles() {
  static const std::map<std::string, std::string> styles = {
      {"h1", "font-size:22px;font-weight:bold;margin:24px 0 12px;color:#1f2d3d;"},
      {"h2", "font-size:19px;font-weight:bold;margin:22px 0 10px;color:#1f6f43;"},
      {"h3", "font-size:17px;font-weight:bold;margin:20px 0 8px;color:#1f6f43;"},
      {"h4", "font-size:16px;font-weight:bold;margin:16px 0 8px;"},
      {"h5", "font-size:15px;font-weight:bold;margin:14px 0 6px;"},
      {"h6", "font-size:15px;font-weight:bold;margin:14px 0 6px;color:#666;"},
      {"p", "font-size:16px;line-height:1.8;margin:0 0 16px;color:#333;text-align:justify;"},
      {"a", "color:#1f6f43;text-decoration:underline;"},
      {"strong", "font-weight:bold;color:#1f2d3d;"},
      {"em", "font-style:italic;"},
      {"del", "text-decoration:line-through;color:#999;"},
      {"blockquote",
       "margin:0 0 16px;padding:8px 16px;border-left:4px solid #7cc49a;background:#f3faf5;"
       "color:#555;"},
      {"ul", "margin:0 0 16px;padding-left:24px;"},
      {"ol", "margin:0 0 16px;padding-left:24px;"},
      {"li", "font-size:16px;line-height:1.8;margin:4px 0;color:#333;"},
      {"code",
       "font-family:Menlo,Consolas,monospace;font-size:14px;background:#f5f5f5;padding:2px 4px;"
       "border-radius:3px;"},
      {"pre",
       "margin:0 0 16px;padding:12px;background:#f5f5f5;border-radius:4px;overflow-x:auto;"
       "white-space:pre-wrap;"},
      {"img", "display:block;max-width:100%;height:auto;margin:12px auto;"},
      {"table", "width:100%;border-collapse:collapse;margin:0 0 16px;font-size:14px;"},
      {"th", "border:1px solid #cfd8d3;padding:6px 8px;background:#eef6f1;font-weight:bold;"},
      {"td", "border:1px solid #cfd8d3;padding:6px 8px;"},
      {"hr", "border:none;border-top:1px solid #ddd;margin:24px 0;"},
  };
  return styles;
}

//! Adds style="..." to every opening tag and makes /media/ sources absolute. The input is the
//! sanitiser's output, where '<' always opens a tag and attributes are double-quoted.
std::string inlineStyled(const std::string& html, const std::string& base_url) {
  std::string out;
  std::size_t pos = 0;
  while (pos < html.size()) {
    auto lt = html.find('<', pos);
    if (lt == std::string::npos) {
      out.append(html, pos);
      break;
    }
    out.append(html, pos, lt - pos);
    auto gt = html.find('>', lt);
    if (gt == std::string::npos) break;
    std::string tag = html.substr(lt, gt - lt + 1);
    pos = gt + 1;
    if (tag.size() > 1 && tag[1] != '/') {
      auto name_end = tag.find_first_of(" />", 1);
      std::string name = tag.substr(1, name_end - 1);
      auto it = inlineStyles().find(name);
      if (it != inlineStyles().end()) {
        tag.insert(name_end, " style=\"" + it->second + "\"");
      }
      std::string relative = "src=\"/media/";
      if (auto src = tag.find(relative); src != std::string::npos) {
        tag.insert(src + 5, base_url);
      }
      // th/td alignment from tables arrives as an attribute the editors keep.
    }
    out += tag;
  }
  return out;
}

}  // namespace

std::string kindTitle(const std::string& kind) {
  if (kind == "knowledge") return "低碳知识";
  if (kind == "news") return "资讯";
  if (kind == "product") return "低碳产品";
  if (kind == "technology") return "低碳技术";
  return kind;
}

std::string articleUrl(const std::string& base_url, const Article& article) {
  return base_url + "/articles/" + article.slug;
}

std::string rssFeed(const std::vector<Article>& articles, const FeedScope& scope, Instant now) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n";
  out += "<title>" + x(feedTitle(scope)) + "</title>\n";
  out += "<link>" + x(scope.base_url + "/") + "</link>\n";
  out +=
      "<description>" + x(feedTitle(scope) + "：低碳知识、资讯、产品与技术") + "</description>\n";
  out += "<language>zh-cn</language>\n";
  out += "<lastBuildDate>" + rfc822(articles.empty() ? now : publishedAt(articles.front())) +
         "</lastBuildDate>\n";
  out +=
      "<atom:link href=\"" + x(scope.self_url) + "\" rel=\"self\" type=\"application/rss+xml\"/>\n";
  for (const auto& a : articles) {
    out += "<item>\n";
    out += "<title>" + x(a.title_zh) + "</title>\n";
    out += "<link>" + x(articleUrl(scope.base_url, a)) + "</link>\n";
    out += "<guid isPermaLink=\"true\">" + x(articleUrl(scope.base_url, a)) + "</guid>\n";
    out += "<pubDate>" + rfc822(publishedAt(a)) + "</pubDate>\n";
    out += "<category>" + x(kindTitle(a.kind)) + "</category>\n";
    for (const auto& tag : a.tags) out += "<category>" + x(tag) + "</category>\n";
    out += "<description>" + x(description(a)) + "</description>\n";
    if (!a.cover_sha256.empty()) {
      out += "<enclosure url=\"" + x(coverUrl(a, scope.base_url, 1200)) +
             "\" type=\"image/jpeg\" length=\"0\"/>\n";
    }
    out += "</item>\n";
  }
  out += "</channel>\n</rss>\n";
  return out;
}

std::string atomFeed(const std::vector<Article>& articles, const FeedScope& scope, Instant now) {
  Instant updated = now;
  if (!articles.empty()) {
    updated = articles.front().updated_at;
    for (const auto& a : articles) updated = std::max(updated, a.updated_at);
  }
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n";
  out += "<id>" + x(scope.self_url) + "</id>\n";
  out += "<title>" + x(feedTitle(scope)) + "</title>\n";
  out += "<updated>" + iso(updated) + "</updated>\n";
  out += "<link rel=\"self\" type=\"application/atom+xml\" href=\"" + x(scope.self_url) + "\"/>\n";
  out += "<link rel=\"alternate\" type=\"text/html\" href=\"" + x(scope.base_url + "/") + "\"/>\n";
  out += "<author><name>" + x(std::string(kSiteName)) + "</name></author>\n";
  for (const auto& a : articles) {
    out += "<entry>\n";
    out += "<id>" + x(articleUrl(scope.base_url, a)) + "</id>\n";
    out += "<title>" + x(a.title_zh) + "</title>\n";
    out += "<link rel=\"alternate\" type=\"text/html\" href=\"" + x(articleUrl(scope.base_url, a)) +
           "\"/>\n";
    out += "<published>" + iso(publishedAt(a)) + "</published>\n";
    out += "<updated>" + iso(a.updated_at) + "</updated>\n";
    out += "<category term=\"" + x(a.kind) + "\" label=\"" + x(kindTitle(a.kind)) + "\"/>\n";
    out += "<summary>" + x(description(a)) + "</summary>\n";
    out += "<content type=\"html\">" + x(a.body_html_zh) + "</content>\n";
    out += "</entry>\n";
  }
  out += "</feed>\n";
  return out;
}

std::string sitemapXml(const std::vector<Article>& articles, const std::string& base_url) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
  for (const auto& a : articles) {
    out += "<url><loc>" + x(articleUrl(base_url, a)) + "</loc><lastmod>" + iso(a.updated_at) +
           "</lastmod></url>\n";
  }
  out += "</urlset>\n";
  return out;
}

OpenGraph openGraph(const Article& a, const std::string& base_url) {
  OpenGraph og;
  og.title = a.title_zh;
  og.description = description(a);
  og.url = articleUrl(base_url, a);
  og.image = coverUrl(a, base_url, 1200);
  og.site_name = kSiteName;
  og.published_time = a.published_at ? iso(*a.published_at) : "";
  og.section = kindTitle(a.kind);
  og.tags = a.tags;
  return og;
}

std::string openGraphMeta(const OpenGraph& og) {
  std::string out;
  auto meta = [&](const std::string& property, const std::string& content) {
    if (!content.empty()) {
      out += "<meta property=\"" + property + "\" content=\"" + x(content) + "\">\n";
    }
  };
  meta("og:type", og.type);
  meta("og:title", og.title);
  meta("og:description", og.description);
  meta("og:url", og.url);
  meta("og:image", og.image);
  meta("og:locale", og.locale);
  meta("og:site_name", og.site_name);
  meta("article:published_time", og.published_time);
  meta("article:section", og.section);
  for (const auto& tag : og.tags) meta("article:tag", tag);
  return out;
}

std::string sharePage(const Article& a, const std::string& base_url) {
  auto og = openGraph(a, base_url);
  std::string out = "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + x(a.title_zh) + " - " + kSiteName + "</title>\n";
  out += "<meta name=\"description\" content=\"" + x(og.description) + "\">\n";
  out += "<link rel=\"canonical\" href=\"" + x(og.url) + "\">\n";
  out += openGraphMeta(og);
  out += "</head>\n<body>\n<article>\n<h1>" + x(a.title_zh) + "</h1>\n";
  out += a.body_html_zh;
  out += "</article>\n<p><a href=\"" + x(og.url) + "\">" + x(std::string(kSiteName)) +
         "</a></p>\n</body>\n</html>\n";
  return out;
}

std::string exportHtml(const Article& a, const std::string& base_url) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>" + x(a.title_zh) + "</title>\n</head>\n<body style=\"margin:0;padding:0;\">\n";
  out +=
      "<section style=\"max-width:677px;margin:0 auto;padding:16px;font-family:-apple-system,"
      "'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;\">\n";
  out +=
      "<h1 style=\"font-size:22px;font-weight:bold;line-height:1.4;margin:0 0 8px;color:#1f2d3d;"
      "\">" +
      x(a.title_zh) + "</h1>\n";
  std::string byline = kindTitle(a.kind);
  if (a.published_at) byline += " · " + shanghaiDay(*a.published_at);
  out += "<p style=\"font-size:13px;color:#888;margin:0 0 16px;\">" + x(byline) + "</p>\n";
  if (!a.cover_sha256.empty()) {
    out += "<img src=\"" + x(coverUrl(a, base_url, 1200)) + "\" alt=\"" + x(a.title_zh) +
           "\" style=\"display:block;width:100%;height:auto;margin:0 0 16px;\">\n";
  }
  if (!a.summary_zh.empty()) {
    out +=
        "<p style=\"font-size:15px;line-height:1.7;margin:0 0 16px;padding:10px 14px;"
        "background:#f3faf5;border-left:4px solid #7cc49a;color:#555;\">" +
        x(a.summary_zh) + "</p>\n";
  }
  out += inlineStyled(a.body_html_zh, base_url);
  out += "<p style=\"font-size:13px;color:#888;margin:24px 0 0;\">原文：<a href=\"" +
         x(articleUrl(base_url, a)) + "\" style=\"color:#1f6f43;\">" + x(articleUrl(base_url, a)) +
         "</a></p>\n";
  out += "</section>\n</body>\n</html>\n";
  return out;
}

}  // namespace tph::content
