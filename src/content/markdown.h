#pragma once
// Markdown to safe HTML: parsed by cmark-gfm (tables, strikethrough, autolinks), then an
// allow-list pass over the syntax tree before rendering — raw HTML is dropped, links keep only
// http, https and mailto targets, images only https or the platform's own /media/ paths — and
// rendered in cmark's safe mode as a second guard.

#include <string>
#include <string_view>

namespace tph::content {

struct RenderedMarkdown {
  std::string html;        //!< sanitised HTML fragment
  std::string plain_text;  //!< the text a reader sees, for search and summaries
  int removed_html = 0;    //!< raw HTML blocks and spans dropped
  int removed_links = 0;   //!< links and images whose target was refused (text kept)
};

//! True for a link target the site may point to: http, https or mailto.
bool isAllowedLinkUrl(std::string_view url);
//! True for an image source the site may load: https, or a path under /media/.
bool isAllowedImageUrl(std::string_view url);

RenderedMarkdown renderMarkdown(std::string_view markdown);

//! Escapes &, <, >, " and ' for HTML text and attribute values.
std::string escapeHtml(std::string_view text);

}  // namespace tph::content
