#include "content/markdown.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace tph::content {

namespace {

// Extensions that only change Markdown syntax; none lets raw HTML or attributes through.
constexpr const char* kExtensions[] = {"table", "strikethrough", "autolink"};

void ensureExtensions() {
  static std::once_flag once;
  std::call_once(once, [] { cmark_gfm_core_extensions_ensure_registered(); });
}

//! The URL's scheme in lower case, or "" when it has none. Control characters and spaces before
//! the colon (browsers skip some of them: "java\tscript:") make the URL unusable, reported as
//! the scheme "!".
std::string schemeOf(std::string_view url) {
  auto colon = url.find(':');
  auto stop = url.find_first_of("/?#");
  if (colon == std::string_view::npos || (stop != std::string_view::npos && stop < colon)) {
    return "";
  }
  std::string scheme;
  for (char c : url.substr(0, colon)) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '+' || c == '-' || c == '.')) return "!";
    scheme += static_cast<char>(std::tolower(u));
  }
  return scheme.empty() ? "!" : scheme;
}

bool hasControlCharacter(std::string_view url) {
  return std::any_of(url.begin(), url.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

struct CharDeleter {
  void operator()(char* p) const { std::free(p); }
};
using CmarkText = std::unique_ptr<char, CharDeleter>;

//! Moves every child of `node` in front of it, then frees `node`: the text stays, the element
//! goes.
void unwrap(cmark_node* node) {
  while (cmark_node* child = cmark_node_first_child(node)) {
    cmark_node_unlink(child);
    cmark_node_insert_before(node, child);
  }
  cmark_node_free(node);
}

}  // namespace

bool isAllowedLinkUrl(std::string_view url) {
  if (url.empty() || hasControlCharacter(url)) return false;
  auto scheme = schemeOf(url);
  if (scheme == "mailto") return url.size() > 7;
  if (scheme != "http" && scheme != "https") return false;
  auto rest = url.substr(scheme.size() + 1);
  return rest.size() > 2 && rest.substr(0, 2) == "//";
}

bool isAllowedImageUrl(std::string_view url) {
  if (url.empty() || hasControlCharacter(url)) return false;
  if (url.substr(0, 7) == "/media/") {
    return url.find("..") == std::string_view::npos && url.find('\\') == std::string_view::npos;
  }
  auto scheme = schemeOf(url);
  return scheme == "https" && url.size() > 8 && url.substr(6, 2) == "//";
}

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

RenderedMarkdown renderMarkdown(std::string_view markdown) {
  ensureExtensions();
  // Safe mode is cmark's default (no CMARK_OPT_UNSAFE): raw HTML and dangerous URLs are
  // suppressed by the renderer too, should the pass below ever miss one.
  const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
  std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(cmark_parser_new(options),
                                                                     &cmark_parser_free);
  for (const char* name : kExtensions) {
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name)) {
      cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, decltype(&cmark_node_free)> doc(cmark_parser_finish(parser.get()),
                                                              &cmark_node_free);

  RenderedMarkdown out;
  // Collected first and changed after: the iterator must not see nodes disappear under it.
  std::vector<cmark_node*> refused;
  {
    std::unique_ptr<cmark_iter, decltype(&cmark_iter_free)> iter(cmark_iter_new(doc.get()),
                                                                 &cmark_iter_free);
    cmark_event_type event;
    while ((event = cmark_iter_next(iter.get())) != CMARK_EVENT_DONE) {
      if (event != CMARK_EVENT_ENTER) continue;
      cmark_node* node = cmark_iter_get_node(iter.get());
      switch (cmark_node_get_type(node)) {
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_HTML_INLINE:
          refused.push_back(node);
          ++out.removed_html;
          break;
        case CMARK_NODE_LINK: {
          const char* url = cmark_node_get_url(node);
          if (!isAllowedLinkUrl(url ? url : "")) {
            refused.push_back(node);
            ++out.removed_links;
          }
          break;
        }
        case CMARK_NODE_IMAGE: {
          const char* url = cmark_node_get_url(node);
          if (!isAllowedImageUrl(url ? url : "")) {
            refused.push_back(node);
            ++out.removed_links;
          }
          break;
        }
        default:
          break;
      }
    }
  }
  // Document order: a link is unwrapped before the nodes inside it, which by then sit beside it.
  for (cmark_node* node : refused) {
    auto type = cmark_node_get_type(node);
    if (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE) {
      cmark_node_unlink(node);
      cmark_node_free(node);
    } else {
      unwrap(node);  // a refused image keeps its alt text, a refused link its text
    }
  }

  CmarkText html(
      cmark_render_html(doc.get(), options, cmark_parser_get_syntax_extensions(parser.get())));
  CmarkText text(cmark_render_plaintext(doc.get(), options, 0));
  out.html = html ? html.get() : "";
  out.plain_text = text ? text.get() : "";
  return out;
}

}  // namespace tph::content
