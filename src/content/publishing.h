#pragma once
// Published articles in the forms other systems read: RSS 2.0 and Atom 1.0 feeds, a sitemap,
// Open Graph tags (as data and as a shareable page for crawlers), and a self-contained HTML file
// with inline styles that pastes cleanly into an official-account (公众号) editor. Every link is
// absolute, under the site's public base URL.

#include <string>
#include <vector>

#include "content/content_service.h"

namespace tph::content {

inline constexpr int kFeedItems = 50;
inline constexpr int kSitemapUrls = 50'000;  //!< the sitemap protocol's limit per file

//! The kind's name in Chinese: "低碳知识", "资讯", "低碳产品", "低碳技术".
std::string kindTitle(const std::string& kind);

//! Where an article is read on the site: "<base>/articles/<slug>".
std::string articleUrl(const std::string& base_url, const Article& article);

struct FeedScope {
  std::string kind;    //!< "" for every kind
  std::string region;  //!< "" for the province
  std::string base_url;
  std::string self_url;  //!< the feed's own absolute URL
};

std::string rssFeed(const std::vector<Article>& articles, const FeedScope& scope, Instant now);
std::string atomFeed(const std::vector<Article>& articles, const FeedScope& scope, Instant now);
std::string sitemapXml(const std::vector<Article>& articles, const std::string& base_url);

struct OpenGraph {
  std::string title, description, url, image, type = "article", locale = "zh_CN", site_name,
                                              published_time, section;
  std::vector<std::string> tags;
};
OpenGraph openGraph(const Article& article, const std::string& base_url);
//! The <meta property="og:..."> tags, escaped, one a line.
std::string openGraphMeta(const OpenGraph& og);
//! A small page with the Open Graph tags and the article, for crawlers and shared links.
std::string sharePage(const Article& article, const std::string& base_url);
//! The article as one HTML file: inline styles only, absolute image URLs, no scripts or classes.
std::string exportHtml(const Article& article, const std::string& base_url);

}  // namespace tph::content
